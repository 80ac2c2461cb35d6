// The bench runner: plans the clients, spreads them over shards (worker threads), drives the phases
// (connect subscribers, connect publishers, warm-up, measurement window, drain) and merges the shards'
// reports into one BenchResult. It reports progress through onStatus once a second and stops early,
// keeping what was measured, when the signal aborts.
import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import {availableParallelism} from 'node:os'
import {topicMatches, transportTarget, type ClientOptions} from '../client/index.js'
import type {QoS} from '../codec/index.js'
import {clockFor, type ClockName} from './clock.js'
import {LatencyHistogram, type LatencySummary} from './histogram.js'
import {processCpuSeconds} from './proc.js'
import {RESULT_SCHEMA, type BenchMode, type BenchResult} from './result.js'
import type {ClientPlan, ConnectOutcome, Role, ShardPlan, ShardReport} from './shard-protocol.js'
import {inlineShard, workerShard, type ShardHandle} from './shards.js'
import {SharedStats, Stat} from './stats.js'

export interface BenchConfig {
  mode: BenchMode
  /** Where and how to connect (host, port, TLS, version, credentials, keepalive...); clientId is set per client. */
  client: ClientOptions
  /** For the report. */
  brokerUrl: string
  embedded?: boolean
  /** Client id template: %i index, %r role (pub, sub, conn). */
  clientId: string
  publishers: number
  subscribers: number
  /** `bench conn`: idle connections. */
  connections: number
  /** Publishers' topic template: %i index, %c client id. */
  topic: string
  /** Subscribers' filter templates. */
  subscribeTopics: string[]
  qos: QoS
  retain: boolean
  payloadSize: number
  /** Total open-loop rate in msg/s (0: none). */
  rate: number
  /** Open loop per publisher: milliseconds between messages (0: none). Ignored when rate is set. */
  intervalMs: number
  /** Total messages to send (`bench sub`: to receive); 0 = no limit. */
  limit: number
  inflight: number
  /** Seconds of measurement after the warm-up (0: until the limit or the signal). */
  duration: number
  warmup: number
  /** Longest wait for outstanding deliveries and acks after publishing stops, in seconds. */
  drain: number
  /** Worker threads (0: run in this thread). */
  workers: number
  /** Connections in progress at once (whole run). */
  concurrency: number
  connectIntervalMs: number
  connectTimeoutMs: number
  maxOutstanding: number
  clock: ClockName
  /** Added to %i and to the header's stream ids (several bench processes against one broker). */
  startNumber: number
  /** Close with TCP RST (no TIME_WAIT); default for `bench conn`. */
  reset: boolean
  brokerPid?: number
}

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
}

export interface RunHooks {
  signal?: AbortSignal
  onStatus?: (status: BenchStatus) => void
  /** Status interval in ms (default 1000). */
  statusInterval?: number
}

export const DEFAULT_CONFIG: Omit<BenchConfig, 'mode' | 'client' | 'brokerUrl'> = {
  clientId: 'midge-bench-%r-%i', publishers: 10, subscribers: 1, connections: 1000, topic: 'bench/%i', subscribeTopics: ['bench/#'],
  qos: 0, retain: false, payloadSize: 256, rate: 0, intervalMs: 0, limit: 0, inflight: 10, duration: 10, warmup: 2, drain: 10,
  workers: availableParallelism(), concurrency: 100, connectIntervalMs: 0, connectTimeoutMs: 30_000, maxOutstanding: 50_000,
  clock: 'mono', startNumber: 0, reset: false,
}

/** Expands %i, %r and %c in a template. */
export function expand(template: string, index: number, role: string, clientId = ''): string {
  return template.replace(/%([irc%])/g, (_, c: string) => c === 'i' ? String(index) : c === 'r' ? role : c === 'c' ? clientId : '%')
}

/** Every client of the run, in connection order within each role. */
export function planClients(c: BenchConfig): ClientPlan[] {
  const out: ClientPlan[] = []
  const role = (r: Role) => r === 'idle' ? 'conn' : r
  const count = (r: Role) => r === 'idle' ? c.connections : r === 'pub' ? c.publishers : c.subscribers
  const roles: Role[] = c.mode === 'conn' ? ['idle'] : c.mode === 'pub' ? ['pub'] : c.mode === 'sub' ? ['sub'] : ['sub', 'pub']
  for (const r of roles) {
    const n = count(r)
    for (let i = 0; i < n; i++) {
      const index = i + c.startNumber
      const clientId = expand(c.clientId, index, role(r))
      const plan: ClientPlan = {role: r, index: i, clientId}
      if (r === 'pub') {
        plan.topic = expand(c.topic, index, 'pub', clientId)
        plan.stream = index
        plan.limit = c.limit > 0 ? Math.floor(c.limit / n) + (i < c.limit % n ? 1 : 0) : 0
      } else if (r === 'sub') {
        plan.filters = c.subscribeTopics.map((t) => expand(t, index, 'sub', clientId))
      }
      out.push(plan)
    }
  }
  return out
}

