// The run's progress as the caller sees it: the phase, and once per status interval the live
// counters summed over the shards, with rates over the last interval.
import type {Clock} from './clock.js'
import type {LatencySummary} from './histogram.js'
import type {SharedStats} from './stats.js'

export type BenchPhase = 'connecting' | 'warmup' | 'measuring' | 'holding' | 'draining' | 'closing'

export interface BenchStatus {
  phase: BenchPhase
  /** Seconds since the bench started. */
  elapsed: number
  /** 0..1 through the current phase, when known. */
  progress: number | undefined
  /** Seconds into the run (warm-up + window) and its planned length (0: open-ended). */
  runElapsed: number
  runLength: number
  clients: number
  attempted: number
  connected: number
  failed: number
  lost: number
  sent: number
  received: number
  acked: number
  errors: number
  /** Per second, over the last status interval. */
  sentRate: number
  receivedRate: number
  ackedRate: number
  connectRate: number
  /** With RunHooks.intervalLatency: the latencies of the samples taken over the last interval (µs). */
  latency?: {endToEnd: LatencySummary | null; publishToAck: LatencySummary | null}
}

export interface RunHooks {
  signal?: AbortSignal
  onStatus?: (status: BenchStatus) => void
  /** Status interval in ms (default 1000). */
  statusInterval?: number
  /** Give each status the latency percentiles of its interval (the shards keep per-interval histograms). */
  intervalLatency?: boolean
}
/** Calls onStatus every interval until stopped; the runner moves `phase` and sets the run's span. */
export class StatusReporter {
  phase: BenchPhase = 'connecting'
  /** When the run (warm-up + window) started, 0 before. */
  runStart = 0
  /** Seconds the run is planned to last (0: open-ended). */
  runLength = 0
  private previous: {t: number; sent: number; received: number; acked: number; connected: number}
  private readonly timer: NodeJS.Timeout
  private stopped = false
  private fetching = false

  constructor(private readonly stats: SharedStats, private readonly clock: Clock, private readonly tStart: number,
    private readonly clients: number, private readonly hooks: RunHooks,
    private readonly latency?: () => Promise<NonNullable<BenchStatus['latency']>>) {
    this.previous = {t: clock(), sent: 0, received: 0, acked: 0, connected: 0}
    this.timer = setInterval(this.emit, hooks.statusInterval ?? 1000)
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
  }

  private readonly emit = () => {
    const onStatus = this.hooks.onStatus
    if (!onStatus || this.fetching) return
    const {phase, runStart, runLength, previous} = this
    const s = this.stats.snapshot()
    const t = this.clock()
    const dt = Math.max(1e-6, (t - previous.t) / 1e6)
    const runElapsed = runStart ? (t - runStart) / 1e6 : 0
    const target = this.clients
    const progress = phase === 'connecting' ? (target ? (s.Connected + s.ConnectFailed) / target : 1)
      : (phase === 'warmup' || phase === 'measuring' || phase === 'holding') && runLength > 0 ? Math.min(1, runElapsed / runLength) : undefined
    const status: BenchStatus = {
      phase, elapsed: (t - this.tStart) / 1e6, progress, runElapsed, runLength, clients: target,
      attempted: s.Attempted, connected: s.Connected, failed: s.ConnectFailed, lost: s.Lost,
      sent: s.Sent, received: s.Received, acked: s.Acked, errors: s.Errors,
      sentRate: (s.Sent - previous.sent) / dt, receivedRate: (s.Received - previous.received) / dt,
      ackedRate: (s.Acked - previous.acked) / dt, connectRate: (s.Connected + s.Lost - previous.connected) / dt,
    }
    this.previous = {t, sent: s.Sent, received: s.Received, acked: s.Acked, connected: s.Connected + s.Lost}
    if (!this.latency) return onStatus(status)
    // the shards answer between their own work: the status goes out when they have
    this.fetching = true
    this.latency().then((latency) => {
      this.fetching = false
      if (!this.stopped) onStatus({...status, latency})
    }, () => { this.fetching = false })
  }
}
