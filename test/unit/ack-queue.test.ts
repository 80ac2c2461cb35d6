import assert from 'node:assert/strict'
import {test} from 'node:test'
import {setImmediate as settled} from 'node:timers/promises'
import v8 from 'node:v8'
import vm from 'node:vm'
import type {Connection} from '../../src/broker/connection.js'
import type {Logger} from '../../src/broker/logger.js'
import type {Message} from '../../src/broker/message.js'
import {AckQueue} from '../../src/broker/ack-queue.js'
import type {BrokerStore} from '../../src/broker/store/index.js'
import type {Packet} from '../../src/codec/index.js'
import {FakeTimers} from '../helpers/fake-timers.js'

/*
 * When the acknowledgement queue asks the store for a commit. A QoS 1 PUBACK whose deliveries went to
 * connected receivers waits for their acknowledgements, and a commit starts only for one that waited
 * the grace period; acknowledgements that always need the disk (SUBACK, a PUBACK whose message was
 * queued) get one at once, or right after the commit that is running.
 *
 * The grace period runs on fake time (the queue's injected Timers), so no outcome depends on how fast
 * the machine is; `settled()` lets a commit's promise callbacks run.
 */

const GRACE_MS = 200

/** A store whose commits are counted, and resolve when the test says (or at once). */
function store(manual = false) {
  const pending: Array<() => void> = []
  const s = {
    commits: 0,
    durable: () => {
      s.commits++
      return manual ? new Promise<void>((resolve) => pending.push(resolve)) : Promise.resolve()
    },
    finishCommit: () => pending.shift()?.(),
  }
  return s
}

function connection() {
  const sent: number[] = []
  const conn = {send: (p: Packet & {messageId?: number}) => sent.push(p.messageId ?? -1), disconnect: () => undefined}
  return {conn: conn as unknown as Connection, sent}
}

const logger = {error: () => undefined} as unknown as Logger
const message = (i: number): Message => ({topic: `t/${i}`, payload: Buffer.from('x'), qos: 1, retain: false} as Message)

function queue(s: ReturnType<typeof store>, timers = new FakeTimers()): AckQueue {
  return new AckQueue(s as unknown as BrokerStore, logger, () => undefined, GRACE_MS, timers)
}

/** A QoS 1 PUBLISH routed to one connected receiver, and its PUBACK made. */
function publish(q: AckQueue, conn: Connection, id: number): Message {
  const m = message(id)
  q.expect(m)
  q.stored(m, false)
  q.reply(conn, {cmd: 'puback', messageId: id} as Packet, m)
  return m
}

test('a steady flow whose receiver acknowledges within the grace period asks for no commit at all', async () => {
  const s = store()
  const time = new FakeTimers()
  const q = queue(s, time)
  const {conn, sent} = connection()
  // a message every 2 ms, each acknowledged by its receiver 6 ms later: always some waiting, for 3 grace periods
  for (let i = 1; i <= 300; i++) {
    const m = publish(q, conn, i)
    time.setTimeout(() => q.delivered(m), 6)
    time.advance(2)
  }
  time.advance(6)
  await settled()
  assert.deepEqual(sent, Array.from({length: 300}, (_, i) => i + 1), 'every PUBACK, in order')
  assert.equal(s.commits, 0)
  time.advance(GRACE_MS) // a grace timer still set finds nothing waiting
  await settled()
  assert.equal(s.commits, 0)
})

test('a PUBACK whose receiver does not acknowledge gets a commit once it has waited the grace period', async () => {
  const s = store()
  const time = new FakeTimers()
  const q = queue(s, time)
  const {conn, sent} = connection()
  publish(q, conn, 1)
  time.advance(GRACE_MS - 1)
  await settled()
  assert.deepEqual([sent, s.commits], [[], 0], 'not before the grace period')
  time.advance(1)
  await settled()
  assert.deepEqual(sent, [1])
  assert.equal(s.commits, 1)
})

