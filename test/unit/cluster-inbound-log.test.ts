// The receiving side of the numbered messages between nodes (InboundLog): each number is routed once
// and in order, a gap asks the sender for everything again (once), and a confirmation covers a batch
// only once its held messages passed the acknowledgement queue, in order.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import type {AckTarget} from '../../src/broker/ack-queue.js'
import type {Message} from '../../src/broker/message.js'
import {InboundLog} from '../../src/cluster/inbound-log.js'
import type {Confirm} from '../../src/cluster/wire.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))
const message = (qos: 0 | 1): Message => ({topic: 't', payload: Buffer.from('x'), qos, retain: false})
const broker = {internalError: () => undefined}

/** An acknowledgement queue that holds every reply until the test passes it. */
function acks() {
  const waiting: AckTarget[] = []
  return {
    expect: () => undefined,
    unroutable: () => undefined,
    reply: (conn: AckTarget) => { waiting.push(conn) },
    pass: () => waiting.shift()!.send({cmd: 'puback', messageId: 1}),
  }
}

function log(queue = acks()) {
  const told: Confirm[] = []
  const routed: Message[] = []
  const inbound = new InboundLog('b', queue, broker, (node, c) => { assert.equal(node, 'a'); told.push(c) })
  /** Delivers batch `seq` of node a (epoch e1, lowest number kept 1, unless given) holding `messages`; returns the verdict. */
  const batch = (seq: number, messages: Message[], epoch = 'e1', low = 1) => {
    const verdict = inbound.accept('a', epoch, seq, low)
    if (verdict === 'route') {
      for (const m of messages) inbound.route(m, (x) => routed.push(x))
      inbound.routed()
    }
    return verdict
  }
  return {inbound, told, routed, batch, queue}
}

describe('cluster inbound log', () => {
  it('routes each number once and in order, and asks for a resend once per gap', async () => {
    const {told, routed, batch} = log()
    assert.equal(batch(6, [message(0)], 'e1', 5), 'gap', 'a new sender starts at its lowest number kept')
    told.length = 0
    assert.equal(batch(5, [message(0)], 'e1', 5), 'route')
    assert.equal(batch(5, [message(0)]), 'duplicate')
    assert.equal(batch(7, [message(0)]), 'gap')
    assert.equal(batch(8, [message(0)]), 'gap')
    assert.deepEqual(told, [{from: 'b', epoch: 'e1', upTo: 5, resend: true}], 'one resend asked for the gap')
    assert.equal(batch(6, [message(0)]), 'route')
    assert.equal(batch(7, [message(0)]), 'route')
    assert.equal(routed.length, 3)
    await turn()
    assert.deepEqual(told.at(-1), {from: 'b', epoch: 'e1', upTo: 7, resend: false}, 'QoS 0 only: confirmed once routed')
  })

  it('confirms a batch only once its held messages passed, and batches in order', async () => {
    const {told, batch, queue} = log()
    batch(1, [message(1), message(1)])
    batch(2, [message(0)])
    batch(3, [message(1)])
    await turn()
    assert.equal(told.length, 0, 'nothing passed yet')
    queue.pass()
    await turn()
    assert.equal(told.length, 0, 'one of batch 1\'s two')
    queue.pass()
    await turn()
    assert.deepEqual(told.map((c) => c.upTo), [2], 'batch 1, and batch 2 behind it')
    queue.pass()
    await turn()
    assert.deepEqual(told.map((c) => c.upTo), [2, 3])
  })

  it('confirms again for a duplicate of what it confirmed (the sender missed it), and starts over for a new epoch', async () => {
    const {told, routed, batch} = log()
    batch(1, [message(0)])
    await turn()
    assert.equal(told.length, 1)
    assert.equal(batch(1, [message(0)]), 'duplicate')
    await turn()
    assert.deepEqual(told.map((c) => c.upTo), [1, 1])
    assert.equal(batch(1, [message(0)], 'e2'), 'route', 'the sender started again')
    assert.equal(routed.length, 2)
    await turn()
    assert.deepEqual(told.at(-1), {from: 'b', epoch: 'e2', upTo: 1, resend: false})
  })

  it('skips what the sender gave up on (this node was taken for dead), and only that', () => {
    const {routed, batch} = log()
    assert.equal(batch(1, [message(0)]), 'route')
    assert.equal(batch(4, [message(0)], 'e1', 4), 'route', 'numbers 2 and 3 are no longer kept: not waited for')
    assert.equal(batch(3, [message(0)], 'e1', 1), 'duplicate')
    assert.equal(routed.length, 2)
  })
})
