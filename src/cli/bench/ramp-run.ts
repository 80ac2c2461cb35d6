// `bench --ramp FROM..TO/s over DURATION --p99-limit MS`: one open-loop run per step at a rising fixed
// rate, against the same broker (one embedded broker for all the steps), until a step's end-to-end p99
// passes the limit or loses messages. Prints the highest passing rate as one number (summary line and
// the JSON document's maxRate), with every step in the JSON.
import {formatCount, formatMicros, ProgressDisplay, runBench, type BenchConfig, type BenchStatus} from '../../bench/index.js'
import {rampRates, rampResult, type RampSpec, type RampStep} from '../../bench/ramp.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {startEmbedded, useEmbedded} from './embedded.js'
import {checkOutputFiles, writeOutputFile} from './output-file.js'
import {shutdownSignal} from '../common/signals.js'
import {verdict, type BenchRunOptions} from './run.js'

export interface RampDocument {
  tool: 'midge bench'
  mode: 'ramp'
  broker: {url: string; embedded: boolean}
  ramp: {from: number; to: number; over: number; steps: number; stepSeconds: number; p99LimitUs: number}
  /** The highest step rate (msg/s) whose p99 stayed under the limit with nothing lost; null: none did. */
  maxRate: number | null
  steps: RampStep[]
  interrupted: boolean
  exitCode: number
  failure: string | null
}

export async function runRamp(base: BenchConfig, ramp: RampSpec, p99LimitUs: number, o: BenchRunOptions): Promise<void> {
  await checkOutputFiles(o)
  const stop = shutdownSignal()
  let embedded
  if (o.embedded) {
    embedded = await startEmbedded(o.root, stop, false)
    useEmbedded(base, embedded)
  }
  const stepSeconds = ramp.over / ramp.steps
  const steps: RampStep[] = []
  let failure: {exitCode: number; failure: string | null} = {exitCode: ExitCode.Success, failure: null}
  try {
    for (const rate of rampRates(ramp)) {
      if (stop.signal.aborted) break
      if (!o.quiet) process.stderr.write(`midge bench: ramp step ${steps.length + 1}/${ramp.steps}: ${formatCount(rate)} msg/s for ${stepSeconds.toFixed(1)} s\n`)
      // Every step connects afresh: its first third is a warm-up at the step's rate (connections, JIT),
      // so that the p99 is the rate's, not the start's.
      const config: BenchConfig = {...base, rate, intervalMs: 0, openLoop: true, maxOutstanding: 0, limit: 0, duration: (stepSeconds * 2) / 3, warmup: stepSeconds / 3}
      const display = o.quiet ? undefined : new ProgressDisplay(process.stderr, {tty: Boolean(process.stderr.isTTY), color: false, columns: process.stderr.columns})
      const onStatus = (s: BenchStatus) => { display?.update(s) }
      let r
      try {
        r = await runBench(config, {signal: stop.signal, onStatus})
      } finally {
        display?.done()
      }
      const e2e = r.latency.endToEnd
      const step: RampStep = {rate, achieved: r.rates.received, sent: r.messages.sent, received: r.messages.received, lost: r.messages.lost,
        p50: e2e?.p50 ?? null, p99: e2e?.p99 ?? null, passed: false}
      step.passed = step.p99 !== null && step.p99 <= p99LimitUs && step.lost === 0
      steps.push(step)
      const v = verdict(r)
      if (v.exitCode !== ExitCode.Success && v.exitCode !== ExitCode.AssertionFailed) {
        failure = {exitCode: v.exitCode, failure: `ramp step at ${formatCount(rate)} msg/s: ${v.failure}`}
        break
      }
      if (!step.passed) break
    }
  } finally {
    stop.dispose()
    await embedded?.stop()
  }
  const maxRate = rampResult(steps)
  if (failure.exitCode === ExitCode.Success && maxRate === null && steps.length > 0) {
    failure = {exitCode: ExitCode.AssertionFailed, failure: `no step stayed under p99 ${formatMicros(p99LimitUs)} with nothing lost (the first, ${formatCount(steps[0].rate)} msg/s, did not)`}
  }
  const doc: RampDocument = {
    tool: 'midge bench', mode: 'ramp', broker: {url: base.brokerUrl, embedded: Boolean(base.embedded)},
    ramp: {from: ramp.from, to: ramp.to, over: ramp.over, steps: ramp.steps, stepSeconds, p99LimitUs}, maxRate, steps,
    interrupted: stop.signal.aborted, ...failure,
  }
  if (o.out) await writeOutputFile('--out', o.out, JSON.stringify(doc, null, 2) + '\n')
  process.stdout.write(o.json ? JSON.stringify(doc, null, 2) + '\n' : formatRamp(doc))
  if (doc.exitCode !== ExitCode.Success) throw new CliError(doc.failure!, doc.exitCode)
}

/** The one number first, then a row per step. */
export function formatRamp(d: RampDocument): string {
  const limit = formatMicros(d.ramp.p99LimitUs)
  const head = d.maxRate === null ? `midge bench ramp: no rate kept p99 ≤ ${limit}` : `midge bench ramp: max rate with p99 ≤ ${limit}: ${formatCount(d.maxRate)} msg/s`
  const rows = [['step', 'rate', 'delivered/s', 'sent', 'lost', 'p50', 'p99', '']]
  for (const [i, s] of d.steps.entries()) {
    rows.push([String(i + 1), formatCount(s.rate), formatCount(s.achieved), formatCount(s.sent), formatCount(s.lost),
      formatMicros(s.p50 ?? undefined), formatMicros(s.p99 ?? undefined), s.passed ? 'ok' : 'over'])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  const table = rows.map((r) => r.map((c, i) => i === r.length - 1 ? c : c.padStart(widths[i])).join('  ').trimEnd())
  return `${head}\nbroker ${d.broker.url}${d.broker.embedded ? ', embedded' : ''} · ${d.steps.length} of ${d.ramp.steps} steps of ${d.ramp.stepSeconds.toFixed(1)} s\n\n${table.join('\n')}\n`
}
