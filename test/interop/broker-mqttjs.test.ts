// Interop: the `mqtt` npm package (a client we did not write) against the midge broker over TCP.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import mqtt, {type IClientOptions, type MqttClient} from 'mqtt'
import {createBroker, type Broker} from '../../src/index.js'
import {engineOf} from '../../src/broker/internal.js'

const VERSIONS = [4, 5] as const

/** The arguments of the next `event` from an mqtt.js client (its emitter is typed, so events.once does not fit). */
function next(c: MqttClient, event: string): Promise<any[]> {
  return new Promise((resolve) => (c as unknown as NodeJS.EventEmitter).once(event, (...args: unknown[]) => resolve(args)))
}

describe('mqtt.js client against the midge broker', () => {
  let broker: Broker
  let url: string
  const clients: MqttClient[] = []

  before(async () => {
    broker = createBroker()
    const {port} = await broker.listen({port: 0})
    url = `mqtt://127.0.0.1:${port}`
  })
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
    await broker.close()
  })

  async function client(options: IClientOptions): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url, {reconnectPeriod: 0, connectTimeout: 5000, ...options})
    clients.push(c)
    return c
  }

  function nextMessage(c: MqttClient): Promise<{topic: string; payload: Buffer; packet: mqtt.IPublishPacket}> {
    return new Promise((resolve) => c.once('message', (topic, payload, packet) => resolve({topic, payload, packet})))
  }

  for (const protocolVersion of VERSIONS) {
    describe(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}`, () => {
      for (const qos of [0, 1, 2] as const) {
        test(`QoS ${qos} publish and subscribe`, async () => {
          const sub = await client({protocolVersion, clientId: `sub-q${qos}-v${protocolVersion}`})
          const pub = await client({protocolVersion, clientId: `pub-q${qos}-v${protocolVersion}`})
          const granted = await sub.subscribeAsync(`interop/q${qos}/${protocolVersion}`, {qos})
          assert.equal(granted[0].qos, qos)
          const got = nextMessage(sub)
          await pub.publishAsync(`interop/q${qos}/${protocolVersion}`, `hello ${qos}`, {qos})
          const m = await got
          assert.equal(m.topic, `interop/q${qos}/${protocolVersion}`)
          assert.equal(m.payload.toString(), `hello ${qos}`)
          assert.equal(m.packet.qos, qos)
        })
      }

      test('retained message reaches a later subscriber with the retain flag, and an empty payload clears it', async () => {
        const topic = `interop/retained/${protocolVersion}`
        const pub = await client({protocolVersion, clientId: `rpub-${protocolVersion}`})
        await pub.publishAsync(topic, 'kept', {qos: 1, retain: true})
        const sub = await client({protocolVersion, clientId: `rsub-${protocolVersion}`})
        const got = nextMessage(sub)
        await sub.subscribeAsync(topic, {qos: 1})
        const m = await got
        assert.equal(m.payload.toString(), 'kept')
        assert.equal(m.packet.retain, true)
        await pub.publishAsync(topic, '', {qos: 1, retain: true})
        assert.equal(engineOf(broker).retained.size, 0)
      })

      test('will is published when a client drops without DISCONNECT', async () => {
        const topic = `interop/will/${protocolVersion}`
        const watcher = await client({protocolVersion, clientId: `wwatch-${protocolVersion}`})
        await watcher.subscribeAsync(topic, {qos: 1})
        const dying = await client({protocolVersion, clientId: `wdie-${protocolVersion}`,
          will: {topic, payload: Buffer.from('gone'), qos: 1, retain: false}})
        const got = nextMessage(watcher)
        dying.stream.destroy() // abnormal: no DISCONNECT
        const m = await got
        assert.equal(m.payload.toString(), 'gone')
      })

      test('will is not published after a clean DISCONNECT', async () => {
        const topic = `interop/nowill/${protocolVersion}`
        const watcher = await client({protocolVersion, clientId: `nwatch-${protocolVersion}`})
        await watcher.subscribeAsync(topic, {qos: 1})
        let received = 0
        watcher.on('message', () => { received++ })
        const leaving = await client({protocolVersion, clientId: `nleave-${protocolVersion}`, will: {topic, payload: Buffer.from('x'), qos: 1, retain: false}})
        await leaving.endAsync()
        // a marker published after the DISCONNECT arrives, and nothing came before it
        const marker = await client({protocolVersion, clientId: `nmark-${protocolVersion}`})
        const got = nextMessage(watcher)
        await marker.publishAsync(topic, 'marker', {qos: 1})
        assert.equal((await got).payload.toString(), 'marker')
        assert.equal(received, 1)
      })

      test('persistent session: subscriptions and QoS 1 messages survive a disconnect', async () => {
        const clientId = `persist-${protocolVersion}`
        const topic = `interop/persist/${protocolVersion}`
        const persistence = protocolVersion === 5 ? {clean: false, properties: {sessionExpiryInterval: 300}} : {clean: false}
        const first = await client({protocolVersion, clientId, ...persistence})
        await first.subscribeAsync(topic, {qos: 1})
        await first.endAsync()
        const pub = await client({protocolVersion, clientId: `persist-pub-${protocolVersion}`})
        for (let i = 0; i < 5; i++) await pub.publishAsync(topic, `m${i}`, {qos: 1})
        const got: string[] = []
        const second = mqtt.connect(url, {protocolVersion, clientId, reconnectPeriod: 0, ...persistence})
        clients.push(second)
        second.on('message', (_t, p) => got.push(p.toString()))
        const [connack] = await next(second, 'connect')
        assert.equal(connack.sessionPresent, true)
        while (got.length < 5) await next(second, 'message')
        assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4'])
      })

      test('takeover: a second connection with the same client id closes the first', async () => {
        const clientId = `takeover-${protocolVersion}`
        const first = await client({protocolVersion, clientId})
        const closed = next(first, 'close')
        const disconnect = protocolVersion === 5 ? next(first, 'disconnect') : undefined
        const second = await client({protocolVersion, clientId})
        await closed
        if (disconnect) {
          const [packet] = await disconnect
          assert.equal(packet.reasonCode, 0x8e)
        }
        assert.equal(second.connected, true)
      })
    })
  }
})
