import type {Packet} from '../codec/index.js'
import {ReasonCode} from '../codec/index.js'
import type {Logger} from './logger.js'
import type {Message} from './message.js'
import {realTimers, type Timers} from './timers.js'
import type {BrokerStore} from './store/types.js'

/** Where a held acknowledgement goes: the connection it answers (AckTarget, seen through this port). */
export interface AckTarget {
  readonly clientId: string
  readonly broker: {internalError(error: unknown, context: {clientId?: string; packet?: string; during: string}): void}
  readonly stream: {destroy(): void}
  send(packet: Packet): void
  disconnect(reasonCode: number, reason: string): void
}

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

interface Waiting {
  seq: number
  /** When its acknowledgement was made (timers.now()). */
  since: number
  conn: AckTarget | undefined
  packet: Packet | undefined
  /** The writes made before it are committed. */
  committed: boolean
  /**
   * For a QoS 1 PUBLISH that is not retained: the stored deliveries of its message not yet acknowledged
   * by their receivers. At 0 the message is delivered everywhere it had to be kept, so its PUBACK needs
   * no commit.
   */
  undelivered: number
  /** A delivery went to a queue (an offline client, a full window): waiting for it would take long. */
  queued: boolean
  /** The QoS 1 message whose deliveries are counted, if any. */
  readonly message: Message | undefined
}

/**
 * Holds acknowledgements (PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK) until the state they confirm is
 * durable, and sends them in the order they were made [MQTT-4.6.0-2]. Commits (store.durable()) run one
 * at a time and take every write made before they start.
 *
 * A QoS 1 PUBLISH that every stored receiver has already acknowledged needs no commit: nothing of it is
 * left to lose. Its PUBACK goes as soon as those before it can, so a publisher whose subscribers keep
 * up does not wait for the disk (a commit with full sync takes 2-4 ms on the machine measured, which
 * bounded a window of 100 messages in flight to ~40k msg/s).
 */
export class AckQueue {
  /** Waiting from `head` on; a slot before it is cleared once sent, so that its message and packet can be collected. */
  private readonly queue: Array<Waiting | undefined> = []
  private head = 0
  private seq = 0
  private armed = false
  /** Acknowledgements that need the disk (not a QoS 1 PUBACK waiting on connected receivers) made while a commit ran. */
  private promptAfterCommit = false
  private graceTimer: unknown
  /** QoS 1 messages being published or waiting for their PUBACK (each holds its Waiting in `message.ack`). */
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

  /** A QoS 1 message is about to be routed: its stored deliveries will be counted (see delivered). */
  expect(message: Message): void {
    if (message.retain) return // the retained copy must be durable anyway
    if (message.ack === undefined) this.counted++
    message.ack = {seq: 0, since: 0, conn: undefined, packet: undefined, committed: false, undelivered: 0, queued: false, message} satisfies Waiting
  }

  /** Routing the message failed (a hook threw): it will never be acknowledged, so stop counting for it. */
  unroutable(message: Message): void {
    const w = waiting(message)
    if (w !== undefined && w.packet === undefined) this.forget(w)
  }

  /** Whether the message's stored deliveries are counted (a QoS 1 PUBLISH whose PUBACK is not sent yet). */
  counts(message: Message): boolean {
    return message.ack !== undefined
  }

  /** How many QoS 1 messages are being counted (routed, not yet acknowledged to their publisher). */
  get tracked(): number {
    return this.counted
  }

  /**
   * A delivery of the message was stored (routing, or a shared-subscription hand-off): sent to a
   * connected client, or queued.
   */
  stored(message: Message, queued: boolean): void {
    const w = waiting(message)
    if (w === undefined) return
    w.undelivered++
    if (queued && !w.queued) {
      w.queued = true
      if (w.packet !== undefined) this.commitSoonest()
    }
  }

  /** A stored delivery of the message is acknowledged, dropped or handed on. */
  delivered(message: Message): void {
    const w = waiting(message)
    if (w === undefined) return
    w.undelivered--
    if (w.undelivered === 0 && w.packet !== undefined) this.drain()
  }

