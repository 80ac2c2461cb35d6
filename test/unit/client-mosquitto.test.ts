// The client against Debian's real mosquitto: every protocol version and transport.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {connect, ConnectError, ConnectionRefusedError, type ClientOptions, type Message} from '../../src/client/index.js'
import {freePort, hasMosquitto, startMosquitto, type Mosquitto} from '../helpers/mosquitto.js'

async function roundTrip(pubOptions: ClientOptions, subOptions: ClientOptions, topic: string): Promise<Message[]> {
  const sub = await connect(subOptions)
  const got: Message[] = []
  const three = new Promise<void>((resolve) => sub.onMessage((m) => { got.push(m); if (got.length === 3) resolve() }))
  const {granted} = await sub.subscribe([{topic, qos: 2}])
  assert.deepEqual(granted, [2])
  const pub = await connect(pubOptions)
  for (const qos of [0, 1, 2] as const) {
    const ack = await pub.publish(topic, `q${qos}`, {qos})
    assert.equal(ack.reasonCode, 0)
  }
  await three
  await pub.disconnect()
  await sub.disconnect()
  return got
}

describe('client against mosquitto', {skip: !hasMosquitto()}, () => {
  let broker: Mosquitto
  before(async () => { broker = await startMosquitto({unixSocket: true, tls: true, websocket: true}) })
  after(async () => { await broker.stop() })

  for (const protocolVersion of [3, 4, 5] as const) {
    it(`v${protocolVersion}: QoS 0, 1 and 2 round trip in order`, async () => {
      const o = {host: broker.host, port: broker.port, protocolVersion}
      const got = await roundTrip(o, o, `rt/${protocolVersion}`)
      assert.deepEqual(got.map((m) => [m.payload.toString(), m.qos]), [['q0', 0], ['q1', 1], ['q2', 2]])
    })
  }

  it('v5: the broker assigns a client id; properties travel', async () => {
    const sub = await connect({url: broker.url})
    assert.match(sub.clientId, /./)
    const it = sub.messages()
    await sub.subscribe([{topic: 'props'}])
    const pub = await connect({url: broker.url})
    await pub.publish('props', 'x', {properties: {contentType: 'text/plain', userProperties: {a: '1'}}})
    const m = (await it.next()).value as Message
    assert.equal(m.properties?.contentType, 'text/plain')
    assert.deepEqual({...m.properties?.userProperties}, {a: '1'})
    await pub.disconnect()
    await sub.disconnect()
  })

  it('unix socket, TLS and WebSocket transports', async () => {
    const ca = readFileSync(broker.caFile!)
    const targets: ClientOptions[] = [
      {socketPath: broker.socketPath},
      {url: `mqtts://localhost:${broker.tlsPort}`, tls: {ca}},
      {url: `ws://127.0.0.1:${broker.wsPort}/mqtt`},
    ]
    for (const target of targets) {
      const got = await roundTrip(target, {url: broker.url}, 'transport')
      assert.equal(got.length, 3, JSON.stringify(target))
    }
  })

  it('TLS with an unknown CA fails with a one-line ConnectError', async () => {
    await assert.rejects(connect({url: `mqtts://localhost:${broker.tlsPort}`}), (e: Error) => e instanceof ConnectError && !e.message.includes('\n'))
  })

  it('unreachable port: ConnectError "connection refused"', async () => {
    const port = await freePort()
    await assert.rejects(connect({port, host: '127.0.0.1'}), (e: Error) => e instanceof ConnectError && e.message === `cannot connect to 127.0.0.1:${port}: connection refused`)
  })

  it('the will is published when the connection drops', async () => {
    const sub = await connect({url: broker.url})
    const it = sub.messages()
    await sub.subscribe([{topic: 'will/#'}])
    const victim = await connect({url: broker.url, will: {topic: 'will/x', payload: 'bye'}})
    victim.destroy()
    const m = (await it.next()).value as Message
    assert.equal(m.payload.toString(), 'bye')
    await sub.disconnect()
  })

  it('10k QoS 1 publishes pipelined through the window arrive complete and in order', async () => {
    const sub = await connect({url: broker.url})
    const got: string[] = []
    const all = new Promise<void>((resolve) => sub.onMessage((m) => { got.push(m.payload.toString()); if (got.length === 10_000) resolve() }))
    await sub.subscribe([{topic: 'bulk', qos: 1}])
    const pub = await connect({url: broker.url})
    const acks = []
    for (let i = 0; i < 10_000; i++) acks.push(pub.publish('bulk', String(i), {qos: 1}))
    await Promise.all(acks)
    await all
    assert.deepEqual(got, Array.from({length: 10_000}, (_, i) => String(i)))
    await pub.disconnect()
    await sub.disconnect()
  })
})

describe('client refusals against mosquitto', {skip: !hasMosquitto()}, () => {
  let broker: Mosquitto
  before(async () => { broker = await startMosquitto({users: {alice: 'secret'}}) })
  after(async () => { await broker.stop() })

  for (const [protocolVersion, code] of [[5, 0x87], [4, 5]] as const) {
    it(`v${protocolVersion}: bad password is refused with code ${code}`, async () => {
      await assert.rejects(connect({url: broker.url, protocolVersion, username: 'alice', password: 'wrong'}),
        (e: Error) => e instanceof ConnectionRefusedError && e.reasonCode === code)
    })
  }

  it('good password connects', async () => {
    const c = await connect({url: `mqtt://alice:secret@127.0.0.1:${broker.port}`})
    await c.disconnect()
  })
})
