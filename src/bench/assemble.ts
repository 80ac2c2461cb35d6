// The end of a run: the shards' reports merged (counts summed, histograms added) and the runner's
// phase times and snapshots turned into one BenchResult document.
import type {BenchConfig} from './config.js'
import {LatencyHistogram, type LatencySummary} from './histogram.js'
import type {Pacing} from './loop.js'
import {explainLoss} from './loss.js'
import {RESULT_SCHEMA, type BenchResult} from './result.js'
import type {ClientPlan, ShardReport} from './shard-protocol.js'
import type {Snapshot} from './snapshot.js'

export interface AssembleInput {
  config: BenchConfig
  clients: ClientPlan[]
  reports: ShardReport[]
  startedAt: Date
  tStart: number
  tConnected: number
  tRunStart: number
  windowA: Snapshot | undefined
  windowB: Snapshot | undefined
  tDrain: number
  tDrained: number
  pacing: Pacing
  end: number
  interrupted: boolean
  workers: number
  /** The measurement window opened (the run lasted past its warm-up). */
  windowStarted: boolean
  /** Every publisher sent its -L share. */
  finished: boolean
  /** Around the connect phase: `bench conn` reports CPU over it. */
  connectA: Snapshot | undefined
  connectB: Snapshot | undefined
}

