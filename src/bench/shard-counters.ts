// One shard's accounting: the counts and latency histograms its report is made of, the live copies of
// the counts in its slot of the shared stats (read by the runner), and the measurement window that
// decides which histogram a latency sample goes to.
import {BenchError} from './connection.js'
import {LatencyHistogram} from './histogram.js'
import type {Publisher} from './publisher.js'
import type {IntervalReport, ShardPlan, ShardReport} from './shard-protocol.js'
import {SharedStats, SLOT, Stat} from './stats.js'
import type {SequenceTracker} from './tracker.js'

export class ShardCounters {
  /** Every shard's live counters (the outstanding window is summed over all of them). */
  readonly shared: SharedStats
  private readonly stats: Float64Array
  private readonly base: number

  readonly hist = {endToEnd: new LatencyHistogram(), publishToAck: new LatencyHistogram(), connect: new LatencyHistogram(), sendLag: new LatencyHistogram()}
  /** Samples from the warm-up: reported instead when a run (-L) ends before its window starts. */
  readonly warmupHist = {endToEnd: new LatencyHistogram(), publishToAck: new LatencyHistogram()}
  /** Every sample since the last `interval` command (warm-up included), when the plan asks for them. */
  readonly interval: {endToEnd: LatencyHistogram; publishToAck: LatencyHistogram} | undefined
  readonly failures: Record<string, number> = {}
  readonly connackCodes: Record<string, number> = {}
  readonly errors: Record<string, number> = {}

  sent = 0
  /** QoS 1/2 publishes of all publishers awaiting their ack. */
  inflight = 0
  acked = 0
  refused = 0
  received = 0
  untracked = 0
  expected = 0
  attempted = 0
  connected = 0
  failed = 0
  lost = 0
  errorCount = 0
  firstAttempt = 0
  lastConnack = 0

  /** The measurement window (clock microseconds); samples before it are the warm-up's. */
  windowStart = 0
  windowEnd = Number.POSITIVE_INFINITY

  constructor(plan: Pick<ShardPlan, 'stats' | 'statSlots' | 'shard' | 'intervalLatency'>) {
    this.interval = plan.intervalLatency ? {endToEnd: new LatencyHistogram(), publishToAck: new LatencyHistogram()} : undefined
    this.shared = new SharedStats(plan.stats, plan.statSlots)
    this.stats = this.shared.view
    this.base = plan.shard * SLOT
  }

  /** Publishes one live counter of this shard. */
  set(stat: number, value: number): void {
    this.stats[this.base + stat] = value
  }

  increment(stat: number): void {
    this.stats[this.base + stat]++
  }

  /** Publishes the counters the hot paths update without publishing each time. */
  flush(): void {
    const b = this.base
    this.stats[b + Stat.Sent] = this.sent
    this.stats[b + Stat.Expected] = this.expected
    this.stats[b + Stat.Received] = this.received
    this.stats[b + Stat.Inflight] = this.inflight
  }

  error(reason: string): void {
    this.errors[reason] = (this.errors[reason] ?? 0) + 1
    this.errorCount++
    this.stats[this.base + Stat.Errors] = this.errorCount
  }

  connectFailed(error: unknown): void {
    const reason = error instanceof BenchError ? error.reason : `connect: ${(error as Error).message}`
    if (reason === 'connect: aborted') return
    this.failed++
    this.failures[reason] = (this.failures[reason] ?? 0) + 1
    if (error instanceof BenchError && error.connackCode !== undefined) {
      this.connackCodes[error.connackCode] = (this.connackCodes[error.connackCode] ?? 0) + 1
    }
    this.stats[this.base + Stat.ConnectFailed] = this.failed
    this.error(reason)
  }

  connectionLost(reason: string): void {
    this.lost++
    this.connected--
    this.failures[reason] = (this.failures[reason] ?? 0) + 1
    this.error(reason)
    this.stats[this.base + Stat.Lost] = this.lost
    this.stats[this.base + Stat.Connected] = this.connected
  }

  /** The interval's latency samples, and a fresh interval. */
  takeInterval(): IntervalReport {
    const empty = new LatencyHistogram().encode()
    const i = this.interval
    if (!i) return {endToEnd: empty, publishToAck: empty}
    const out = {endToEnd: i.endToEnd.encode(), publishToAck: i.publishToAck.encode()}
    i.endToEnd.reset()
    i.publishToAck.reset()
    return out
  }

  /** `subscribers`: receivers' sequence trackers (receiver.ts's Subscriber; named structurally, since receiver.ts imports this file). */
  report(publishers: readonly Publisher[], subscribers: ReadonlyArray<{readonly tracker: SequenceTracker}>): ShardReport {
    this.flush()
    let duplicates = 0
    let reordered = 0
    let gaps = 0
    let unique = 0
    for (const s of subscribers) {
      duplicates += s.tracker.duplicates
      reordered += s.tracker.reordered
      gaps += s.tracker.gaps()
      unique += s.tracker.unique
    }
    let unacked = 0
    for (const p of publishers) unacked += p.inflight
    return {
      sent: this.sent, acked: this.acked, refused: this.refused, unacked, expected: this.expected,
      received: this.received, duplicates, reordered, untracked: this.untracked, gaps, unique: unique + this.untracked,
      attempted: this.attempted, connected: this.connected, failed: this.failed, lost: this.lost,
      failures: this.failures, connackCodes: this.connackCodes, errors: this.errors,
      firstAttempt: this.firstAttempt, lastConnack: this.lastConnack,
      histograms: {
        endToEnd: this.hist.endToEnd.encode(), publishToAck: this.hist.publishToAck.encode(),
        connect: this.hist.connect.encode(), sendLag: this.hist.sendLag.encode(),
        warmupEndToEnd: this.warmupHist.endToEnd.encode(), warmupPublishToAck: this.warmupHist.publishToAck.encode(),
      },
    }
  }
}
