// The publishing side of a shard: paces its publishers, closed loop (as fast as their sockets, QoS
// windows and the run's outstanding bound allow) or open loop (each on its schedule), writes their
// PUBLISHes in blocks stamped for end-to-end latency, and settles their acknowledgements.
import {reasonName} from '../codec/index.js'
import type {Clock} from './clock.js'
import {SEQ_OFFSET, TIME_OFFSET} from './payload.js'
import {BOUND, type Publisher} from './publisher.js'
import type {ShardCounters} from './shard-counters.js'
import type {ShardPlan, StartArgs} from './shard-protocol.js'
import {Stat} from './stats.js'

/** Open loop: how much may queue in the socket before due messages wait (they keep their intended time). */
const OPEN_LOOP_BOUND = 1024 * 1024
const TICK_US = 1000

export class PublishLoop {
  private running = false
  private t0 = 0
  private pumpScheduled = false
  private waitingForWindow = false
  private ticker: NodeJS.Timeout | undefined
  private anyFanout = false

  constructor(private readonly plan: ShardPlan, private readonly publishers: readonly Publisher[],
    private readonly counters: ShardCounters, private readonly clock: Clock) {}

  get isRunning(): boolean { return this.running }

  start(args: StartArgs): void {
    this.t0 = args.t0
    this.publishers.forEach((p, k) => {
      p.fanout = args.fanout[k] ?? 0
      if (p.fanout > 0) this.anyFanout = true
    })
    this.running = true
    const interval = this.plan.intervalUs
    if (interval > 0) {
      // spread the publishers over one interval, so that they do not all send on the same tick
      const all = this.plan.shards * Math.max(1, this.publishers.length)
      this.publishers.forEach((p, k) => { p.offsetUs = ((k * this.plan.shards + this.plan.shard) / all) * interval })
      this.ticker = setInterval(this.tick, 1)
      this.tick()
    } else {
      this.schedule()
    }
  }

  stop(): void {
    this.running = false
    clearInterval(this.ticker)
    this.ticker = undefined
  }

  readonly schedule = () => {
    if (this.pumpScheduled || !this.running) return
    this.pumpScheduled = true
    setImmediate(this.pump)
  }

  /** Deliveries came in: a pump that waited for the outstanding window to open may go on. */
  readonly deliveriesArrived = () => {
    if (this.waitingForWindow) {
      this.waitingForWindow = false
      this.schedule()
    }
  }

  /** Closed loop: every publisher writes as much as its socket, its QoS window and the outstanding window allow. */
  private readonly pump = () => {
    this.pumpScheduled = false
    if (!this.running || this.plan.intervalUs > 0) return
    let room = Number.POSITIVE_INFINITY
    if (this.plan.maxOutstanding > 0 && this.anyFanout) {
      room = this.plan.maxOutstanding - (this.counters.shared.total(Stat.Expected) - this.counters.shared.total(Stat.Received))
    }
    let progressed = false
    let blocked = false
    for (const p of this.publishers) {
      if (p.done || p.closed || !p.conn) continue
      let n = Math.min(p.blockCount, Math.floor((BOUND - p.conn.queued) / p.packetLength), p.remaining)
      if (p.window > 0) n = Math.min(n, p.window - p.inflight)
      if (p.fanout > 0 && room !== Number.POSITIVE_INFINITY) {
        const r = Math.floor(room / p.fanout)
        if (r <= 0) { blocked = true; continue }
        n = Math.min(n, r)
      }
      if (n <= 0) continue
      this.send(p, n, this.clock(), 0)
      room -= n * p.fanout
      progressed = true
    }
    this.counters.flush()
    this.waitingForWindow = blocked && !progressed
    if (progressed) this.schedule()
    else if (blocked) setTimeout(this.schedule, 1)
  }

