import type {Packet} from '../codec/index.js'
import {ReasonCode} from '../codec/index.js'
import {Waiting, isDelivered, sendContained, waiting, type AckTarget} from './ack-record.js'
export type {AckTarget} from './ack-record.js'
import type {Logger} from './logger.js'
import type {Message} from './message.js'
import {realTimers, type Timers} from './timers.js'
import type {BrokerStore} from './store/types.js'

/**
 * How long a PUBACK waits for its deliveries' acknowledgements before a commit is started for it: at
 * least DELIVERY_GRACE_MS, and as long as recent commits took (up to MAX_DELIVERY_GRACE_MS). Waiting as
 * long as a commit would take is the ski-rental rule: a PUBACK that no acknowledgement releases waits at
 * most twice as long as a commit at once would have made it, and when the receivers keep up (their
 * round trip is under a commit's time, as it is on a busy machine where commits slow down too) no
 * commit is needed at all. With a fixed 2 ms, a loaded machine (receiver round trips above 2 ms) turned
 * most PUBACKs into commits, and commits of 15-30 ms bounded 100 messages in flight to a few thousand a
 * second.
 */
const DELIVERY_GRACE_MS = 2
const MAX_DELIVERY_GRACE_MS = 50
/** Weight of the latest commit in the running mean of commit times. */
const COMMIT_MEAN_WEIGHT = 0.2

/**
 * Holds acknowledgements (PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK) until the state they confirm is
 * durable, and sends each connection's in the order they were made [MQTT-4.6.0-2]. Commits
 * (store.durable()) run one at a time and take every write made before they start.
 *
 * A QoS 1 PUBLISH that every stored receiver has already acknowledged needs no commit: nothing of it is
 * left to lose. Its PUBACK goes as soon as those before it can, so a publisher whose subscribers keep
 * up does not wait for the disk (a commit with full sync takes 2-4 ms on the machine measured, which
 * bounded a window of 100 messages in flight to ~40k msg/s).
 *
 * In a cluster an acknowledgement can also be held by other nodes (hold/release: a message forwarded
 * to a node that has not confirmed it yet). Order is kept per connection, not across them: one
 * publisher waiting for another node does not hold back the others' acknowledgements (nor a node's
 * confirmation of what it received, which would otherwise wait on the node it confirms to).
 */
export class AckQueue {
  /** Every record not yet done, oldest first (for commits: which are covered, how long the oldest waited). */
  private readonly queue: Array<Waiting | undefined> = []
  private head = 0
  /** Records before this index need no commit (done, committed, or released by their deliveries). */
  private scanFrom = 0
  /** Records in the queue not done. */
  private live = 0
  /** Each connection's records not yet sent, in the order they were made: items[head ..). */
  private readonly byConn = new Map<AckTarget, {items: Array<Waiting | undefined>; head: number}>()
  private seq = 0
  /** Records numbered up to this one are covered by a completed commit. */
  private committedUpTo = 0
  private armed = false
  /** Acknowledgements that need the disk (not a QoS 1 PUBACK waiting on connected receivers) made while a commit ran. */
  private promptAfterCommit = false
  private graceTimer: unknown
  /** Messages whose record is linked to them (`message.ack`): published, or waiting for their acknowledgement. */
  private counted = 0
  /** How long acknowledgements waited for their commit (for /metrics). */
  readonly commits = {count: 0, seconds: 0, maxSeconds: 0}
  /** Running mean of how long a commit takes, in ms (the grace period follows it, see DELIVERY_GRACE_MS). */
  private commitMs = 0

  /**
   * beforeCommit: called before every commit is asked for (Persistence hands over the writes it deferred).
   * graceMs: how long a QoS 1 PUBACK waiting on connected receivers waits at least before a commit starts
   * for it (longer while commits take longer, see DELIVERY_GRACE_MS).
   * timers: the clock the grace period is measured on (the broker's options.timers; fake in tests).
   */
  constructor(private readonly store: BrokerStore, private readonly logger: Logger, private readonly beforeCommit: () => void = () => {},
    private readonly graceMs = DELIVERY_GRACE_MS, private readonly timers: Timers = realTimers) {}

  /**
   * A QoS 1 or 2 message is about to be routed. A QoS 1 message that is not retained has its stored
   * deliveries counted (see delivered); every such message can be held (see hold) until acknowledged.
   */
  expect(message: Message): void {
    if (message.ack === undefined) this.counted++
    message.ack = new Waiting(undefined, undefined, message.qos === 1 && !message.retain, message)
  }

  /** Routing the message failed (a hook threw): it will never be acknowledged, so stop counting for it. */
  unroutable(message: Message): void {
    const w = waiting(message)
    if (w !== undefined && w.packet === undefined) this.forget(w)
  }

  /** Whether the message's stored deliveries are counted (a QoS 1 PUBLISH whose PUBACK is not sent yet). */
  counts(message: Message): boolean {
    return waiting(message)?.counts === true
  }

  /** How many messages have a record (routed, not yet acknowledged to their publisher). */
  get tracked(): number {
    return this.counted
  }

