// The bench runner: plans the clients, spreads them over shards (worker threads), drives the phases
// (connect subscribers, connect publishers, warm-up, measurement window, drain) and merges the shards'
// reports into one BenchResult. It reports progress through onStatus once a second and stops early,
// keeping what was measured, when the signal aborts.
import {assembleResult} from './assemble.js'
import {clockFor} from './clock.js'
import type {BenchConfig} from './config.js'
import {pacing} from './loop.js'
import {assignShards, fanout, planClients} from './plan.js'
import type {BenchResult} from './result.js'
import {shardClientOptions} from './shard-client.js'
import {LatencyHistogram} from './histogram.js'
import type {ConnectOutcome, IntervalReport, Role, ShardPlan, ShardReport} from './shard-protocol.js'
import {inlineShard, workerShard, type ShardHandle} from './shards.js'
import {takeSnapshot, type Snapshot} from './snapshot.js'
import {StatusReporter, type RunHooks} from './status.js'
import {SharedStats, Stat} from './stats.js'

export async function runBench(config: BenchConfig, hooks: RunHooks = {}): Promise<BenchResult> {
  const clock = clockFor(config.clock)
  const signal = hooks.signal
  const startedAt = new Date()
  const tStart = clock()
  const clients = planClients(config)
  const client = await shardClientOptions(config.client)
  const shardCount = config.workers <= 0 ? 1 : Math.max(1, Math.min(config.workers, clients.length))
  const stats = SharedStats.create(shardCount)
  const perShard = assignShards(clients, shardCount)

  const pace = pacing(config)
  const intervalUs = config.rate > 0 && config.publishers > 0 ? (config.publishers / config.rate) * 1e6 : config.intervalMs * 1000
  // each publishing shard holds the run's outstanding deliveries to its share of the bound, so that
  // together (reading the same shared counters) they never pass it
  const pubShards = perShard.filter((list) => list.some((c) => c.role === 'pub')).length
  const shardOutstanding = pace.maxOutstanding > 0 ? Math.max(1, Math.ceil(pace.maxOutstanding / Math.max(1, pubShards))) : 0
  const plans: ShardPlan[] = perShard.map((list, shard) => ({
    shard, shards: shardCount, client, connectTimeoutMs: config.connectTimeoutMs,
    clients: list, qos: config.qos, retain: config.retain, payloadSize: config.payloadSize, payload: config.payload, inflight: config.inflight,
    intervalUs, concurrency: Math.max(1, Math.ceil(config.concurrency / shardCount)),
    connectIntervalUs: config.connectIntervalMs * 1000, maxOutstanding: shardOutstanding, clock: config.clock,
    latencyBy: config.mode === 'sub' ? 'receive' : 'send', reset: config.reset, keepalive: config.client.keepalive ?? 60,
    intervalLatency: hooks.intervalLatency ?? false,
    stats: stats.buffer, statSlots: shardCount,
  }))
  const handles: ShardHandle[] = plans.map((p) => config.workers <= 0 ? inlineShard(p) : workerShard(p))
  const all = <T>(command: Parameters<ShardHandle['call']>[0]) => Promise.all(handles.map((h) => h.call<T>(command)))

  const intervalLatency = async () => {
    const parts = await all<IntervalReport>({cmd: 'interval'})
    const merge = (k: keyof IntervalReport) => {
      const h = new LatencyHistogram()
      for (const p of parts) h.add(LatencyHistogram.decode(p[k]))
      return h.summary() ?? null
    }
    return {endToEnd: merge('endToEnd'), publishToAck: merge('publishToAck')}
  }
  const status = new StatusReporter(stats, clock, tStart, clients.length, hooks, hooks.intervalLatency ? intervalLatency : undefined)
  const onAbort = () => { for (const h of handles) h.call({cmd: 'abort'}).catch(() => undefined) }
  signal?.addEventListener('abort', onAbort, {once: true})
  const aborted = () => signal?.aborted ?? false

  const snapshot = (): Snapshot => takeSnapshot(clock, stats, config.brokerPid)

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
      status.runStart = tRunStart = clock()
      const windowStart = tRunStart + config.warmup * 1e6
      const windowEnd = config.duration > 0 ? windowStart + config.duration * 1e6 : Number.POSITIVE_INFINITY
      status.runLength = config.duration > 0 ? config.warmup + config.duration : 0
      const startSnapshot = snapshot()
      if (config.mode !== 'conn') {
        await Promise.all(handles.map((h, s) => h.call({cmd: 'start', args: {t0: tRunStart, windowStart, windowEnd,
          fanout: perShard[s].filter((c) => c.role === 'pub').map((c) => fan.get(c.index) ?? 0)}})))
      }
      status.phase = config.mode === 'conn' ? 'holding' : config.warmup > 0 ? 'warmup' : 'measuring'
      const publishers = stats.total(Stat.Publishers)
      while (!aborted()) {
        const now = clock()
        if (!windowA && now >= windowStart) {
          windowA = snapshot()
          windowStarted = true
          if (status.phase === 'warmup') status.phase = 'measuring'
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
        status.phase = 'draining'
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
    status.phase = 'closing'
    reports = await all<ShardReport>({cmd: 'report'})
  } finally {
    status.stop()
    signal?.removeEventListener('abort', onAbort)
    await all({cmd: 'close'}).catch(() => undefined)
    await Promise.all(handles.map((h) => h.terminate()))
  }
  return assembleResult({config, clients, reports, startedAt, tStart, tConnected, tRunStart, windowA, windowB, tDrain, tDrained,
    pacing: pace, end: clock(), interrupted: aborted(), workers: config.workers <= 0 ? 0 : shardCount, windowStarted, connectA, connectB, finished})
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() { signal?.removeEventListener('abort', done); clearTimeout(timer); resolve() }
    signal?.addEventListener('abort', done, {once: true})
  })
}