  /** Open loop: every publisher sends what its schedule says is due by now. */
  private readonly tick = () => {
    if (!this.running) return
    const now = this.clock()
    const interval = this.plan.intervalUs
    for (const p of this.publishers) {
      if (p.done || p.closed || !p.conn) continue
      const dueBy = Math.floor((now - this.t0 - p.offsetUs) / interval) + 1
      let n = Math.min(dueBy - p.seq, p.remaining, p.blockCount, Math.floor((OPEN_LOOP_BOUND - p.conn.queued) / p.packetLength))
      if (p.window > 0) n = Math.min(n, p.window - p.inflight)
      // a fresh time per publisher: the writes before this one took time too
      if (n > 0) this.send(p, n, this.clock(), interval)
    }
    this.counters.flush()
  }

  /**
   * Writes n PUBLISHes in one buffer: a copy of the prebuilt block with sequence numbers, send times
   * and packet ids patched in. Closed loop stamps the actual time; open loop the intended time of each
   * message, allowing one pacing tick (a message sent later than that is late by the bench's or the
   * broker's fault, and its latency shows it: no coordinated omission).
   */
  private send(p: Publisher, n: number, now: number, interval: number): void {
    const c = this.counters
    const len = p.packetLength
    const buf = Buffer.from(p.block.subarray(0, n * len))
    const inWindowLag = interval > 0 && now >= c.windowStart && now < c.windowEnd
    for (let k = 0; k < n; k++) {
      const seq = p.seq++
      let stamp = now
      if (interval > 0) {
        const intended = this.t0 + p.offsetUs + seq * interval
        stamp = intended + TICK_US < now ? intended + TICK_US : now
        if (inWindowLag) c.hist.sendLag.record(now - intended)
      }
      const o = k * len + p.payloadOffset
      if (p.tracked) {
        buf.writeUInt32LE(seq, o + SEQ_OFFSET)
        buf.writeDoubleLE(stamp, o + TIME_OFFSET)
      }
      if (p.window > 0) {
        const id = p.freeIds[--p.freeTop]
        buf.writeUInt16BE(id, k * len + p.idOffset)
        p.sentAt[id] = stamp
        p.inflight++
        c.inflight++
      }
    }
    p.conn.write(buf)
    c.sent += n
    c.expected += n * p.fanout
    if (p.remaining <= 0) this.publisherFinished(p)
  }

  /** The publisher's connection is gone: what it had in flight is no longer awaited. */
  publisherLost(p: Publisher): void {
    this.counters.inflight -= p.inflight
    this.counters.set(Stat.Inflight, this.counters.inflight)
    p.closed = true
    this.publisherFinished(p)
  }

  private publisherFinished(p: Publisher): void {
    if (p.done) return
    p.done = true
    this.counters.increment(Stat.PublishersDone)
  }

  onAck(p: Publisher, id: number, code: number): void {
    const c = this.counters
    const sentAt = id <= p.window ? p.sentAt[id] : 0
    if (sentAt === 0) return c.error(`protocol: acknowledgement for unknown packet id ${id}`)
    p.sentAt[id] = 0
    p.freeIds[p.freeTop++] = id
    p.inflight--
    if (code >= 0x80) {
      c.refused++
      c.error(`PUBACK: ${reasonName(code)} (0x${code.toString(16)})`)
    } else {
      c.acked++
      c.interval?.publishToAck.record(this.clock() - sentAt)
      if (sentAt >= c.windowStart) {
        if (sentAt < c.windowEnd) c.hist.publishToAck.record(this.clock() - sentAt)
      } else {
        c.warmupHist.publishToAck.record(this.clock() - sentAt)
      }
    }
    c.inflight--
    c.set(Stat.Acked, c.acked)
    c.set(Stat.Refused, c.refused)
    c.set(Stat.Inflight, c.inflight)
    if (this.plan.intervalUs > 0) {
      if (!this.pumpScheduled && this.running) {
        this.pumpScheduled = true
        setImmediate(() => { this.pumpScheduled = false; this.tick() })
      }
    } else {
      this.schedule()
    }
  }
}
