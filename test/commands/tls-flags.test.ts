// --tls-alpn and --tls-use-os-certs (pub, sub, rr): a real TLS server on a free port that records the
// negotiated ALPN protocol and hands the socket to an in-process midge broker.
import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import type {AddressInfo} from 'node:net'
import {createServer, type Server, type TLSSocket} from 'node:tls'
import {after, before, describe, it} from 'node:test'
import {createBroker, type Broker} from '../../src/index.js'
import {makeTestPki, type TestPki} from '../helpers/certs.js'
import {runMidge} from '../helpers/cli.js'

describe('TLS flags', () => {
  let pki: TestPki
  let broker: Broker
  let server: Server
  let port: number
  const negotiated: Array<string | false | null> = []

  before(async () => {
    pki = makeTestPki()
    broker = createBroker()
    server = createServer({key: pki.server.key, cert: pki.server.cert, ALPNProtocols: ['mqtt', 'x-other']}, (socket: TLSSocket) => {
      negotiated.push(socket.alpnProtocol)
      broker.handle(socket, socket.remoteAddress)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await broker.close()
    rmSync(pki.dir, {recursive: true, force: true})
  })
  const tls = () => ['-h', 'localhost', '-p', String(port), '--cafile', pki.ca.certPath]

  it('--tls-alpn offers the protocol in the handshake; without it none is negotiated', async () => {
    const withAlpn = await runMidge(['pub', ...tls(), '--tls-alpn', 'mqtt', '-t', 'a', '-m', 'x', '-q', '1'])
    assert.equal(withAlpn.code, 0, withAlpn.stderr)
    assert.equal(negotiated.at(-1), 'mqtt')
    const other = await runMidge(['sub', ...tls(), '--tls-alpn', 'x-other', '-t', 'a', '-E'])
    assert.equal(other.code, 0, other.stderr)
    assert.equal(negotiated.at(-1), 'x-other')
    const without = await runMidge(['pub', ...tls(), '-t', 'a', '-m', 'x'])
    assert.equal(without.code, 0, without.stderr)
    assert.equal(negotiated.at(-1), false)
  })

  it('--tls-use-os-certs: the public CAs do not vouch for our test CA (exit 11); with --cafile both are trusted', async () => {
    const alone = await runMidge(['pub', '-h', 'localhost', '-p', String(port), '--tls-use-os-certs', '-t', 'a', '-m', 'x'])
    assert.equal(alone.code, 11, alone.stderr)
    assert.match(alone.stderr, /^midge pub: cannot connect to localhost:\d+: .+\n$/)
    const both = await runMidge(['pub', ...tls(), '--tls-use-os-certs', '-t', 'a', '-m', 'x'])
    assert.equal(both.code, 0, both.stderr)
  })
})