test('the grace period counts from the oldest waiting PUBACK, not the newest', async () => {
  const s = store()
  const time = new FakeTimers()
  const q = queue(s, time)
  const {conn, sent} = connection()
  publish(q, conn, 1)
  time.advance(GRACE_MS / 2)
  publish(q, conn, 2)
  time.advance(GRACE_MS / 2)
  await settled()
  assert.equal(s.commits, 1, 'the first waited the grace period: one commit for both')
  assert.deepEqual(sent, [1, 2])
})

test('an acknowledgement that needs the disk, made while a commit runs, gets the next commit right after it', async () => {
  const s = store(true)
  const q = queue(s)
  const {conn, sent} = connection()
  q.reply(conn, {cmd: 'suback', messageId: 1} as Packet)
  assert.equal(s.commits, 1, 'a SUBACK asks for a commit at once')
  q.reply(conn, {cmd: 'suback', messageId: 2} as Packet)
  assert.equal(s.commits, 1, 'one commit at a time')
  s.finishCommit()
  await settled()
  assert.deepEqual(sent, [1])
  assert.equal(s.commits, 2, 'the second SUBACK did not wait for a grace period')
  s.finishCommit()
  await settled()
  assert.deepEqual(sent, [1, 2])
})

test('a sent PUBACK leaves nothing of its message in the queue, while later ones still wait', async () => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const q = queue(store())
  const {conn, sent} = connection()
  // made in a function of its own: the WeakRef is the test's only reference to the first message
  const first = ((): WeakRef<Message> => {
    const m = publish(q, conn, 1)
    publish(q, conn, 2)
    q.delivered(m)
    return new WeakRef(m)
  })()
  assert.deepEqual(sent, [1], 'the first PUBACK went, the second still waits for its receiver')
  await settled() // a WeakRef keeps its target alive until the end of the job that made it
  gc()
  assert.equal(first.deref(), undefined, 'the first message was collected: the queue no longer holds it')
})

test('a message keeps its record only while its PUBACK is held', () => {
  const q = queue(store())
  const {conn, sent} = connection()
  const m = publish(q, conn, 1)
  assert.ok(q.counts(m) && m.ack !== undefined, 'counted while its receiver has not acknowledged it')
  assert.equal(q.tracked, 1)
  q.delivered(m)
  assert.deepEqual(sent, [1])
  assert.equal(m.ack, undefined, 'the record left the message with its PUBACK')
  assert.equal(q.counts(m), false)
  assert.equal(q.tracked, 0)
})

test('a PUBACK held by another node waits past its commit; later ones of its connection wait, other connections do not', async () => {
  const s = store()
  const time = new FakeTimers()
  const q = queue(s, time)
  const one = connection()
  const two = connection()
  const held = message(1)
  q.expect(held)
  assert.equal(q.hold(held), true)
  q.reply(one.conn, {cmd: 'puback', messageId: 1} as Packet, held)
  publish(q, one.conn, 2)
  const other = publish(q, two.conn, 3)
  q.delivered(other)
  assert.deepEqual([one.sent, two.sent], [[], [3]], 'the other connection\'s PUBACK went at once')
  time.advance(GRACE_MS)
  await settled()
  assert.equal(s.commits, 1, 'the second message waited its grace period and got its commit')
  assert.deepEqual(one.sent, [], 'committed, but the first is still held, and the second is behind it')
  time.advance(GRACE_MS * 5)
  await settled()
  assert.equal(s.commits, 1, 'a hold is not a reason to commit again')
  q.release(held)
  assert.deepEqual(one.sent, [1, 2], 'released: both, in order')
  assert.equal(q.tracked, 0)
})

