import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type PubackPacket, type PublishPacket} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

for (const v of VERSIONS) {
  describe(`PUBLISH QoS 1 ${versionName(v)}`, () => {
    test('[MQTT-3.3.4-1] [MQTT-2.3.1-6] a QoS 1 PUBLISH gets a PUBACK with its packet id', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 1)
      w.publish('t', 'x', 1, {messageId: 4242})
      const ack = (await w.take(2)).find((p) => p.cmd === 'puback') as PubackPacket
      assert.equal(ack.messageId, 4242)
      if (v === 5) assert.equal(ack.reasonCode, ReasonCode.Success)
    })

    test('[MQTT-4.3.2-1] delivery at QoS 1 carries a non-zero packet id and waits for PUBACK', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 1)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('t', 'x', 1, {messageId: 9})
      await pub.expect('puback')
      const p = await sub.expect('publish')
      assert.equal(p.qos, 1)
      assert.equal(p.dup, false)
      assert.ok(p.messageId! > 0)
      assert.equal(engineOf(broker).sessions.get('sub')!.inflight.size, 1)
      sub.send({cmd: 'puback', messageId: p.messageId})
      await sub.quiet()
      assert.equal(engineOf(broker).sessions.get('sub')!.inflight.size, 0)
    })

    test('[MQTT-3.8.4-6] delivery at min(publish QoS, granted QoS)', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('q0', 0)
      await sub.subscribe('q2', 2)
      sub.publish('q0', 'a', 1)
      const p0 = (await sub.take(2)).find((p) => p.cmd === 'publish') as PublishPacket
      assert.equal(p0.qos, 0)
      assert.equal(p0.messageId, undefined)
      sub.publish('q2', 'b', 1)
      const p2 = (await sub.take(2)).find((p) => p.cmd === 'publish') as PublishPacket
      assert.equal(p2.qos, 1)
    })

    test('a resent QoS 1 PUBLISH (DUP) is acknowledged again and may be delivered again', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 0)
      w.publish('t', 'x', 1, {messageId: 3})
      w.publish('t', 'x', 1, {messageId: 3, dup: true})
      const cmds = [await w.next(), await w.next(), await w.next(), await w.next()].map((p) => p.cmd).sort()
      assert.deepEqual(cmds, ['puback', 'puback', 'publish', 'publish'])
    })

    test(`PUBACK ${v === 5 ? 'says 0x10 No matching subscribers' : 'is plain'} when nobody subscribes`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.publish('nobody', 'x', 1, {messageId: 5})
      const ack = await w.expect('puback')
      assert.equal(ack.messageId, 5)
      if (v === 5) assert.equal(ack.reasonCode, ReasonCode.NoMatchingSubscribers)
      else assert.equal(ack.reasonCode, undefined)
    })

    test('[MQTT-2.3.1-2] outbound packet ids are never reused while in use', async (t) => {
      const broker = startBroker(t, {maxInflightMessages: 100})
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub', ...(v === 5 ? {properties: {receiveMaximum: 100}} : {})})
      await sub.subscribe('t', 1)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      const seen = new Set<number>()
      const held: number[] = []
      for (let round = 0; round < 700; round++) {
        pub.publish('t', String(round), 1, {messageId: 1 + (round % 60000)})
        await pub.expect('puback')
        const p = await sub.expect('publish')
        assert.ok(p.messageId! >= 1 && p.messageId! <= 65535)
        assert.ok(!seen.has(p.messageId!), `id ${p.messageId} reused while in use`)
        seen.add(p.messageId!)
        held.push(p.messageId!)
        // keep 50 unacknowledged at all times
        if (held.length > 50) {
          const id = held.shift()!
          seen.delete(id)
          sub.send({cmd: 'puback', messageId: id})
        }
      }
    })

    test('PUBACK for an id not in flight is ignored', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.send({cmd: 'puback', messageId: 77})
      await w.quiet()
      assert.equal(broker.connectionCount, 1)
    })

    test('the inflight window (max_inflight_messages 20) holds the rest back until acknowledged', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 1)
      for (let i = 0; i < 25; i++) sub.publish('t', String(i), 1, {messageId: 1000 + i})
      const got: number[] = []
      const ids: number[] = []
      for (let i = 0; i < 45; i++) {
        const p = await sub.next()
        if (p.cmd === 'publish') { got.push(Number(p.payload.toString())); ids.push(p.messageId!) }
      }
      await sub.quiet()
      assert.deepEqual(got, [...Array(20).keys()])
      assert.equal(engineOf(broker).sessions.get('sub')!.queued, 5)
      for (const id of ids.slice(0, 5)) sub.send({cmd: 'puback', messageId: id})
      for (let i = 20; i < 25; i++) assert.equal((await sub.expect('publish')).payload.toString(), String(i))
    })

    test('[MQTT-4.6.0-2] QoS 1 messages are delivered in order', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 1)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 0; i < 100; i++) pub.publish('t', String(i), 1, {messageId: i + 1})
      for (let i = 0; i < 100; i++) {
        const p = await sub.expect('publish')
        assert.equal(p.payload.toString(), String(i))
        sub.send({cmd: 'puback', messageId: p.messageId})
      }
    })
  })
}
