// The fuzzing loop: batches of hostile connections against a real broker, with the checks of
// target.ts after every batch; a failing batch is saved (and minimised) as a finding.
import type {BrokerSetup} from './broker-process.js'
import {runBatch} from './batch.js'
import {fromScripts, minimize, saveFinding, toScripts, type Finding} from './findings.js'
import {generateConnection, type ConnectionScript} from './generate.js'
import {Rand} from './rand.js'
import {Target, type Health} from './target.js'

export interface FuzzOptions extends BrokerSetup {
  seed: number
  /** Stop once this many packets were sent. */
  packets: number
  /** Concurrent connections per batch. */
  connections: number
  /** Share of packets mutated. */
  mutationRate: number
  /** Where findings are written; undefined: not saved. */
  findingsDir?: string
  /** Minimise crashes before saving them (each step starts a broker). */
  minimize: boolean
  /** Restart the broker (SIGTERM, then start on the same files) every this many batches; 0: never. */
  restartEvery: number
  /** At most this many findings of one kind are saved per run (the rest are counted). */
  savePerKind: number
  log: (line: string) => void
}

export interface FuzzSummary {
  seed: number
  setup: BrokerSetup
  packets: number
  connections: number
  batches: number
  seconds: number
  /** Failures by kind (crashes included). */
  failures: Record<string, number>
  crashes: number
  lingering: number
  /** Connections whose CONNECT the broker accepted. */
  accepted: number
  restarts: number
  /** Restarts of --restart-every, each followed by the checks. */
  plannedRestarts: number
  retainedSeen: number
  subscriberMessages: number
  before: Health
  after: Health
  maxRss: number
  saved: string[]
  mutations: Record<string, number>
}

export async function fuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const r = new Rand(o.seed)
  const started = Date.now()
  const target = await Target.start({persistence: o.persistence, auth: o.auth})
  const before = target.baseline
  const counts = new Map<string, number>()
  const failures: Record<string, number> = {}
  const saved: string[] = []
  let packets = 0
  let connections = 0
  let batches = 0
  let lingering = 0
  let accepted = 0
  let plannedRestarts = 0
  let maxRss = before.rss
  let lastLog = 0
  o.log(`fuzz: seed ${o.seed}, ${o.packets} packets, ${o.connections} connections a batch${o.persistence ? ', --persistence' : ''}${o.auth ? ', auth' : ''}; broker pid ${target.broker.child.pid} on port ${target.port}; RSS ${mb(before.rss)}, ${before.fds} fds`)
  try {
    while (packets < o.packets) {
      const scripts: ConnectionScript[] = []
      for (let i = 0; i < o.connections && packets < o.packets; i++) {
        const s = generateConnection(r, {mutationRate: o.mutationRate, credentials: target.files.credentials, counts})
        scripts.push(s)
        packets += s.packets.length
      }
      connections += scripts.length
      batches++
      const result = await runBatch(target.port, scripts)
      lingering += result.lingering
      accepted += result.accepted
      const found = await target.check()
      if (found.length === 0 && o.restartEvery > 0 && batches % o.restartEvery === 0) {
        plannedRestarts++
        found.push(...await target.restart())
        if (found.length === 0) found.push(...await target.check())
      }
      maxRss = Math.max(maxRss, target.health().rss)
      for (const f of found) {
        failures[f.kind] = (failures[f.kind] ?? 0) + 1
        o.log(`batch ${batches}: ${f.kind}: ${f.detail.split('\n')[0]}`)
      }
      const kinds = [...new Set(found.map((f) => f.kind))]
      for (const kind of kinds) {
        if (o.findingsDir === undefined || failures[kind] > o.savePerKind) continue
        const f = found.find((x) => x.kind === kind)!
        const finding: Finding = {kind, detail: f.detail, seed: o.seed, batch: batches, setup: {persistence: o.persistence, auth: o.auth}, connections: fromScripts(scripts)}
        if (o.minimize && (kind === 'crash' || kind === 'engine-error')) {
          o.log(`batch ${batches}: minimising the ${kind}`)
          const small = await minimize(finding.setup, toScripts(finding), kind, 80, o.log)
          if (small) Object.assign(finding, {connections: fromScripts(small), minimized: true})
          else finding.detail += '\n(did not reproduce on a fresh broker: the whole batch is saved)'
        }
        const file = saveFinding(o.findingsDir, finding)
        saved.push(file)
        o.log(`batch ${batches}: saved ${file}`)
      }
      if (found.length > 0) await target.repair()
      if (Date.now() - lastLog > 10_000 || packets >= o.packets) {
        lastLog = Date.now()
        const h = target.health()
        o.log(`fuzz: ${packets} packets, ${connections} connections, ${batches} batches, ${Object.values(failures).reduce((a, b) => a + b, 0)} failures; RSS ${mb(h.rss)}, ${h.fds} fds; ${((Date.now() - started) / 1000).toFixed(0)} s`)
      }
    }
    return {
      seed: o.seed, setup: {persistence: o.persistence, auth: o.auth}, packets, connections, batches,
      seconds: (Date.now() - started) / 1000, failures, crashes: failures.crash ?? 0, lingering, accepted,
      restarts: target.restarts, plannedRestarts, retainedSeen: target.retainedSeen, subscriberMessages: target.received(), before, after: target.health(), maxRss, saved,
      mutations: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
    }
  } finally {
    await target.stop()
  }
}

export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`
}