/** For each publisher (by index): how many of the subscribed subscribers match its topic. */
export function fanout(clients: ClientPlan[], subscribed: Set<number>): Map<number, number> {
  const subs = clients.filter((c) => c.role === 'sub' && subscribed.has(c.index))
  const out = new Map<number, number>()
  for (const p of clients) {
    if (p.role !== 'pub') continue
    let n = 0
    for (const s of subs) if (s.filters!.some((f) => topicMatches(f, p.topic!))) n++
    out.set(p.index, n)
  }
  return out
}

/**
 * Spreads the clients over the shards, round robin within each role. With two shards or more, an
 * end-to-end run keeps subscribers and publishers on different threads (half the shards each), so
 * that receiving, and the latency it measures, never waits behind a publisher's turn.
 */
export function assignShards(clients: ClientPlan[], shards: number): ClientPlan[][] {
  const out: ClientPlan[][] = Array.from({length: shards}, () => [])
  const subs = clients.filter((c) => c.role === 'sub')
  const pubs = clients.filter((c) => c.role === 'pub')
  if (shards >= 2 && subs.length > 0 && pubs.length > 0) {
    const subShards = Math.min(subs.length, Math.ceil(shards / 2))
    const pubShards = shards - subShards
    subs.forEach((c, i) => out[i % subShards].push(c))
    pubs.forEach((c, i) => out[subShards + (i % pubShards)].push(c))
    return out
  }
  const counters: Record<Role, number> = {pub: 0, sub: 0, idle: 0}
  for (const c of clients) out[counters[c.role]++ % shards].push(c)
  return out
}

interface Snapshot {t: number; sent: number; received: number; acked: number; cpu: NodeJS.CpuUsage; broker: number | undefined}