  /**
   * Holds the message's acknowledgement until a matching release, whatever the store does: another
   * node has it and has not confirmed it yet. Returns false when the message has no record (not a
   * client's QoS 1 or 2 PUBLISH, or acknowledged already): then nobody waits for it.
   */
  hold(message: Message): boolean {
    const w = waiting(message)
    if (w === undefined) return false
    w.holds++
    return true
  }

  /**
   * Other nodes will never confirm these held messages (a node they went to died before it had them):
   * their acknowledgements are not sent, and their publishers' connections are closed unanswered
   * (MQTT 5: DISCONNECT 0x80), to send them again to wherever their subscribers are now; the packet
   * ids of their QoS 2 PUBLISHes are let go, so that those sent again are routed again rather than
   * taken for duplicates [MQTT-4.3.3-9]. A message whose acknowledgement was not made yet only loses
   * the hold. Returns how many connections were closed.
   */
  abandon(messages: readonly Message[], reason: string): number {
    const conns = new Set<AckTarget>()
    for (const m of messages) {
      const w = waiting(m)
      if (w === undefined || w.holds === 0) continue
      if (w.conn !== undefined && !w.done) conns.add(w.conn)
      else this.release(m)
    }
    for (const conn of conns) this.withhold(conn, reason, true)
    this.trim()
    return conns.size
  }

  /** Takes back one hold (the node confirmed it, or is gone). */
  release(message: Message): void {
    const w = waiting(message)
    if (w === undefined || w.holds === 0) return
    w.holds--
    if (w.holds === 0 && w.conn !== undefined) this.drainConn(w.conn)
  }

  /**
   * A delivery of the message was stored (routing, or a shared-subscription hand-off): sent to a
   * connected client, or queued.
   */
  stored(message: Message, queued: boolean): void {
    const w = waiting(message)
    if (w === undefined || !w.counts) return
    w.undelivered++
    if (queued) w.queued = true
    // after its acknowledgement was made (a shared-subscription hand-off): a commit covers it, as it may
    // already have been passed over as delivered
    if (w.packet !== undefined && (queued || w.undelivered === 1)) this.commitSoonest()
  }

  /** A stored delivery of the message is acknowledged, dropped or handed on. */
  delivered(message: Message): void {
    const w = waiting(message)
    if (w === undefined || !w.counts) return
    w.undelivered--
    if (w.undelivered === 0 && w.conn !== undefined) this.drainConn(w.conn)
  }

  /** Sends an acknowledgement once every write made so far is durable, after those of its connection made before it. */
  reply(conn: AckTarget, packet: Packet, message?: Message): void {
    let w = message === undefined ? undefined : waiting(message)
    if (w === undefined) w = new Waiting(conn, packet, false, undefined)
    else {
      w.conn = conn
      w.packet = packet
    }
    w.seq = ++this.seq
    const mine = this.byConn.get(conn)
    // the usual case: delivered already, held by no node, nothing of its connection before it: sent
    // now, and kept in no list (no commit needs it)
    if (mine === undefined && w.holds === 0 && isDelivered(w)) {
      this.forget(w)
      return sendContained(conn, packet)
    }
    w.since = this.timers.now()
    this.queue.push(w)
    this.live++
    if (mine === undefined) this.byConn.set(conn, {items: [w], head: 0})
    else mine.items.push(w)
    if (isDelivered(w)) this.drainConn(conn)
    else if (w.counts && !w.queued) this.armSoon()
    else this.commitSoonest()
  }

  /** Commits now, or right after the commit that runs (which does not cover what was written since it started). */
  private commitSoonest(): void {
    if (this.armed) this.promptAfterCommit = true
    else this.arm()
  }

  /**
   * A PUBACK whose message went only to connected clients will most likely be released by their
   * acknowledgements, and then needs no commit: a commit starts only once the oldest acknowledgement
   * still waiting for one has waited graceMs (a receiver that does not keep up). Under a steady flow
   * whose receivers keep up, no commit runs at all, and deliveries acknowledged meanwhile never reach
   * the store (other writes the store commits on its own, see BufferedStore).
   */
  private armSoon(): void {
    if (this.armed || this.graceTimer !== undefined) return
    const oldest = this.oldestUncommitted()
    if (oldest === undefined) return
    const now = this.timers.now()
    this.graceTimer = this.timers.setTimeout(() => this.graceOver(), Math.max(0, oldest.since + this.grace - now))
  }

  /** How long a PUBACK waits for its deliveries before a commit starts for it, in ms. */
  get grace(): number {
    return Math.max(this.graceMs, Math.min(this.commitMs, MAX_DELIVERY_GRACE_MS))
  }

  private graceOver(): void {
    this.graceTimer = undefined
    if (this.armed) return
    const oldest = this.oldestUncommitted()
    if (oldest === undefined) return
    if (this.timers.now() >= oldest.since + this.grace) this.arm()
    else this.armSoon()
  }

