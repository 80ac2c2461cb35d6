// A QoS 1/2 delivery is the message's one cached encoding, with each subscriber's packet id (and DUP)
// written where the bytes are copied for that subscriber (connection.ts, write-batch.ts): in a joined
// batch, for a packet written alone, and for one of 8 kB or more that is never held.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {Broker} from '../../src/broker/broker.js'
import {engineOf} from '../../src/broker/internal.js'
import type {PublishPacket} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'

async function subscribers(broker: Broker, v: 3 | 4 | 5, n: number, qos: 1 | 2): Promise<Wire[]> {
  const subs: Wire[] = []
  for (let i = 0; i < n; i++) {
    const sub = new Wire(broker, v)
    await sub.connect({clientId: `sub-${i}`})
    await sub.subscribe('t', qos)
    subs.push(sub)
  }
  return subs
}

for (const v of VERSIONS) {
  describe(`packet ids in shared encodings ${versionName(v)}`, () => {
    for (const size of [10, 20 * 1024]) {
      test(`${size} bytes at QoS 1 to three subscribers, twice: each delivery carries the id its session gave it`, async (t) => {
        const broker = startBroker(t)
        const subs = await subscribers(broker, v, 3, 1)
        const pub = new Wire(broker, v)
        await pub.connect({clientId: 'pub'})
        // the second subscriber's first id differs from the others': its session has sent one already
        engineOf(broker).publish({topic: 't', payload: Buffer.from('warm-up'), qos: 1, retain: false})
        const warm = await subs[1]!.expect('publish')
        subs[1]!.send({cmd: 'puback', messageId: warm.messageId})
        await subs[0]!.expect('publish')
        await subs[2]!.expect('publish')
        for (const round of [1, 2]) {
          pub.publish('t', Buffer.alloc(size, round), 1, {messageId: round})
          await pub.expect('puback')
          for (const [i, sub] of subs.entries()) {
            const p = await sub.expect('publish') as PublishPacket
            const inflight = [...engineOf(broker).sessions.get(`sub-${i}`)!.inflight.keys()]
            assert.ok(inflight.includes(p.messageId!), `sub-${i} got id ${p.messageId}, in flight ${inflight}`)
            assert.deepEqual(p.payload, Buffer.alloc(size, round))
            assert.equal(p.dup, false)
            sub.send({cmd: 'puback', messageId: p.messageId})
            await sub.quiet()
            assert.ok(!engineOf(broker).sessions.get(`sub-${i}`)!.inflight.has(p.messageId!), 'the PUBACK ended the flight')
          }
        }
      })

      test(`${size} bytes, QoS 0 and QoS 1 deliveries held in one batch in either order: ids only where they belong`, async (t) => {
        const broker = startBroker(t)
        const sub = new Wire(broker, v)
        await sub.connect({clientId: 's'})
        await sub.subscribe([{topic: 'zero', qos: 0}, {topic: 'one', qos: 1}])
        // published in one event-loop turn, so the connection holds them all and joins them in one batch;
        // a batch that starts with QoS 0 packets gets its patches late, one that starts with QoS 1 at once
        const orders = [['zero', 'zero', 'one', 'zero', 'one'], ['one', 'zero', 'zero', 'one'], ['one', 'zero'], ['zero', 'zero', 'zero']]
        for (const [round, topics] of orders.entries()) {
          for (const [i, topic] of topics.entries()) {
            engineOf(broker).publish({topic, payload: Buffer.alloc(size, round * 16 + i), qos: 1, retain: false})
          }
          const inflight = new Set<number>()
          for (const [i, topic] of topics.entries()) {
            const p = await sub.expect('publish') as PublishPacket
            assert.equal(p.topic, topic)
            assert.deepEqual(p.payload, Buffer.alloc(size, round * 16 + i))
            assert.equal(p.dup, false)
            if (topic === 'zero') {
              assert.equal(p.qos, 0)
              continue
            }
            assert.equal(p.qos, 1)
            assert.ok(engineOf(broker).sessions.get('s')!.inflight.has(p.messageId!), `id ${p.messageId} is in flight`)
            assert.ok(!inflight.has(p.messageId!), `id ${p.messageId} given twice`)
            inflight.add(p.messageId!)
          }
          for (const id of inflight) sub.send({cmd: 'puback', messageId: id})
          await sub.quiet()
          assert.equal(engineOf(broker).sessions.get('s')!.inflight.size, 0)
        }
      })

      test(`${size} bytes at QoS 2, resent with DUP after a reconnect: same id, DUP set only on the resend`, async (t) => {
        const broker = startBroker(t)
        const sub = new Wire(broker, v)
        await sub.connect({clientId: 's', clean: false, ...(v === 5 ? {properties: {sessionExpiryInterval: 60}} : {})})
        await sub.subscribe('t', 2)
        engineOf(broker).publish({topic: 't', payload: Buffer.alloc(size, 7), qos: 2, retain: false})
        const first = await sub.expect('publish') as PublishPacket
        assert.equal(first.dup, false)
        sub.send({cmd: 'disconnect'})
        await sub.closed()
        const again = new Wire(broker, v)
        await again.connect({clientId: 's', clean: false, ...(v === 5 ? {properties: {sessionExpiryInterval: 60}} : {})})
        const resent = await again.expect('publish') as PublishPacket
        assert.equal(resent.messageId, first.messageId)
        assert.equal(resent.dup, true)
        assert.deepEqual(resent.payload, Buffer.alloc(size, 7))
      })
    }
  })
}
