// What connections hold in one event-loop turn is written as one batch each. Subscribers that hold the
// same packets in the same order (a fan-out) share the broker's log of the turn instead of an array each
// (write-batch.ts, a run); a subscriber whose packets stop being the log's next ones, or that gets a
// packet with a packet id of its own, goes on with an array. Every way must write each subscriber its
// own packets, whole and in order.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {Broker} from '../../src/broker/broker.js'
import {engineOf} from '../../src/broker/internal.js'
import type {ProtocolVersion, PublishPacket, QoS} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'

async function subscriber(broker: Broker, v: ProtocolVersion, clientId: string, filters: Array<[string, QoS]>): Promise<Wire> {
  const sub = new Wire(broker, v)
  await sub.connect({clientId})
  await sub.subscribe(filters.map(([topic, qos]) => ({topic, qos})))
  return sub
}

/** Publishes each [topic, payload] in this turn, QoS 1 (each subscriber gets its granted QoS). */
function publishAll(broker: Broker, messages: Array<[string, string]>): void {
  for (const [topic, payload] of messages) engineOf(broker).publish({topic, payload: Buffer.from(payload), qos: 1, retain: false})
}

async function expectPublishes(sub: Wire, expected: Array<[string, string]>): Promise<PublishPacket[]> {
  const got: PublishPacket[] = []
  for (const [topic, payload] of expected) {
    const p = await sub.expect('publish') as PublishPacket
    assert.equal(`${p.topic} ${p.payload.toString()}`, `${topic} ${payload}`)
    got.push(p)
  }
  return got
}

for (const v of VERSIONS) {
  describe(`held packets shared by a fan-out's subscribers ${versionName(v)}`, () => {
    test('three subscribers of one topic: each gets every message, in one write per turn', async (t) => {
      const broker = startBroker(t)
      const subs = [await subscriber(broker, v, 's1', [['t', 0]]), await subscriber(broker, v, 's2', [['t', 0]]),
        await subscriber(broker, v, 's3', [['t', 0]])]
      const messages = Array.from({length: 40}, (_, i): [string, string] => ['t', `m${i}`])
      const writes = subs.map((s) => s.server.writes)
      publishAll(broker, messages)
      for (const sub of subs) await expectPublishes(sub, messages)
      assert.deepEqual(subs.map((s, i) => s.server.writes - writes[i]!), [1, 1, 1])
    })

    test('a subscriber whose packets leave the shared order mid-turn gets its own, in order', async (t) => {
      const broker = startBroker(t)
      // both follow the log at first (b0 is held by both); from a1 on, 'ab' takes a packet 'b' does not
      const ab = await subscriber(broker, v, 'ab', [['a', 0], ['b', 0]])
      const b = await subscriber(broker, v, 'b', [['b', 0]])
      const messages: Array<[string, string]> = [['b', 'b0'], ['a', 'a1'], ['b', 'b2'], ['a', 'a3'], ['b', 'b4'], ['b', 'b5']]
      publishAll(broker, messages)
      await expectPublishes(ab, messages)
      await expectPublishes(b, messages.filter(([topic]) => topic === 'b'))
      await ab.quiet()
      await b.quiet()
    })

    test('a QoS 1 delivery amid QoS 0 ones: the QoS 0 subscriber keeps sharing, the other writes its packet id', async (t) => {
      const broker = startBroker(t)
      const zero = await subscriber(broker, v, 'zero', [['t', 0], ['q', 0]])
      const one = await subscriber(broker, v, 'one', [['t', 0], ['q', 1]])
      const messages: Array<[string, string]> = [['t', 't0'], ['t', 't1'], ['q', 'q2'], ['t', 't3']]
      publishAll(broker, messages)
      const zeros = await expectPublishes(zero, messages)
      assert.deepEqual(zeros.map((p) => p.qos), [0, 0, 0, 0])
      const ones = await expectPublishes(one, messages)
      assert.deepEqual(ones.map((p) => p.qos), [0, 0, 1, 0])
      assert.ok(engineOf(broker).sessions.get('one')!.inflight.has(ones[2]!.messageId!), 'the QoS 1 delivery carries its id')
      one.send({cmd: 'puback', messageId: ones[2]!.messageId})
      await one.quiet()
      assert.equal(engineOf(broker).sessions.get('one')!.inflight.size, 0)
    })

    test('more packets in one turn than the log takes: the rest are held in arrays, all in order', async (t) => {
      const broker = startBroker(t)
      const subs = [await subscriber(broker, v, 's1', [['t', 0]]), await subscriber(broker, v, 's2', [['t', 0]])]
      const messages = Array.from({length: 10_000}, (_, i): [string, string] => ['t', String(i)])
      publishAll(broker, messages)
      for (const sub of subs) await expectPublishes(sub, messages)
      for (const sub of subs) await sub.quiet()
    })
  })
}