  /**
   * The oldest record that a commit would help: not done, not covered by a commit, not released by its
   * deliveries. Those before it that no commit helps (held by other nodes, or behind such a one of
   * their connection) are passed over once.
   */
  private oldestUncommitted(): Waiting | undefined {
    this.trim()
    const q = this.queue
    let i = Math.max(this.scanFrom, this.head)
    while (i < q.length && (q[i]!.done || q[i]!.seq <= this.committedUpTo || isDelivered(q[i]!))) i++
    this.scanFrom = i
    return q[i]
  }

  private arm(): void {
    this.armed = true
    this.promptAfterCommit = false
    const upTo = this.seq
    const started = performance.now()
    const startedAt = this.timers.now()
    this.commitNow().then(() => {
      const seconds = (performance.now() - started) / 1000
      this.commits.count++
      this.commits.seconds += seconds
      if (seconds > this.commits.maxSeconds) this.commits.maxSeconds = seconds
      // on the engine's clock, so fake time in tests sees commits take no time
      this.commitMs += (this.timers.now() - startedAt - this.commitMs) * COMMIT_MEAN_WEIGHT
      if (upTo > this.committedUpTo) this.committedUpTo = upTo
      this.armed = false
      // (a connection drained empty leaves the map as it is walked: a Map allows that)
      for (const conn of this.byConn.keys()) this.drainConn(conn)
      if (this.promptAfterCommit) this.arm()
      else this.armSoon()
    }, (error: unknown) => this.failed(error, upTo))
  }

  private commitNow(): Promise<void> {
    this.beforeCommit()
    return this.store.durable()
  }

  /** Sends the acknowledgements of one connection that are ready, in order, up to the first that is not. */
  private drainConn(conn: AckTarget): void {
    const mine = this.byConn.get(conn)
    if (mine === undefined) return
    // each record leaves the list before its packet is sent: a send that comes back here (a connection
    // that closes as it is written to, and so releases deliveries of its own) sees only what is left
    const items = mine.items
    while (mine.head < items.length) {
      const w = items[mine.head]!
      if (w.holds > 0 || (w.seq > this.committedUpTo && !isDelivered(w))) break
      items[mine.head++] = undefined
      const packet = w.packet!
      this.finish(w)
      sendContained(conn, packet)
    }
    if (mine.head === items.length) {
      if (this.byConn.get(conn) === mine) this.byConn.delete(conn)
    } else if (mine.head > 64 && mine.head * 2 > items.length) {
      items.splice(0, mine.head)
      mine.head = 0
    }
    this.trim()
  }

  private failed(error: unknown, upTo: number): void {
    this.armed = false
    this.logger.error({err: (error as Error)?.message ?? String(error)}, 'persistence failed: acknowledgements withheld')
    // every connection with an acknowledgement that the failed commit was to cover is closed, unanswered
    const failedConns = new Set<AckTarget>()
    for (let i = this.head; i < this.queue.length; i++) {
      const w = this.queue[i]!
      if (!w.done && w.seq <= upTo && w.seq > this.committedUpTo && !isDelivered(w)) failedConns.add(w.conn!)
    }
    for (const conn of failedConns) this.withhold(conn, 'the broker cannot store messages')
    this.trim()
    if (this.oldestUncommitted() !== undefined) this.arm()
  }

  /**
   * None of the connection's acknowledgements waiting here is sent: it is closed, for its client to
   * send again (`forget`: with the packet ids of its QoS 2 PUBLISHes let go).
   */
  private withhold(conn: AckTarget, reason: string, forget = false): void {
    const mine = this.byConn.get(conn)
    if (mine !== undefined) {
      for (let i = mine.head; i < mine.items.length; i++) {
        const w = mine.items[i]!
        if (forget && w.packet?.cmd === 'pubrec') conn.forgetInbound?.(w.packet.messageId!)
        this.finish(w)
      }
    }
    this.byConn.delete(conn)
    conn.disconnect(ReasonCode.UnspecifiedError, reason)
  }

  /** The record is done: its message no longer points at it, nor it at the message and packet. */
  private finish(w: Waiting): void {
    w.done = true
    this.live--
    this.forget(w)
    w.message = undefined
    w.packet = undefined
    w.conn = undefined
  }

  private forget(w: Waiting): void {
    if (w.message?.ack !== undefined) {
      w.message.ack = undefined
      this.counted--
    }
  }

  /** Forgets the records done at the front of the queue. */
  private trim(): void {
    const q = this.queue
    while (this.head < q.length && q[this.head]!.done) q[this.head++] = undefined
    if (this.head === q.length) {
      q.length = 0
      this.head = 0
      this.scanFrom = 0
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      q.splice(0, this.head)
      this.scanFrom = Math.max(0, this.scanFrom - this.head)
      this.head = 0
    } else if (q.length - this.head > 4096 && this.live * 4 < q.length - this.head) {
      // a record held long at the front (another node that does not confirm) while the others' are
      // done behind it: those are dropped here rather than kept until it goes
      let n = 0
      for (let i = this.head; i < q.length; i++) if (!q[i]!.done) q[n++] = q[i]
      q.length = n
      this.head = 0
      this.scanFrom = 0
    }
  }
}
