// Bridges from midge (library API: broker.addBridge) to a real Mosquitto: messages in, out and both
// ways at QoS 0/1/2 with prefixes, retained messages, the state topic on both sides, v3.1.1 (with the
// bridge bit) and v5 remotes, with `mqtt` npm clients at both ends.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import mqtt, {type MqttClient} from 'mqtt'
import {createBroker, type Broker} from '../../src/index.js'
import {bridgeTopic, type BridgeInput} from '../../src/broker/bridge/index.js'
import {hasMosquitto, startMosquitto, type Mosquitto} from '../helpers/mosquitto.js'
import {engineOf} from '../../src/broker/internal.js'

const skip = hasMosquitto() ? false : 'Debian mosquitto is not installed'

interface Received { topic: string; payload: string; qos: number; retain: boolean }

/** An mqtt.js client that records what it receives; `until(n)` waits for n messages in all. */
async function client(url: string, options: mqtt.IClientOptions = {}) {
  const c = await mqtt.connectAsync(url, {reconnectPeriod: 0, connectTimeout: 10_000, ...options})
  const got: Received[] = []
  const waiters: Array<() => void> = []
  c.on('message', (topic, payload, packet) => {
    got.push({topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain})
    for (const w of waiters.splice(0)) w()
  })
  const until = async (pred: (got: Received[]) => boolean, what: string, ms = 20_000): Promise<void> => {
    const deadline = Date.now() + ms
    while (!pred(got)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(got)}`)
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 200) })
    }
  }
  return {c, got, until}
}

/** Waits until `check` is true (polling; the outcome never depends on how fast this is). */
async function eventually(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

for (const protocolVersion of [4, 5] as const) {
  describe(`midge bridged to Mosquitto (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'})`, {skip}, () => {
    let mosq: Mosquitto
    let broker: Broker
    let local: string
    const clients: MqttClient[] = []
    const bridgeName = `b${protocolVersion}`

    before(async () => {
      mosq = await startMosquitto()
      broker = createBroker()
      const {port} = await broker.listen({port: 0})
      local = `mqtt://127.0.0.1:${port}`
      // a retained message that exists before the bridge: it goes out on connect
      const early = await client(local)
      await early.c.publishAsync('local/early/r', 'before', {qos: 1, retain: true})
      await early.c.endAsync()
    })
    after(async () => {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
      await broker?.close()
      await mosq?.stop()
    })

    const track = async (url: string, options: mqtt.IClientOptions = {}) => {
      const r = await client(url, {protocolVersion, ...options})
      clients.push(r.c)
      return r
    }

    it('connects, publishes its state on both sides and sends local retained messages', async () => {
      const remoteWatch = await track(mosq.url)
      await remoteWatch.c.subscribeAsync([`$SYS/broker/connection/host.${bridgeName}/state`, 'remote/#'], {qos: 1})
      const input: BridgeInput = {
        name: bridgeName, addresses: [{host: mosq.host, port: mosq.port}], protocolVersion, remoteClientId: `host.${bridgeName}`,
        restartTimeout: {base: 1},
        topics: [
          bridgeTopic('early/#', 'out', 1, 'local/', 'remote/'),
          bridgeTopic('out/#', 'out', 2, 'local/', 'remote/'),
          bridgeTopic('in/#', 'in', 2, 'local/', 'remote/'),
          bridgeTopic('both/#', 'both', 1, 'local/', 'remote/'),
          bridgeTopic('""', 'out', 0, 'alias/exact', 'remote/alias-exact'),
        ],
      }
      const localWatch = await track(local)
      await localWatch.c.subscribeAsync(`$SYS/broker/connection/host.${bridgeName}/state`, {qos: 1})
      const bridge = await broker.addBridge(input)
      await remoteWatch.until((g) => g.some((m) => m.topic.endsWith('/state') && m.payload === '1'), 'remote state 1')
      await remoteWatch.until((g) => g.some((m) => m.topic === 'remote/early/r'), 'the early retained message')
      // it was sent retained: Mosquitto keeps it for a new subscriber
      const late = await track(mosq.url)
      await late.c.subscribeAsync('remote/early/#', {qos: 1})
      await late.until((g) => g.length === 1, 'the retained message from Mosquitto')
      assert.deepEqual([late.got[0].payload, late.got[0].retain], ['before', true])
      await localWatch.until((g) => g.some((m) => m.payload === '1'), 'local state 1')
      assert.equal(bridge.stats.connected, 1)
    })

    for (const qos of [0, 1, 2] as const) {
      it(`carries QoS ${qos} out, remapping local/out/# to remote/out/# (QoS capped by the topic line)`, async () => {
        const remote = await track(mosq.url)
        await remote.c.subscribeAsync('remote/out/#', {qos: 2})
        const pub = await track(local)
        for (let i = 0; i < 20; i++) await pub.c.publishAsync(`local/out/q${qos}`, `m${i}`, {qos})
        await remote.until((g) => g.length >= 20, '20 messages')
        assert.deepEqual(remote.got.map((m) => m.payload), Array.from({length: 20}, (_, i) => `m${i}`))
        assert.ok(remote.got.every((m) => m.topic === `remote/out/q${qos}` && m.qos === qos && !m.retain))
      })

      it(`carries QoS ${qos} in, remapping remote/in/# to local/in/#`, async () => {
        const sub = await track(local)
        await sub.c.subscribeAsync('local/in/#', {qos: 2})
        const pub = await track(mosq.url)
        for (let i = 0; i < 20; i++) await pub.c.publishAsync(`remote/in/q${qos}`, `n${i}`, {qos})
        await sub.until((g) => g.length >= 20, '20 messages')
        assert.deepEqual(sub.got.map((m) => m.payload), Array.from({length: 20}, (_, i) => `n${i}`))
        assert.ok(sub.got.every((m) => m.topic === `local/in/q${qos}` && m.qos === qos))
      })
    }

    it('the "" pattern maps one exact topic to another', async () => {
      const remote = await track(mosq.url)
      await remote.c.subscribeAsync('remote/#', {qos: 1})
      const pub = await track(local)
      await pub.c.publishAsync('alias/exact', 'x', {qos: 1})
      await remote.until((g) => g.some((m) => m.topic === 'remote/alias-exact'), 'the mapped message')
    })

    it('both: each side gets the other\'s messages once, and none come back', async () => {
      const remote = await track(mosq.url)
      await remote.c.subscribeAsync('remote/both/#', {qos: 1})
      const localSub = await track(local)
      await localSub.c.subscribeAsync('local/both/#', {qos: 1})
      await localSub.c.publishAsync('local/both/from-local', 'L', {qos: 1})
      await remote.c.publishAsync('remote/both/from-remote', 'R', {qos: 1})
      await remote.until((g) => g.some((m) => m.payload === 'L') && g.some((m) => m.payload === 'R'), 'both messages on the remote')
      await localSub.until((g) => g.some((m) => m.payload === 'L') && g.some((m) => m.payload === 'R'), 'both messages locally')
      // a marker sent after them: once it arrived both ways, any echo would have arrived before it
      await localSub.c.publishAsync('local/both/marker', 'M', {qos: 1})
      await remote.until((g) => g.some((m) => m.payload === 'M'), 'the marker on the remote')
      await remote.c.publishAsync('remote/both/marker2', 'M2', {qos: 1})
      await localSub.until((g) => g.some((m) => m.payload === 'M2'), 'the second marker locally')
      const count = (g: Received[], p: string) => g.filter((m) => m.payload === p).length
      assert.equal(count(remote.got, 'L'), 1)
      assert.equal(count(remote.got, 'R'), 1)
      assert.equal(count(localSub.got, 'L'), 1)
      assert.equal(count(localSub.got, 'R'), 1)
      assert.equal(count(localSub.got, 'M'), 1)
    })

    it('a retained message from the remote arrives retained locally', async () => {
      const pub = await track(mosq.url)
      await pub.c.publishAsync('remote/in/kept', 'kept', {qos: 1, retain: true})
      // a new local subscriber gets it from midge's own retained store
      await eventually(() => engineOf(broker).retained.match('local/in/kept', Date.now()).length === 1, 'the retained message locally')
      const sub = await track(local)
      await sub.c.subscribeAsync('local/in/kept', {qos: 1})
      await sub.until((g) => g.length === 1, 'the retained message')
      assert.equal(sub.got[0].retain, true)
      assert.equal(sub.got[0].payload, 'kept')
    })
  })
}