export async function runBench(config: BenchConfig, hooks: RunHooks = {}): Promise<BenchResult> {
  const clock = clockFor(config.clock)
  const signal = hooks.signal
  const startedAt = new Date()
  const tStart = clock()
  const clients = planClients(config)
  const client = await resolveHost(stripClientOptions(config.client))
  const shardCount = config.workers <= 0 ? 1 : Math.max(1, Math.min(config.workers, clients.length))
  const stats = SharedStats.create(shardCount)
  const perShard = assignShards(clients, shardCount)

  const intervalUs = config.rate > 0 && config.publishers > 0 ? (config.publishers / config.rate) * 1e6 : config.intervalMs * 1000
  const plans: ShardPlan[] = perShard.map((list, shard) => ({
    shard, shards: shardCount, client, connectTimeoutMs: config.connectTimeoutMs,
    clients: list, qos: config.qos, retain: config.retain, payloadSize: config.payloadSize, inflight: config.inflight,
    intervalUs, concurrency: Math.max(1, Math.ceil(config.concurrency / shardCount)),
    connectIntervalUs: config.connectIntervalMs * 1000, maxOutstanding: config.maxOutstanding, clock: config.clock,
    latencyBy: config.mode === 'sub' ? 'receive' : 'send', reset: config.reset, keepalive: config.client.keepalive ?? 60,
    stats: stats.buffer, statSlots: shardCount,
  }))
  const handles: ShardHandle[] = plans.map((p) => config.workers <= 0 ? inlineShard(p) : workerShard(p))
  const all = <T>(command: Parameters<ShardHandle['call']>[0]) => Promise.all(handles.map((h) => h.call<T>(command)))

  let phase: BenchPhase = 'connecting'
  let runStart = 0
  let runLength = 0
  let previous = {t: clock(), sent: 0, received: 0, acked: 0, connected: 0}
  const emitStatus = () => {
    if (!hooks.onStatus) return
    const s = stats.snapshot()
    const t = clock()
    const dt = Math.max(1e-6, (t - previous.t) / 1e6)
    const runElapsed = runStart ? (t - runStart) / 1e6 : 0
    const target = clients.length
    const progress = phase === 'connecting' ? (target ? (s.Connected + s.ConnectFailed) / target : 1)
      : (phase === 'warmup' || phase === 'measuring' || phase === 'holding') && runLength > 0 ? Math.min(1, runElapsed / runLength) : undefined
    hooks.onStatus({
      phase, elapsed: (t - tStart) / 1e6, progress, runElapsed, runLength, clients: target,
      attempted: s.Attempted, connected: s.Connected, failed: s.ConnectFailed, lost: s.Lost,
      sent: s.Sent, received: s.Received, acked: s.Acked, errors: s.Errors,
      sentRate: (s.Sent - previous.sent) / dt, receivedRate: (s.Received - previous.received) / dt,
      ackedRate: (s.Acked - previous.acked) / dt, connectRate: (s.Connected + s.Lost - previous.connected) / dt,
    })
    previous = {t, sent: s.Sent, received: s.Received, acked: s.Acked, connected: s.Connected + s.Lost}
  }
  const statusTimer = setInterval(emitStatus, hooks.statusInterval ?? 1000)
  const onAbort = () => { for (const h of handles) h.call({cmd: 'abort'}).catch(() => undefined) }
  signal?.addEventListener('abort', onAbort, {once: true})
  const aborted = () => signal?.aborted ?? false

  const snapshot = (): Snapshot => ({
    t: clock(), sent: stats.total(Stat.Sent), received: stats.total(Stat.Received), acked: stats.total(Stat.Acked),
    cpu: process.cpuUsage(), broker: config.brokerPid ? processCpuSeconds(config.brokerPid) : undefined,
  })

  let reports: ShardReport[] = []
  let windowA: Snapshot | undefined
  let windowStarted = false
  let finished = false // every publisher sent its -L share: the window then closes when the deliveries are in
  let connectA: Snapshot | undefined
  let connectB: Snapshot | undefined
  let windowB: Snapshot | undefined
  let tConnected = 0
  let tRunStart = 0
  let tDrain = 0
  let tDrained = 0
  try {
    // ---- connect: subscribers first, so that they see the first message ----
    connectA = snapshot()
    const subscribed = new Set<number>()
    const order: Role[] = config.mode === 'conn' ? ['idle'] : config.mode === 'pub' ? ['pub'] : config.mode === 'sub' ? ['sub'] : ['sub', 'pub']
    for (const role of order) {
      if (aborted()) break
      const outcomes = await all<ConnectOutcome>({cmd: 'connect', role, startAt: clock()})
      for (const o of outcomes) for (const i of o.subscribed) subscribed.add(i)
    }
    tConnected = clock()
    connectB = snapshot()
    const fan = fanout(clients, subscribed)
    const needed = config.mode === 'e2e' ? subscribed.size > 0 && stats.total(Stat.Connected) > subscribed.size
      : config.mode === 'sub' ? subscribed.size > 0 : stats.total(Stat.Connected) > 0

    if (!aborted() && needed) {
      // ---- run: warm-up, then the measurement window ----
      runStart = tRunStart = clock()
      const windowStart = tRunStart + config.warmup * 1e6
      const windowEnd = config.duration > 0 ? windowStart + config.duration * 1e6 : Number.POSITIVE_INFINITY
      runLength = config.duration > 0 ? config.warmup + config.duration : 0
      const startSnapshot = snapshot()
      if (config.mode !== 'conn') {
        await Promise.all(handles.map((h, s) => h.call({cmd: 'start', args: {t0: tRunStart, windowStart, windowEnd,
          fanout: perShard[s].filter((c) => c.role === 'pub').map((c) => fan.get(c.index) ?? 0)}})))
      }
      phase = config.mode === 'conn' ? 'holding' : config.warmup > 0 ? 'warmup' : 'measuring'
      const publishers = stats.total(Stat.Publishers)
      while (!aborted()) {
        const now = clock()
        if (!windowA && now >= windowStart) {
          windowA = snapshot()
          windowStarted = true
          if (phase === 'warmup') phase = 'measuring'
        }
        if (now >= windowEnd) break
        if (config.mode !== 'sub' && config.mode !== 'conn' && publishers > 0 && stats.total(Stat.PublishersDone) >= publishers) {
          finished = true
          break
        }
        if (config.mode === 'sub' && config.limit > 0 && stats.total(Stat.Received) >= config.limit) break
        if (stats.total(Stat.Connected) === 0) break
        const next = windowA ? windowEnd : windowStart
        await sleep(Math.max(1, Math.min(20, (next - now) / 1000)), signal)
      }
      windowB = snapshot()
      windowA ??= startSnapshot
      await all({cmd: 'stop'})

      // ---- drain: wait for what is still on its way ----
      if (config.mode === 'e2e' || config.mode === 'pub') {
        phase = 'draining'
        tDrain = clock()
        const limit = (aborted() ? Math.min(1, config.drain) : config.drain) * 1e6
        let lastProgress = tDrain
        let last = -1
        for (;;) {
          const received = stats.total(Stat.Received)
          const settled = stats.total(Stat.Acked) + stats.total(Stat.Refused)
          const done = (config.mode === 'pub' || received >= stats.total(Stat.Expected)) && stats.total(Stat.Inflight) === 0
          const now = clock()
          if (done || now - tDrain > limit) break
          if (received + settled !== last) { last = received + settled; lastProgress = now }
          if (now - lastProgress > 1e6) break
          await sleep(20)
        }
        tDrained = clock()
        if (finished) windowB = snapshot()
      }
    }
    phase = 'closing'
    reports = await all<ShardReport>({cmd: 'report'})
  } finally {
    clearInterval(statusTimer)
    signal?.removeEventListener('abort', onAbort)
    await all({cmd: 'close'}).catch(() => undefined)
    await Promise.all(handles.map((h) => h.terminate()))
  }
  return assemble({config, clients, reports, startedAt, tStart, tConnected, tRunStart, windowA, windowB, tDrain, tDrained,
    end: clock(), interrupted: aborted(), workers: config.workers <= 0 ? 0 : shardCount, windowStarted, connectA, connectB, finished})
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() { signal?.removeEventListener('abort', done); clearTimeout(timer); resolve() }
    signal?.addEventListener('abort', done, {once: true})
  })
}

