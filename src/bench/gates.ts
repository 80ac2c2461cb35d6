// CI gates: `--fail-if 'p99>20ms'`, `rate<50k`, `loss>0`, `loss>0.1%`, `rate<0.9x` (against --baseline).
// A gate names a condition that FAILS the run; every gate is checked and reported, and any failed one
// makes bench exit with AssertionFailed (15), naming it.
import type {LatencySummary} from './histogram.js'
import type {BenchResult, GateOutcome} from './result.js'
import {formatCount, formatMicros, formatShort, parseLatency, parseQuantity} from './units.js'

export type GateOp = '>' | '>=' | '<' | '<=' | '==' | '!='
type Kind = 'latency' | 'rate' | 'count'

export interface Gate {
  /** As written (whitespace removed). */
  text: string
  metric: string
  kind: Kind
  op: GateOp
  /** Absolute threshold (µs for latencies, per second for rates), a percentage, or a baseline factor. */
  value: number
  unit: 'absolute' | 'percent' | 'baseline'
}

const LATENCY_FIELDS: Record<string, keyof LatencySummary> = {
  p50: 'p50', p90: 'p90', p99: 'p99', 'p99.9': 'p999', p999: 'p999', max: 'max', mean: 'mean', min: 'min',
}
const LATENCY_PREFIXES = ['e2e', 'ack', 'connect', 'lag']
const RATES = ['rate', 'sent-rate', 'recv-rate', 'ack-rate', 'conn-rate']
const COUNTS: Record<string, string> = {
  sent: 'sent', received: 'received', acked: 'acked', refused: 'refused', unacked: 'unacked',
  lost: 'lost', loss: 'lost', duplicates: 'duplicates', dups: 'duplicates', reordered: 'reordered',
  errors: 'errors', connected: 'connected', 'conn-failed': 'conn-failed', failed: 'conn-failed', 'lost-conns': 'lost-conns',
}
const PERCENT_COUNTS = new Set(['lost', 'duplicates', 'reordered'])

/** The names a gate may use (for help and error messages). */
export const GATE_METRICS = 'p50 p90 p99 p99.9 max mean min (e2e./ack./connect./lag. prefixes), rate sent-rate recv-rate ack-rate conn-rate, ' +
  'sent received acked refused unacked lost|loss duplicates|dups reordered errors connected conn-failed lost-conns'

/** Parses gates; each text may hold several, separated by commas. Throws a TypeError naming the bad one. */
export function parseGates(texts: string[]): Gate[] {
  const out: Gate[] = []
  for (const text of texts) for (const part of text.split(',')) if (part.trim()) out.push(parseGate(part))
  return out
}

export function parseGate(input: string): Gate {
  const text = input.replace(/\s+/g, '')
  const m = /^([a-z][a-z0-9.-]*?)(>=|<=|==|!=|=|>|<)(.+)$/i.exec(text)
  if (!m) throw new TypeError(`'${input}' is not a condition like p99>20ms, rate<50k or loss>0`)
  const metric = m[1].toLowerCase()
  const op = (m[2] === '=' ? '==' : m[2]) as GateOp
  const raw = m[3]
  const kind = kindOf(metric)
  if (!kind) throw new TypeError(`'${input}': unknown metric '${m[1]}' (use ${GATE_METRICS})`)
  const gate = {text, metric: normalise(metric), kind, op}
  const relative = /^(\d+(?:\.\d+)?)x$/i.exec(raw)
  if (relative) return {...gate, value: Number(relative[1]), unit: 'baseline'}
  if (raw.endsWith('%')) {
    if (kind !== 'count' || !PERCENT_COUNTS.has(gate.metric)) throw new TypeError(`'${input}': only lost, duplicates and reordered take a percentage`)
    const n = Number(raw.slice(0, -1))
    if (!Number.isFinite(n)) throw new TypeError(`'${input}': '${raw}' is not a percentage`)
    return {...gate, value: n, unit: 'percent'}
  }
  try {
    return {...gate, value: kind === 'latency' ? parseLatency(raw) : parseQuantity(raw), unit: 'absolute'}
  } catch (error) {
    throw new TypeError(`'${input}': ${(error as Error).message}`)
  }
}

function kindOf(metric: string): Kind | undefined {
  const dot = metric.indexOf('.')
  const prefix = dot > 0 ? metric.slice(0, dot) : ''
  if (LATENCY_PREFIXES.includes(prefix) && metric.slice(dot + 1) in LATENCY_FIELDS) return 'latency'
  if (metric in LATENCY_FIELDS) return 'latency'
  if (RATES.includes(metric)) return 'rate'
  if (metric in COUNTS) return 'count'
  return undefined
}

function normalise(metric: string): string {
  if (metric in COUNTS) return COUNTS[metric]
  return metric.replace(/p999$/, 'p99.9')
}