  /** Sends an acknowledgement once every write made so far is durable, after those waiting before it. */
  reply(conn: AckTarget, packet: Packet, message?: Message): void {
    let w = message === undefined ? undefined : waiting(message)
    if (w === undefined) w = {seq: 0, since: 0, conn, packet, committed: false, undelivered: 0, queued: false, message: undefined}
    else {
      w.conn = conn
      w.packet = packet
    }
    w.seq = ++this.seq
    w.since = this.timers.now()
    this.queue.push(w)
    if (isDelivered(w)) this.drain()
    else if (w.message !== undefined && !w.queued) this.armSoon()
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
   * still waiting has waited graceMs (a receiver that does not keep up). Under a steady flow whose
   * receivers keep up, no commit runs at all, and deliveries acknowledged meanwhile never reach the store
   * (other writes the store commits on its own, see BufferedStore).
   */
  private armSoon(): void {
    if (this.armed || this.graceTimer !== undefined) return
    const now = this.timers.now()
    const oldest = this.head < this.queue.length ? this.queue[this.head]!.since : now
    this.graceTimer = this.timers.setTimeout(() => this.graceOver(), Math.max(0, oldest + this.grace - now))
  }

  /** How long a PUBACK waits for its deliveries before a commit starts for it, in ms. */
  get grace(): number {
    return Math.max(this.graceMs, Math.min(this.commitMs, MAX_DELIVERY_GRACE_MS))
  }

  private graceOver(): void {
    this.graceTimer = undefined
    if (this.armed || this.head === this.queue.length) return
    if (this.timers.now() >= this.queue[this.head]!.since + this.grace) this.arm()
    else this.armSoon()
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
      for (let i = this.head; i < this.queue.length && this.queue[i]!.seq <= upTo; i++) this.queue[i]!.committed = true
      this.armed = false
      this.drain()
      if (this.promptAfterCommit) this.arm()
      else if (this.head < this.queue.length) this.armSoon()
    }, (error: unknown) => this.failed(error, upTo))
  }

  private commitNow(): Promise<void> {
    this.beforeCommit()
    return this.store.durable()
  }

  /** Sends every acknowledgement at the head of the queue that is ready. */
  private drain(): void {
    const q = this.queue
    while (this.head < q.length) {
      const w = q[this.head]!
      if (!w.committed && !isDelivered(w)) break
      q[this.head++] = undefined
      this.forget(w)
      sendContained(w.conn!, w.packet!)
    }
    this.compact()
  }

  private failed(error: unknown, upTo: number): void {
    this.armed = false
    this.logger.error({err: (error as Error)?.message ?? String(error)}, 'persistence failed: acknowledgements withheld')
    const q = this.queue
    while (this.head < q.length && q[this.head]!.seq <= upTo) {
      const w = q[this.head]!
      q[this.head++] = undefined
      this.forget(w)
      w.conn!.disconnect(ReasonCode.UnspecifiedError, 'the broker cannot store messages')
    }
    this.compact()
    if (this.head < q.length) this.arm()
  }

  private forget(w: Waiting): void {
    if (w.message?.ack !== undefined) {
      w.message.ack = undefined
      this.counted--
    }
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }
}

/** The message's record, if its deliveries are counted. */
function waiting(message: Message): Waiting | undefined {
  return message.ack as Waiting | undefined
}

function isDelivered(w: Waiting): boolean {
  return w.message !== undefined && w.undelivered === 0
}

/**
 * Sends a held acknowledgement. The drain runs from a commit's promise, so an exception here (an
 * engine bug) would be an unhandled rejection and stall the acknowledgements behind it: it costs that
 * connection instead, reported as the engine's own failure.
 */
function sendContained(conn: AckTarget, packet: Packet): void {
  try {
    conn.send(packet)
  } catch (error) {
    conn.broker.internalError(error, {clientId: conn.clientId, packet: packet.cmd, during: 'sending a held acknowledgement'})
    conn.stream.destroy()
  }
}
