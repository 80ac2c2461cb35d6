// ws and wss listeners with the `mqtt` package (and the `ws` client for the handshake details).
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {get} from 'node:http'
import {after, before, describe, test} from 'node:test'
import type {MqttClient} from 'mqtt'
import WebSocket from 'ws'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import {encodePacket} from '../../src/codec/index.js'
import {makeTestPki, type TestPki} from '../helpers/certs.js'
import {listenerFor, roundTrip, tryConnect} from '../helpers/listeners.js'

describe('WebSocket listeners', () => {
  let pki: TestPki
  let broker: Broker
  let wsUrl: string
  let wsPort: number
  let wssUrl: string
  const clients: MqttClient[] = []
  const closers: Array<() => Promise<void>> = []

  before(async () => {
    pki = makeTestPki()
    broker = createBroker()
    const ws = await listenerFor(broker, {protocol: 'ws', port: 0})
    const wss = await listenerFor(broker, {protocol: 'wss', port: 0, tls: {cert: pki.server.cert, key: pki.server.key}})
    closers.push(() => ws.listener.close(), () => wss.listener.close())
    wsPort = ws.listener.address().port
    wsUrl = `ws://127.0.0.1:${wsPort}/mqtt`
    wssUrl = `wss://localhost:${wss.listener.address().port}/mqtt`
    assert.equal(ws.listener.url, wsUrl)
  })
  after(async () => {
    for (const c of clients) c.end(true)
    await broker.close()
    for (const close of closers) await close()
    pki.remove()
  })

  async function connected(url: string, options: Record<string, unknown> = {}): Promise<MqttClient> {
    const a = await tryConnect(url, options)
    assert.ok(a.ok, `connection refused: ${!a.ok && a.error?.message}`)
    clients.push(a.client)
    return a.client
  }

  for (const protocolVersion of [4, 5] as const) {
    test(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'} over ws: publish and subscribe, with TCP-level clients mixed in`, async () => {
      const sub = await connected(wsUrl, {protocolVersion, clientId: `ws-sub-${protocolVersion}`})
      const pub = await connected(wsUrl, {protocolVersion, clientId: `ws-pub-${protocolVersion}`})
      assert.equal(await roundTrip(sub, pub, `ws/${protocolVersion}`, 'over ws'), 'over ws')
    })

    test(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'} over wss`, async () => {
      const sub = await connected(wssUrl, {protocolVersion, ca: pki.ca.cert, clientId: `wss-sub-${protocolVersion}`})
      const pub = await connected(wsUrl, {protocolVersion, clientId: `wss-pub-${protocolVersion}`})
      assert.equal(await roundTrip(sub, pub, `wss/${protocolVersion}`, 'over wss'), 'over wss')
    })
  }

  test('the mqtt subprotocol is selected; mqttv3.1 too; a client offering neither gets none', async () => {
    for (const [offered, chosen] of [[['mqtt'], 'mqtt'], [['foo', 'mqttv3.1'], 'mqttv3.1'], [['foo'], '']] as const) {
      const ws = new WebSocket(wsUrl, [...offered])
      const err = once(ws, 'error').then(([e]) => e as Error)
      const open = once(ws, 'open').then(() => undefined)
      const failure = await Promise.race([err, open])
      if (chosen === '') {
        assert.match(String(failure), /no subprotocol/)
      } else {
        assert.equal(failure, undefined)
        assert.equal(ws.protocol, chosen)
        ws.terminate()
      }
    }
  })

  test('another path is refused with 404; a plain HTTP request gets 426', async () => {
    const a = await tryConnect(`ws://127.0.0.1:${wsPort}/other`)
    assert.equal(a.ok, false)
    const status = await new Promise<number | undefined>((resolve) => get(`http://127.0.0.1:${wsPort}/mqtt`, (res) => { res.resume(); resolve(res.statusCode) }))
    assert.equal(status, 426)
  })

  test('a path of * accepts any path', async () => {
    const any = await listenerFor(broker, {protocol: 'ws', port: 0, path: '*'})
    closers.push(() => any.listener.close())
    await connected(`ws://127.0.0.1:${any.listener.address().port}/whatever`)
  })

  test('MQTT in a text frame closes the connection [MQTT-6.0.0-1]', async () => {
    const ws = new WebSocket(wsUrl, ['mqtt'])
    await once(ws, 'open')
    ws.send(encodePacket({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'text', clean: true, keepalive: 0}, 4).toString('latin1'))
    const [code] = await once(ws, 'close')
    assert.equal(code, 1003)
  })

  test('wss with mutual TLS: the certificate identity reaches the engine; no certificate is refused', async () => {
    const l = await listenerFor(broker, {protocol: 'wss', port: 0, tls: {cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requireCertificate: true, useIdentityAsUsername: true}})
    closers.push(() => l.listener.close())
    const url = `wss://localhost:${l.listener.address().port}/mqtt`
    await connected(url, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, protocolVersion: 5})
    assert.equal(l.accepted.at(-1)!.username, 'alice')
    const refused = await tryConnect(url, {ca: pki.ca.cert, protocolVersion: 5})
    assert.equal(refused.ok, false)
    const expired = await tryConnect(url, {ca: pki.ca.cert, cert: pki.expiredClient.cert, key: pki.expiredClient.key, protocolVersion: 5})
    assert.equal(expired.ok, false)
    assert.equal(l.accepted.length, 1)
  })

  test('max_connections on a ws listener: v5 gets CONNACK 0x97', async () => {
    const l = await listenerFor(broker, {protocol: 'ws', port: 0, maxConnections: 1})
    closers.push(() => l.listener.close())
    const url = `ws://127.0.0.1:${l.listener.address().port}/mqtt`
    await connected(url, {clientId: 'only-one'})
    const second = await tryConnect(url, {clientId: 'one-too-many', protocolVersion: 5})
    assert.equal(second.ok === false && second.error?.code, 0x97)
  })
})
