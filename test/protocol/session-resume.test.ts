import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {ConnectPacket, ProtocolVersion, PublishPacket} from '../../src/codec/index.js'
import type {Broker} from '../../src/broker/broker.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const persistent = (v: ProtocolVersion): Partial<ConnectPacket> =>
  v === 5 ? {clean: false, properties: {sessionExpiryInterval: 3600}} : {clean: false}

async function reconnect(broker: Broker, v: ProtocolVersion, clientId: string): Promise<Wire> {
  const w = new Wire(broker, v)
  const ack = await w.connect({clientId, ...persistent(v)})
  assert.equal(ack.sessionPresent, true, '[MQTT-3.2.2-2] session present')
  return w
}

async function gone(w: Wire, graceful = true): Promise<void> {
  if (graceful) w.send({cmd: 'disconnect'})
  else w.end()
  await w.closed()
}

for (const v of VERSIONS) {
  describe(`persistent sessions ${versionName(v)}`, () => {
    test('[MQTT-3.1.2-4] [MQTT-4.1.0-1] subscriptions survive a reconnect', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      await a.subscribe('t', 1)
      await gone(a)
      const b = await reconnect(broker, v, 's')
      b.publish('t', 'x', 0)
      assert.equal((await b.expect('publish')).payload.toString(), 'x')
    })

    test('[MQTT-3.1.2-5] QoS 1 and 2 messages published while offline are queued and delivered, in order', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      await a.subscribe([{topic: 'q1', qos: 1}, {topic: 'q2', qos: 2}])
      await gone(a)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('q1', 'one', 1, {messageId: 1})
      pub.publish('q2', 'two', 2, {messageId: 2})
      pub.publish('q1', 'three', 1, {messageId: 3})
      pub.publish('q1', 'lost', 0)
      await pub.take(3)
      assert.equal(engineOf(broker).sessions.get('s')!.queued, 3)
      const b = await reconnect(broker, v, 's')
      const got = [await b.expect('publish'), await b.expect('publish'), await b.expect('publish')]
      assert.deepEqual(got.map((p) => p.payload.toString()), ['one', 'two', 'three'])
      assert.deepEqual(got.map((p) => p.qos), [1, 2, 1])
      assert.deepEqual(got.map((p) => p.dup), [false, false, false])
      await b.quiet()
      assert.equal(engineOf(broker).metrics.dropped['offline-qos0'], 1)
    })

    test('[MQTT-4.4.0-1] [MQTT-3.3.1-1] unacknowledged QoS 1 is resent with DUP and the same id on resume', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      await a.subscribe('t', 1)
      a.publish('t', 'x', 1, {messageId: 50})
      const first = (await a.take(2)).find((p) => p.cmd === 'publish') as PublishPacket
      assert.equal(first.dup, false)
      await gone(a, false)
      const b = await reconnect(broker, v, 's')
      const again = await b.expect('publish')
      assert.equal(again.dup, true)
      assert.equal(again.messageId, first.messageId)
      assert.equal(again.payload.toString(), 'x')
      b.send({cmd: 'puback', messageId: again.messageId})
      await b.quiet()
      assert.equal(engineOf(broker).sessions.get('s')!.inflight.size, 0)
      // acknowledged: not sent a third time
      await gone(b)
      const c = await reconnect(broker, v, 's')
      await c.quiet()
    })

    test('[MQTT-4.4.0-1] QoS 2 without PUBREC is resent with DUP; after PUBREC the PUBREL is resent', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      await a.subscribe('t', 2)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('t', 'm1', 2, {messageId: 1})
      pub.publish('t', 'm2', 2, {messageId: 2})
      await pub.take(2)
      const m1 = await a.expect('publish')
      const m2 = await a.expect('publish')
      a.send({cmd: 'pubrec', messageId: m1.messageId})
      assert.equal((await a.expect('pubrel')).messageId, m1.messageId)
      await gone(a, false)
      const b = await reconnect(broker, v, 's')
      const resent = await b.take(2)
      const rel = resent.find((p) => p.cmd === 'pubrel')
      const pubAgain = resent.find((p) => p.cmd === 'publish') as PublishPacket
      assert.equal(rel?.messageId, m1.messageId, 'PUBREL resent for the message past PUBREC')
      assert.equal(pubAgain.messageId, m2.messageId)
      assert.equal(pubAgain.dup, true)
      assert.equal(pubAgain.payload.toString(), 'm2')
      b.send({cmd: 'pubcomp', messageId: m1.messageId})
      await b.ack(pubAgain)
      await b.quiet()
      assert.equal(engineOf(broker).sessions.get('s')!.inflight.size, 0)
    })

    test('[MQTT-4.3.3-9] inbound QoS 2 stays exactly once across a reconnect', async (t) => {
      const broker = startBroker(t)
      const watch = new Wire(broker, v)
      await watch.connect({clientId: 'watch'})
      await watch.subscribe('t', 0)
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      a.publish('t', 'once', 2, {messageId: 12})
      await a.expect('pubrec')
      assert.equal((await watch.expect('publish')).payload.toString(), 'once')
      await gone(a, false)
      const b = await reconnect(broker, v, 's')
      b.publish('t', 'once', 2, {messageId: 12, dup: true})
      await b.expect('pubrec')
      b.send({cmd: 'pubrel', messageId: 12})
      await b.expect('pubcomp')
      await watch.quiet()
    })

    test('the offline queue is bounded at 1000 messages (Mosquitto max_queued_messages); drops are counted', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      await a.subscribe('t', 1)
      await gone(a)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 0; i < 1005; i++) pub.publish('t', String(i), 1, {messageId: (i % 60000) + 1})
      await pub.take(1005)
      assert.equal(engineOf(broker).sessions.get('s')!.queued, 1000)
      assert.equal(engineOf(broker).metrics.dropped['queue-full'], 5)
      const b = await reconnect(broker, v, 's')
      for (let i = 0; i < 1000; i++) {
        const p = await b.expect('publish')
        assert.equal(p.payload.toString(), String(i), 'the oldest are kept, the newest dropped')
        b.send({cmd: 'puback', messageId: p.messageId})
      }
      await b.quiet()
    })

    test('the queue limit and a byte limit are options', async (t) => {
      const broker = startBroker(t, {maxQueuedMessages: 3, maxQueuedBytes: 0})
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      await a.subscribe('t', 1)
      await gone(a)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 0; i < 5; i++) pub.publish('t', String(i), 1, {messageId: i + 1})
      await pub.take(5)
      assert.equal(engineOf(broker).sessions.get('s')!.queued, 3)
      assert.equal(engineOf(broker).metrics.dropped['queue-full'], 2)

      const bytes = startBroker(t, {maxQueuedMessages: 0, maxQueuedBytes: 100})
      const c = new Wire(bytes, v)
      await c.connect({clientId: 's', ...persistent(v)})
      await c.subscribe('t', 1)
      await gone(c)
      const p2 = new Wire(bytes, v)
      await p2.connect({clientId: 'pub'})
      for (let i = 0; i < 5; i++) p2.publish('t', Buffer.alloc(30), 1, {messageId: i + 1})
      await p2.take(5)
      assert.equal(engineOf(bytes).sessions.get('s')!.queued, 3)
      assert.ok(engineOf(bytes).sessions.get('s')!.queuedBytes <= 100)
      assert.equal(engineOf(bytes).metrics.dropped['queue-full'], 2)
    })

    test('[MQTT-3.1.2-6] clean session after a persistent one discards its queue', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      await a.subscribe('t', 1)
      await gone(a)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('t', 'x', 1)
      await pub.expect('puback')
      const b = new Wire(broker, v)
      assert.equal((await b.connect({clientId: 's', clean: true})).sessionPresent, false)
      await b.quiet()
      pub.publish('t', 'y', 1)
      await pub.expect('puback')
      await b.quiet()
    })

    test('inflight messages are resent before queued ones', async (t) => {
      const broker = startBroker(t, {maxInflightMessages: 1})
      const a = new Wire(broker, v)
      await a.connect({clientId: 's', ...persistent(v)})
      await a.subscribe('t', 1)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 0; i < 3; i++) pub.publish('t', String(i), 1, {messageId: i + 1})
      await pub.take(3)
      assert.equal((await a.expect('publish')).payload.toString(), '0')
      await a.quiet()
      await gone(a, false)
      const b = await reconnect(broker, v, 's')
      const first = await b.expect('publish')
      assert.equal(first.payload.toString(), '0')
      assert.equal(first.dup, true)
      b.send({cmd: 'puback', messageId: first.messageId})
      const second = await b.expect('publish')
      assert.equal(second.payload.toString(), '1')
      assert.equal(second.dup, false)
    })
  })
}