/**
 * Looks the broker's host name up once, instead of once per connection (getaddrinfo runs on libuv's
 * small thread pool and would pace the connection rate). TLS still verifies the certificate against
 * the name; WebSocket URLs keep it.
 */
async function resolveHost(o: ClientOptions): Promise<ClientOptions> {
  const target = transportTarget(o)
  if (target.socketPath || target.scheme === 'ws' || target.scheme === 'wss' || isIP(target.host)) return o
  try {
    const {address} = await lookup(target.host)
    return {...o, scheme: target.scheme, host: address, port: target.port,
      tls: target.scheme === 'mqtts' ? {...o.tls, servername: o.tls?.servername ?? target.host} : o.tls}
  } catch {
    return o // each connection reports the failure
  }
}

/** Options that cross to a worker thread (no functions, no signals). */
function stripClientOptions(o: ClientOptions): ClientOptions {
  const {signal: _s, transport: _t, trace: _r, ...rest} = o
  return rest
}

interface AssembleInput {
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

function assemble(x: AssembleInput): BenchResult {
  const {config, reports} = x
  const sum = (k: keyof ShardReport) => reports.reduce((a, r) => a + (r[k] as number), 0)
  const merge = (k: keyof ShardReport['histograms']): LatencySummary | null => {
    const h = new LatencyHistogram()
    for (const r of reports) h.add(LatencyHistogram.decode(r.histograms[k]))
    return h.summary() ?? null
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
  return {
    tool: 'midge bench', schema: RESULT_SCHEMA, mode: config.mode,
    broker: {url: config.brokerUrl, protocolVersion: version === 5 ? '5' : version === 4 ? '3.1.1' : '3.1', embedded: config.embedded ?? false},
    parameters: {
      publishers, subscribers, connections: config.mode === 'conn' ? config.connections : 0, qos: config.qos as 0 | 1 | 2,
      payloadSize: config.payloadSize, topic: publishers ? config.topic : null, subscribeTopic: subscribers ? config.subscribeTopics.join(',') : null,
      rate: config.rate > 0 ? config.rate : config.intervalMs > 0 && publishers ? (publishers * 1000) / config.intervalMs : 0,
      limit: config.limit, inflight: config.inflight, duration: config.duration, warmup: config.warmup, workers: x.workers,
      maxOutstanding: config.maxOutstanding,
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
      connect: merge('connect'), sendLag: merge('sendLag'),
    },
    errors: mergeCounts('errors'),
    cpu: {
      bench: {user: round3(cpu.user), system: round3(cpu.system), cores: cpuSeconds > 0 ? round3((cpu.user + cpu.system) / cpuSeconds) : 0},
      broker: config.brokerPid && brokerCpu !== undefined ? {pid: config.brokerPid, seconds: round3(brokerCpu), cores: cpuSeconds > 0 ? round3(brokerCpu / cpuSeconds) : 0} : null,
    },
    gates: [], baseline: null, exitCode: 0, failure: null,
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}
