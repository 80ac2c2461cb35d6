import assert from 'node:assert/strict'
import {test} from 'node:test'
import {DeferredDeliveries} from '../../src/broker/deferred-deliveries.js'
import type {Delivery, Session} from '../../src/broker/session.js'
import {OutboundState} from '../../src/broker/store/types.js'

/*
 * Persistence's list of deliveries not yet handed to the store: written in the order they were deferred,
 * each once, with the state and packet id they were last given, and nothing of one that was done.
 */

const session = {clientId: 'c'} as unknown as Session
const delivery = (i: number): Delivery => ({message: {topic: `t/${i}`, payload: Buffer.alloc(0), qos: 1, retain: false}, qos: 1, retain: false})

function drained(q: DeferredDeliveries): string[] {
  const out: string[] = []
  q.drain((d, w) => out.push(`${d.message.topic}:${w.packetId}:${w.state}`))
  return out
}

test('drains in the order deferred, with the latest state, and leaves nothing behind', () => {
  const q = new DeferredDeliveries()
  const [a, b, c] = [delivery(1), delivery(2), delivery(3)]
  q.add(a, session, 1, OutboundState.Publish)
  q.add(b, session, 0, OutboundState.Queued)
  q.add(c, session, 3, OutboundState.Publish)
  q.get(b)!.state = OutboundState.Publish
  q.get(b)!.packetId = 2
  assert.equal(q.delete(c), true)
  assert.equal(q.delete(c), false, 'not deferred twice')
  assert.equal(q.size, 2)
  assert.deepEqual(drained(q), [`t/1:1:${OutboundState.Publish}`, `t/2:2:${OutboundState.Publish}`])
  assert.equal(q.size, 0)
  assert.equal(a.deferral, undefined, 'a drained delivery carries nothing of the list')
  assert.deepEqual(drained(q), [])
})

test('a delivery deferred again takes its new place and is written once', () => {
  const q = new DeferredDeliveries()
  const [a, b] = [delivery(1), delivery(2)]
  q.add(a, session, 1, OutboundState.Publish)
  q.add(b, session, 2, OutboundState.Publish)
  q.delete(a)
  q.add(a, session, 5, OutboundState.Publish)
  assert.deepEqual(drained(q), [`t/2:2:${OutboundState.Publish}`, `t/1:5:${OutboundState.Publish}`])
})

test('a long flow of deliveries done before any commit keeps the list small and the order intact', () => {
  const q = new DeferredDeliveries()
  const kept: Delivery[] = []
  for (let i = 0; i < 10_000; i++) {
    const d = delivery(i)
    q.add(d, session, i % 65_535 + 1, OutboundState.Publish)
    if (i % 1000 === 0) kept.push(d)
    else q.delete(d)
  }
  assert.equal(q.size, kept.length)
  assert.ok((q as unknown as {list: Delivery[]}).list.length <= 2048, 'done deliveries are dropped from the list')
  assert.deepEqual(drained(q).map((s) => s.split(':')[0]), kept.map((d) => d.message.topic))
})
