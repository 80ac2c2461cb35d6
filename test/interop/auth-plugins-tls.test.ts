// An mqtts listener (certificates made with openssl) in front of the engine with the HTTP backend loaded
// as a plugin: the service is told the subject of a client certificate the handshake verified, and
// nothing for a client without one (a plain listener of the same broker). mqtt.js is the client.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, test} from 'node:test'
import {createBroker} from '../../src/broker/broker.js'
import {createPluginChain} from '../../src/broker/auth/plugins/chain.js'
import {loadPlugin} from '../../src/broker/auth/plugins/loader.js'
import {silentLogger} from '../../src/broker/logger.js'
import {makeTestPki} from '../helpers/certs.js'
import {tryConnect} from '../helpers/listeners.js'

test('the HTTP backend is sent the verified client certificate\'s subject', async () => {
  const pki = makeTestPki()
  after(() => pki.remove())
  const bodies: Array<Record<string, unknown>> = []
  const service = createServer((req, res) => {
    let text = ''
    req.setEncoding('utf8').on('data', (d: string) => { text += d }).on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>)
      res.writeHead(200).end()
    })
  })
  service.listen(0, '127.0.0.1')
  await once(service, 'listening')
  after(() => { service.closeAllConnections(); service.close() })

  const url = `http://127.0.0.1:${(service.address() as AddressInfo).port}/auth`
  const plugin = await loadPlugin({module: 'midge:http', options: {url}, origin: 'test'}, {logger: silentLogger, timeoutMs: 5000})
  const chain = createPluginChain({plugins: [plugin], passwordFile: false, allowAnonymous: false, timeoutMs: 5000, logger: silentLogger})
  const broker = createBroker({auth: chain.hooks})
  after(async () => { await broker.close(); await chain.stop() })
  const {port} = await broker.listen({protocol: 'mqtts', port: 0, tls: {cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requireCertificate: true}})
  const plain = await broker.listen({protocol: 'mqtt', port: 0})

  const withCert = await tryConnect(`mqtts://localhost:${port}`, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, clientId: 'with-cert', username: 'alice', password: 'pw'})
  assert.ok(withCert.ok)
  withCert.client.end(true)
  const without = await tryConnect(`mqtt://127.0.0.1:${plain.port}`, {clientId: 'without', username: 'bob', password: 'pw'})
  assert.ok(without.ok)
  without.client.end(true)
  const subjects = Object.fromEntries(bodies.filter((b) => b.action === 'connect').map((b) => [b.clientid, b.cert_subject]))
  assert.deepEqual(subjects, {'with-cert': 'CN=alice,OU=dev,O=Example Org,C=GB', without: null})
})
