// `--json-stream`: the run as NDJSON on stdout, one `status` record per status interval (phase,
// counts, rates, the interval's latency percentiles, errors) and a last `result` record (the --json
// document), for a dashboard or a CI log to plot.
import type {LatencySummary} from './histogram.js'
import type {BenchResult} from './result.js'
import type {BenchStatus} from './status.js'

export interface StatusRecord {
  type: 'status'
  /** Seconds since the bench started. */
  t: number
  phase: BenchStatus['phase']
  /** Totals so far. */
  sent: number
  received: number
  acked: number
  /** Per second, over the interval. */
  rates: {sent: number; received: number; acked: number}
  /** The samples of the interval (warm-up included), µs; null when none came in. */
  latency: {unit: 'us'; endToEnd: IntervalLatency | null; publishToAck: IntervalLatency | null}
  connections: {connected: number; failed: number; lost: number}
  /** Errors so far (failed and lost connections, refusals, protocol errors). */
  errors: number
}

export type IntervalLatency = Pick<LatencySummary, 'count' | 'p50' | 'p90' | 'p99' | 'p999' | 'max'>

export function statusRecord(s: BenchStatus): StatusRecord {
  const pick = (l: LatencySummary | null | undefined): IntervalLatency | null =>
    l ? {count: l.count, p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, max: l.max} : null
  return {
    type: 'status', t: round3(s.elapsed), phase: s.phase, sent: s.sent, received: s.received, acked: s.acked,
    rates: {sent: Math.round(s.sentRate), received: Math.round(s.receivedRate), acked: Math.round(s.ackedRate)},
    latency: {unit: 'us', endToEnd: pick(s.latency?.endToEnd), publishToAck: pick(s.latency?.publishToAck)},
    connections: {connected: s.connected, failed: s.failed, lost: s.lost},
    errors: s.errors,
  }
}

/** The last line of the stream: the --json document. */
export function resultRecord(r: BenchResult): {type: 'result'} & BenchResult {
  return {type: 'result', ...r}
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}