/** The value a gate compares, or undefined when this run did not measure it. */
export function metricValue(result: BenchResult, gate: Pick<Gate, 'metric' | 'kind' | 'unit'>): number | undefined {
  if (gate.kind === 'latency') {
    const dot = gate.metric.indexOf('.')
    const prefixed = dot > 0 && LATENCY_PREFIXES.includes(gate.metric.slice(0, dot))
    const prefix = prefixed ? gate.metric.slice(0, dot) : ''
    const field = LATENCY_FIELDS[prefixed ? gate.metric.slice(dot + 1) : gate.metric]
    const l = result.latency
    const summary = prefix === 'e2e' ? l.endToEnd : prefix === 'ack' ? l.publishToAck : prefix === 'connect' ? l.connect
      : prefix === 'lag' ? l.sendLag : (l.endToEnd ?? l.publishToAck ?? l.connect)
    return summary ? summary[field] : undefined
  }
  if (gate.kind === 'rate') {
    switch (gate.metric) {
      case 'sent-rate': return result.rates.sent
      case 'recv-rate': return result.rates.received
      case 'ack-rate': return result.rates.acked
      case 'conn-rate': return result.connections.rate
      default: return primaryRate(result)
    }
  }
  const m = result.messages
  if (gate.unit === 'percent') {
    if (gate.metric === 'lost') return m.lossPercent
    const base = m.received
    return base > 0 ? ((gate.metric === 'duplicates' ? m.duplicates : m.reordered) / base) * 100 : 0
  }
  switch (gate.metric) {
    case 'errors': return Object.values(result.errors).reduce((a, b) => a + b, 0)
    case 'connected': return result.connections.connected
    case 'conn-failed': return result.connections.failed
    case 'lost-conns': return result.connections.lost
    default: return m[gate.metric as 'sent' | 'received' | 'acked' | 'refused' | 'unacked' | 'lost' | 'duplicates' | 'reordered']
  }
}

/** Throughput as the mode understands it: deliveries/s (end-to-end, sub), publishes/s (pub), connections/s (conn). */
export function primaryRate(result: BenchResult): number {
  switch (result.mode) {
    case 'conn': return result.connections.rate
    case 'pub': return result.rates.sent
    default: return result.rates.received
  }
}

export function evaluateGates(gates: Gate[], result: BenchResult, baseline?: BenchResult): GateOutcome[] {
  return gates.map((gate) => {
    const actual = metricValue(result, gate)
    let threshold = gate.value
    if (gate.unit === 'baseline') {
      const base = baseline ? metricValue(baseline, {...gate, unit: 'absolute'}) : undefined
      if (base === undefined) return {condition: gate.text, passed: false, actual: actual ?? null, threshold: Number.NaN, message: `${gate.text}: the baseline has no ${gate.metric}`}
      threshold = base * gate.value
    }
    if (actual === undefined) return {condition: gate.text, passed: false, actual: null, threshold, message: `${gate.text}: ${gate.metric} was not measured in this run`}
    const holds = compare(actual, gate.op, threshold)
    const shown = `${gate.metric}${gate.unit === 'percent' ? '%' : ''} = ${show(gate, actual)}`
    const limit = gate.unit === 'baseline' ? `${show(gate, threshold)} (${gate.value}x baseline)` : show(gate, threshold)
    return {condition: gate.text, passed: !holds, actual, threshold,
      message: holds ? `${gate.text} failed: ${shown}, ${gate.op} ${limit}` : `${gate.text} passed: ${shown}`}
  })
}

function compare(a: number, op: GateOp, b: number): boolean {
  switch (op) {
    case '>': return a > b
    case '>=': return a >= b
    case '<': return a < b
    case '<=': return a <= b
    case '==': return a === b
    case '!=': return a !== b
  }
}

function show(gate: Gate, n: number): string {
  if (gate.unit === 'percent') return `${Number(n.toFixed(4))}%`
  if (gate.kind === 'latency') return formatMicros(n)
  if (gate.kind === 'rate') return `${formatShort(n)}/s`
  return formatCount(n)
}

/** Reads a `--json` result to compare with; throws a TypeError when it is not one. */
export function parseBaseline(text: string, file: string): BenchResult {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new TypeError(`--baseline ${file}: not JSON (write it with \`midge bench --json > ${file}\`)`)
  }
  const r = doc as Partial<BenchResult>
  if (r?.tool !== 'midge bench' || typeof r.rates !== 'object' || typeof r.latency !== 'object') {
    throw new TypeError(`--baseline ${file}: not a midge bench --json result`)
  }
  return r as BenchResult
}

/** Differences between a run and its baseline that make the comparison doubtful. */
export function baselineMismatches(result: BenchResult, baseline: BenchResult): string[] {
  const out: string[] = []
  if (result.mode !== baseline.mode) out.push(`mode ${baseline.mode} -> ${result.mode}`)
  const keys = ['publishers', 'subscribers', 'connections', 'qos', 'payloadSize', 'rate', 'inflight'] as const
  for (const k of keys) {
    const a = baseline.parameters?.[k]
    const b = result.parameters[k]
    if (a !== undefined && a !== b) out.push(`${k} ${a} -> ${b}`)
  }
  return out
}