export function assembleResult(x: AssembleInput): BenchResult {
  const {config, reports} = x
  const sum = (k: keyof ShardReport) => reports.reduce((a, r) => a + (r[k] as number), 0)
  const histogram = (k: keyof ShardReport['histograms']): LatencyHistogram => {
    const h = new LatencyHistogram()
    for (const r of reports) h.add(LatencyHistogram.decode(r.histograms[k]))
    return h
  }
  const merge = (k: keyof ShardReport['histograms']): LatencySummary | null => histogram(k).summary() ?? null
  // the histogram each latency summary was read from, as assembled below
  const pick = (window: 'endToEnd' | 'publishToAck', warmup: 'warmupEndToEnd' | 'warmupPublishToAck') => {
    const h = x.windowStarted ? histogram(window) : undefined
    if (h && h.count > 0) return h
    return x.finished || !x.windowStarted ? histogram(warmup) : undefined
  }
  const distribution = (): BenchResult['latency']['distribution'] => {
    const e2e = pick('endToEnd', 'warmupEndToEnd')
    if (e2e && e2e.count > 0) return {of: 'endToEnd', points: e2e.distribution()}
    const ack = pick('publishToAck', 'warmupPublishToAck')
    return ack && ack.count > 0 ? {of: 'publishToAck', points: ack.distribution()} : null
  }
  const mergeCounts = (k: 'failures' | 'errors' | 'connackCodes') => {
    const out: Record<string, number> = {}
    for (const r of reports) for (const [key, n] of Object.entries(r[k])) out[key] = (out[key] ?? 0) + n
    return out
  }
  const firstAttempt = Math.min(...reports.map((r) => r.firstAttempt || Number.POSITIVE_INFINITY))
  const lastConnack = Math.max(0, ...reports.map((r) => r.lastConnack))
  const connected = sum('connected') + sum('lost')
  const connectSpan = (lastConnack - firstAttempt) / 1e6
  const expected = sum('expected')
  const unique = sum('unique')
  const e2e = config.mode === 'e2e'
  const lost = e2e ? Math.max(0, expected - unique) : config.mode === 'sub' ? sum('gaps') : 0
  const lossBase = e2e ? expected : unique + lost
  const a = x.windowA
  const b = x.windowB
  const seconds = a && b ? (b.t - a.t) / 1e6 : 0
  const per = (n: number) => seconds > 0 ? n / seconds : 0
  // CPU over the measurement window; `bench conn` over the connect phase, the part it measures
  const [ca, cb] = config.mode === 'conn' ? [x.connectA, x.connectB] : [a, b]
  const cpuSeconds = ca && cb ? (cb.t - ca.t) / 1e6 : 0
  const cpu = ca && cb ? {user: (cb.cpu.user - ca.cpu.user) / 1e6, system: (cb.cpu.system - ca.cpu.system) / 1e6} : {user: 0, system: 0}
  const brokerCpu = ca?.broker !== undefined && cb?.broker !== undefined ? cb.broker - ca.broker : undefined
  const version = config.client.protocolVersion ?? 5
  const publishers = config.mode === 'e2e' || config.mode === 'pub' ? config.publishers : 0
  const subscribers = config.mode === 'e2e' || config.mode === 'sub' ? config.subscribers : 0
  const result: BenchResult = {
    tool: 'midge bench', schema: RESULT_SCHEMA, mode: config.mode,
    broker: {url: config.brokerUrl, protocolVersion: version === 5 ? '5' : version === 4 ? '3.1.1' : '3.1', embedded: config.embedded ?? false},
    parameters: {
      publishers, subscribers, connections: config.mode === 'conn' ? config.connections : 0, qos: config.qos as 0 | 1 | 2,
      payloadSize: config.payloadSize, topic: publishers ? config.topic : null, subscribeTopic: subscribers ? config.subscribeTopics.join(',') : null,
      loop: publishers ? x.pacing.loop : null,
      rate: x.pacing.rate,
      limit: config.limit, inflight: config.inflight, duration: config.duration, warmup: config.warmup, workers: x.workers,
      maxOutstanding: x.pacing.maxOutstanding,
    },
    startedAt: x.startedAt.toISOString(),
    interrupted: x.interrupted,
    durations: {
      connect: round3(((x.tConnected || x.end) - x.tStart) / 1e6),
      warmup: round3(a && x.tRunStart ? (a.t - x.tRunStart) / 1e6 : 0),
      measure: round3(seconds),
      drain: round3(x.tDrain ? (x.tDrained - x.tDrain) / 1e6 : 0),
      total: round3((x.end - x.tStart) / 1e6),
    },
    connections: {
      attempted: sum('attempted'), connected, failed: sum('failed'), lost: sum('lost'), failures: mergeCounts('failures'),
      rate: connectSpan > 0 ? Math.round(connected / connectSpan) : 0,
      connackCodes: mergeCounts('connackCodes'),
    },
    messages: {
      sent: sum('sent'), acked: sum('acked'), refused: sum('refused'), unacked: sum('unacked'), expected,
      received: sum('received'), duplicates: sum('duplicates'), reordered: sum('reordered'), lost,
      lossPercent: lossBase > 0 ? round3((lost / lossBase) * 100) : 0, untracked: sum('untracked'),
    },
    loss: {causes: [], brokerDrops: null},
    window: a && b ? {seconds: round3(seconds), sent: b.sent - a.sent, received: b.received - a.received, acked: b.acked - a.acked}
      : {seconds: 0, sent: 0, received: 0, acked: 0},
    rates: a && b ? {sent: Math.round(per(b.sent - a.sent)), received: Math.round(per(b.received - a.received)), acked: Math.round(per(b.acked - a.acked))}
      : {sent: 0, received: 0, acked: 0},
    latency: {
      unit: 'us',
      // a run that ended (-L) before its window opened, or before any message sent in it came back,
      // reports its warm-up instead
      endToEnd: (x.windowStarted ? merge('endToEnd') : null) ?? (x.finished || !x.windowStarted ? merge('warmupEndToEnd') : null),
      publishToAck: (x.windowStarted ? merge('publishToAck') : null) ?? (x.finished || !x.windowStarted ? merge('warmupPublishToAck') : null),
      connect: merge('connect'), sendLag: merge('sendLag'), distribution: distribution(),
    },
    errors: mergeCounts('errors'),
    cpu: {
      bench: {user: round3(cpu.user), system: round3(cpu.system), cores: cpuSeconds > 0 ? round3((cpu.user + cpu.system) / cpuSeconds) : 0},
      broker: config.brokerPid && brokerCpu !== undefined ? {pid: config.brokerPid, seconds: round3(brokerCpu), cores: cpuSeconds > 0 ? round3(brokerCpu / cpuSeconds) : 0} : null,
    },
    gates: [], baseline: null, exitCode: 0, failure: null,
  }
  result.loss.causes = explainLoss(result, null)
  return result
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}
