import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {Broker} from '../../src/broker/broker.js'
import {encodePacket, type ProtocolVersion, type PublishPacket} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const KB = Buffer.alloc(1024, 0x61)

/** A subscriber to 't' at QoS 0 and a publisher, both connected. */
async function subscriberAndPublisher(broker: Broker, v: ProtocolVersion): Promise<{sub: Wire; pub: Wire}> {
  const sub = new Wire(broker, v)
  await sub.connect({clientId: 'sub'})
  await sub.subscribe('t', 0)
  const pub = new Wire(broker, v)
  await pub.connect({clientId: 'pub'})
  return {sub, pub}
}

const qos0 = (topic: string, payload: Buffer, v: ProtocolVersion): Buffer =>
  encodePacket({cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false}, v)

for (const v of VERSIONS) {
  describe(`slow readers ${versionName(v)}`, () => {
    test('writes made in one event-loop turn go out as one batch', async (t) => {
      const {sub, pub} = await subscriberAndPublisher(startBroker(t), v)
      const before = sub.chunks
      const writesBefore = sub.server.writes
      const burst = Buffer.concat(Array.from({length: 50}, (_, i) => qos0('t', Buffer.from(String(i)), v)))
      pub.sendRaw(burst)
      for (let i = 0; i < 50; i++) assert.equal((await sub.expect('publish')).payload.toString(), String(i))
      assert.equal(sub.server.writes - writesBefore, 1, 'one writev for the whole burst')
      assert.equal(sub.chunks - before, 1)
    })

    test('a batch past 8 KB goes out without waiting for the end of the turn, in order', async (t) => {
      const {sub, pub} = await subscriberAndPublisher(startBroker(t), v)
      const writesBefore = sub.server.writes
      const burst = Buffer.concat(Array.from({length: 50}, (_, i) => qos0('t', Buffer.concat([Buffer.from(`${i}:`), KB]), v)))
      pub.sendRaw(burst)
      for (let i = 0; i < 50; i++) assert.ok((await sub.expect('publish')).payload.toString().startsWith(`${i}:`))
      const writes = sub.server.writes - writesBefore
      assert.ok(writes >= 6 && writes <= 8, `50 kB in writes of about 8 kB: ${writes}`)
    })

    test('a packet of 8 kB or more goes out as it is, after the smaller ones held before it, in order', async (t) => {
      const {sub, pub} = await subscriberAndPublisher(startBroker(t), v)
      const writesBefore = sub.server.writes
      const big = Buffer.alloc(20 * 1024, 0x62)
      const payloads = [Buffer.from('a'), Buffer.from('b'), big, Buffer.from('c')]
      pub.sendRaw(Buffer.concat(payloads.map((p) => qos0('t', p, v))))
      for (const p of payloads) assert.deepEqual((await sub.expect('publish')).payload, p)
      // the two held before it in one write, the large one on its own (never copied into a batch), the last at the end of the turn
      assert.equal(sub.server.writes - writesBefore, 3)
    })

    test('the CONNACK is written as soon as the CONNECT is handled, not held to the end of the turn', async (t) => {
      const broker = startBroker(t)
      const client = new Wire(broker, v)
      await new Promise((resolve) => setImmediate(resolve)) // both ends of the stream are flowing
      client.send({cmd: 'connect', protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v, clientId: 'c', clean: true, keepalive: 0})
      // the in-memory stream delivers synchronously: a held CONNACK would only arrive in a later turn
      assert.deepEqual(client.buffered.map((p) => p.cmd), ['connack'])
      await client.expect('connack')
    })

    test('QoS 0 to a subscriber that does not read: the output buffer stays bounded and drops are counted', async (t) => {
      const limit = 64 * 1024
      const broker = startBroker(t, {maxOutboundBufferBytes: limit})
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 0)
      sub.pause()
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      let peak = 0
      for (let i = 0; i < 1000; i++) {
        pub.publish('t', Buffer.concat([Buffer.from(`${String(i).padStart(4, '0')}:`), KB]))
        if (i % 100 === 99) {
          await pub.quiet() // the publisher is never held up by the slow subscriber
          peak = Math.max(peak, sub.server.writableLength)
        }
      }
      assert.ok(peak <= limit + 2 * KB.length, `buffered ${peak} bytes for a limit of ${limit}`)
      // what sits in the "network" is at most one batch past the reader's high-water mark
      assert.ok(sub.stream.readableLength <= sub.stream.readableHighWaterMark + limit + 2 * KB.length, `${sub.stream.readableLength} bytes in flight`)
      const dropped = engineOf(broker).metrics.dropped['slow-reader'] ?? 0
      assert.ok(dropped > 800, `only ${dropped} dropped`)
      sub.resume()
      let last = -1
      let n = 0
      for (;;) {
        const p = await sub.next()
        if (p.cmd === 'pingresp') break
        const i = Number(((p as PublishPacket).payload as Buffer).subarray(0, 4).toString())
        assert.ok(i > last, 'what is delivered stays in order')
        last = i
        n++
        if (n === 1000 - dropped) sub.send({cmd: 'pingreq'})
      }
      assert.equal(n, 1000 - dropped)
      // and once it reads again it gets everything
      pub.publish('t', 'fresh')
      assert.equal((await sub.expect('publish')).payload.toString(), 'fresh')
    })

    test('QoS 1 to a subscriber that does not read: queued up to the limit, the rest dropped; all queued arrive later', async (t) => {
      const broker = startBroker(t, {maxOutboundBufferBytes: 8 * 1024, maxQueuedMessages: 50})
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 1)
      sub.pause()
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 0; i < 300; i++) pub.publish('t', Buffer.concat([Buffer.from(`${String(i).padStart(4, '0')}:`), KB]), 1, {messageId: i + 1})
      await pub.take(300)
      const session = engineOf(broker).sessions.get('sub')!
      const sent = session.inflight.size
      const queued = session.queued
      assert.ok(sent <= 20)
      assert.ok(queued <= 50)
      assert.equal(engineOf(broker).metrics.dropped['queue-full'], 300 - queued - sent)
      sub.resume()
      const got: number[] = []
      while (got.length < sent + queued) {
        const p = await sub.expect('publish')
        got.push(Number((p.payload as Buffer).subarray(0, 4).toString()))
        sub.send({cmd: 'puback', messageId: p.messageId})
      }
      assert.deepEqual(got, [...Array(sent + queued).keys()])
      await sub.quiet()
      assert.equal(session.queued, 0)
    })

    test('a slow reader with a small buffer limit (below the stream high-water mark) resumes when it drains', async (t) => {
      const broker = startBroker(t, {maxOutboundBufferBytes: 2 * 1024})
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 1)
      sub.pause()
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 0; i < 60; i++) pub.publish('t', Buffer.concat([Buffer.from(`${String(i).padStart(4, '0')}:`), KB]), 1, {messageId: i + 1})
      await pub.take(60)
      sub.resume()
      const got: number[] = []
      while (got.length < 60) {
        const p = await sub.expect('publish')
        got.push(Number((p.payload as Buffer).subarray(0, 4).toString()))
        sub.send({cmd: 'puback', messageId: p.messageId})
      }
      assert.deepEqual(got, [...Array(60).keys()])
    })

    test('a QoS 1 message queued behind QoS 0 output goes out once the buffer drains (limit below the high-water mark)', async (t) => {
      const broker = startBroker(t, {maxOutboundBufferBytes: 2 * 1024})
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe([{topic: 'q0', qos: 0}, {topic: 'q1', qos: 1}])
      sub.pause()
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      // fills the reader's receive buffer (its high-water mark) and then our 2 KB
      for (let i = 0; i < 40; i++) {
        pub.publish('q0', KB)
        await pub.quiet() // one per event-loop turn, so each gets past the batch
      }
      assert.ok(sub.server.writableLength >= 2 * 1024)
      pub.publish('q1', 'important', 1, {messageId: 1})
      await pub.expect('puback')
      assert.equal(engineOf(broker).sessions.get('sub')!.queued, 1)
      sub.resume()
      for (;;) {
        const p = await sub.expect('publish')
        if (p.topic === 'q1') break
      }
    })
  })
}