test('held messages that a node will never confirm: their connections are closed unanswered, the others\' PUBACKs still go', async () => {
  const s = store()
  const q = queue(s)
  const closed: Array<{code: number; reason: string}> = []
  const forgotten: number[] = []
  const conn = (sent: number[]) => ({send: (p: Packet & {messageId?: number}) => sent.push(p.messageId ?? -1),
    disconnect: (code: number, reason: string) => closed.push({code, reason}), forgetInbound: (id: number) => forgotten.push(id)}) as unknown as Connection
  const oneSent: number[] = []
  const twoSent: number[] = []
  const one = conn(oneSent)
  const two = conn(twoSent)
  const held = message(1)
  q.expect(held)
  q.hold(held)
  q.reply(one, {cmd: 'puback', messageId: 1} as Packet, held)
  publish(q, one, 2) // behind the held one
  const qos2 = {...message(5), qos: 2} as Message
  q.expect(qos2)
  q.reply(one, {cmd: 'pubrec', messageId: 5} as Packet, qos2) // behind too, waiting for a commit
  const other = message(3)
  q.expect(other)
  q.hold(other)
  q.reply(two, {cmd: 'puback', messageId: 3} as Packet, other)
  const notYet = message(4) // held before its acknowledgement was made
  q.expect(notYet)
  q.hold(notYet)
  assert.equal(q.abandon([held, notYet], 'node b went'), 1, 'one connection closed')
  assert.deepEqual(closed, [{code: 0x80, reason: 'node b went'}])
  assert.deepEqual(forgotten, [5], 'the PUBREC never sent: its packet id let go, for the PUBLISH sent again to be routed')
  q.reply(two, {cmd: 'puback', messageId: 4} as Packet, notYet)
  q.release(other)
  await settled()
  assert.deepEqual(oneSent, [], 'neither PUBACK of the closed connection went, not even the one behind the held one')
  assert.deepEqual(twoSent, [3, 4], 'the other connection: released as usual, and the message not yet acknowledged lost only its hold')
  q.release(held) // a late confirmation finds nothing
  assert.deepEqual(oneSent, [])
})

test('a QoS 2 or retained message can be held too, and its acknowledgement still needs a commit', async () => {
  const s = store(true)
  const q = queue(s)
  const {conn, sent} = connection()
  const m = {...message(1), qos: 2} as Message
  q.expect(m)
  assert.equal(q.counts(m), false, 'its deliveries are not counted')
  assert.equal(q.hold(m), true)
  q.reply(conn, {cmd: 'pubrec', messageId: 1} as Packet, m)
  assert.equal(s.commits, 1)
  q.release(m)
  assert.deepEqual(sent, [], 'released, not yet committed')
  s.finishCommit()
  await settled()
  assert.deepEqual(sent, [1])
  assert.equal(q.hold(m), false, 'acknowledged: nothing left to hold')
})

test('records done behind one held long are not kept until it goes', () => {
  const q = queue(store())
  const one = connection()
  const two = connection()
  const held = message(0)
  q.expect(held)
  q.hold(held)
  q.reply(one.conn, {cmd: 'puback', messageId: 0} as Packet, held)
  for (let i = 1; i <= 10_000; i++) {
    const m = publish(q, two.conn, i)
    q.delivered(m)
  }
  assert.equal(two.sent.length, 10_000, 'every PUBACK of the other connection went')
  const records = (q as unknown as {queue: unknown[]}).queue.length
  assert.ok(records < 5000, `the queue holds ${records} records, not 10,001`)
  q.release(held)
  assert.deepEqual(one.sent, [0])
})

test('a send that comes back into the queue (its connection releasing a delivery) keeps order and sends each once', () => {
  const q = queue(store())
  const sent: number[] = []
  let second: Message | undefined
  const conn = {
    send: (p: Packet & {messageId?: number}) => {
      sent.push(p.messageId ?? -1)
      // as a connection that closes while it is written to: a delivery of the second message is released
      if (p.messageId === 1 && second !== undefined) q.delivered(second)
    },
    disconnect: () => undefined,
  } as unknown as Connection
  const first = publish(q, conn, 1)
  second = publish(q, conn, 2)
  publish(q, conn, 3)
  q.delivered(first)
  assert.deepEqual(sent, [1, 2], 'the second went from inside the first\'s send, the third still waits')
  assert.equal(q.tracked, 1)
})
