// What every bench command does once its flags are parsed: start the embedded broker if asked, run
// with a status display on stderr, evaluate the gates and the baseline, print the summary (or the
// JSON document) on stdout, and turn the outcome into the exit-code contract.
import {readFile} from 'node:fs/promises'
import {
  baselineMismatches, evaluateGates, explainLoss, htmlReport, parseDropMetrics, formatCount, formatSummary, parseBaseline, parseGate, parseGates, primaryRate,
  ProgressDisplay, resultRecord, runBench, statusRecord, type BenchConfig, type BenchResult, type BenchStatus, type Gate, type StatusRecord,
} from '../../bench/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {startEmbedded, useEmbedded} from './embedded.js'
import {checkOutputFiles, writeOutputFile} from './output-file.js'
import {shutdownSignal} from '../common/signals.js'

export interface BenchRunOptions {
  json: boolean
  /** --json-stream: NDJSON status records on stdout while running, then the result record. */
  jsonStream: boolean
  /** --report: an HTML page with the charts, written to this file. */
  report?: string
  /** --out: the --json document, also written to this file. */
  out?: string
  quiet: boolean
  color: boolean
  failIf: string[]
  baseline?: string
  baselineRatio: number
  embedded: boolean
  /** The CLI's root folder (bin/run.js starts the embedded broker). */
  root: string
}

/** What every run checks before anything starts: where its results go (exit 2), its --fail-if conditions (exit 2). */
export async function prepareRun(o: BenchRunOptions): Promise<Gate[]> {
  await checkOutputFiles(o)
  try {
    return parseGates(o.failIf)
  } catch (error) {
    throw new CliError(`--fail-if ${(error as Error).message}`, ExitCode.Usage)
  }
}

export async function runBenchCommand(config: BenchConfig, o: BenchRunOptions): Promise<void> {
  const gates = await prepareRun(o)
  let baseline: BenchResult | undefined
  if (o.baseline) {
    const text = await readFile(o.baseline, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --baseline '${o.baseline}': ${error.code ?? error.message}`, ExitCode.InputFile)
    })
    try {
      baseline = parseBaseline(text, o.baseline)
    } catch (error) {
      throw new CliError((error as Error).message, ExitCode.InputFile)
    }
    if (!gates.some((g) => g.unit === 'baseline')) gates.push(parseGate(`rate<${o.baselineRatio}x`))
  } else if (gates.some((g) => g.unit === 'baseline')) {
    throw new CliError('--fail-if: a condition relative to the baseline (0.9x) needs --baseline FILE', ExitCode.Usage)
  }
  if (config.payloadSize < 20 && config.mode !== 'conn' && config.mode !== 'sub' && !o.quiet) {
    process.stderr.write('midge bench: payloads under 20 bytes carry no sequence number or timestamp: loss is counted, latency is not measured\n')
  }

  const color = o.color && !process.env.NO_COLOR
  const stop = shutdownSignal()
  let embedded
  if (o.embedded) {
    embedded = await startEmbedded(o.root, stop, true)
    useEmbedded(config, embedded)
  }
  const display = o.quiet ? undefined : new ProgressDisplay(process.stderr, {tty: Boolean(process.stderr.isTTY), color: color && Boolean(process.stderr.isTTY), columns: process.stderr.columns})
  let result: BenchResult
  const timeline: StatusRecord[] = []
  try {
    const onStatus = (s: BenchStatus) => {
      display?.update(s)
      if (!o.jsonStream && !o.report) return
      const record = statusRecord(s)
      if (o.jsonStream) process.stdout.write(JSON.stringify(record) + '\n')
      if (o.report) timeline.push(record)
    }
    result = await runBench(config, {signal: stop.signal, onStatus, intervalLatency: o.jsonStream || Boolean(o.report)})
    if (embedded?.metricsUrl) {
      const drops = await brokerDrops(embedded.metricsUrl)
      result.loss = {brokerDrops: drops, causes: explainLoss(result, drops)}
    }
  } finally {
    display?.done()
    stop.dispose()
    await embedded?.stop()
  }

  result.gates = evaluateGates(gates, result, baseline)
  if (baseline && o.baseline) {
    const base = primaryRate(baseline)
    result.baseline = {file: o.baseline, rate: base, ratio: base > 0 ? Math.round((primaryRate(result) / base) * 1000) / 1000 : 0}
    const differences = baselineMismatches(result, baseline)
    if (differences.length && !o.quiet) process.stderr.write(`midge bench: the baseline was measured differently (${differences.join(', ')})\n`)
  }
  const {exitCode, failure} = verdict(result)
  result.exitCode = exitCode
  result.failure = failure
  if (o.out) await writeOutputFile('--out', o.out, JSON.stringify(result, null, 2) + '\n')
  if (o.report) await writeOutputFile('--report', o.report, htmlReport(result, timeline))
  process.stdout.write(o.json ? JSON.stringify(result, null, 2) + '\n' : o.jsonStream ? JSON.stringify(resultRecord(result)) + '\n'
    : formatSummary(result, {color: color && Boolean(process.stdout.isTTY)}))
  if (exitCode !== ExitCode.Success) throw new CliError(failure!, exitCode)
}

/** The embedded broker's drop counts by reason, or null when its /metrics cannot be read. */
export async function brokerDrops(url: string): Promise<Record<string, number> | null> {
  try {
    const res = await fetch(url, {signal: AbortSignal.timeout(5000)})
    return res.ok ? parseDropMetrics(await res.text()) : null
  } catch {
    return null
  }
}

/**
 * The exit code of a finished run and, when not 0, the one line that says why. Failures of the run
 * itself come first (connections, lost connections, refusals, nothing delivered), then the gates.
 */
export function verdict(r: BenchResult): {exitCode: number; failure: string | null} {
  const k = r.connections
  if (k.failed > 0) {
    const codes = Object.entries(k.connackCodes)
    const refusedOnly = codes.length === 1 && Number(codes[0][1]) === k.failed
    return {exitCode: refusedOnly ? Number(codes[0][0]) : ExitCode.ConnectFailed,
      failure: `${formatCount(k.failed)} of ${formatCount(k.attempted)} connections to ${r.broker.url} failed: ${topReasons(k.failures)}`}
  }
  if (k.lost > 0) return {exitCode: ExitCode.ConnectionLost, failure: `${formatCount(k.lost)} connections were lost during the run: ${topReasons(k.failures)}`}
  const subscribeErrors = Object.entries(r.errors).filter(([reason]) => reason.startsWith('SUBACK') || reason.startsWith('subscribe'))
  if (subscribeErrors.length) return {exitCode: ExitCode.SubscribeRefused, failure: `subscriptions failed: ${topReasons(Object.fromEntries(subscribeErrors))}`}
  const m = r.messages
  if (m.refused > 0) return {exitCode: ExitCode.PublishRefused, failure: `the broker refused ${formatCount(m.refused)} publishes: ${topReasons(r.errors)}`}
  if (r.mode === 'e2e' && m.expected > 0 && m.received === 0) {
    return {exitCode: ExitCode.AssertionFailed, failure: `no message was delivered: ${formatCount(m.sent)} published, ${formatCount(m.expected)} deliveries expected, none received`}
  }
  if (r.mode === 'e2e' && m.sent === 0 && !r.interrupted) return {exitCode: ExitCode.AssertionFailed, failure: 'nothing was published'}
  if (r.mode === 'pub' && m.unacked > 0 && m.acked === 0 && r.parameters.qos > 0) {
    return {exitCode: ExitCode.AssertionFailed, failure: `no publish was acknowledged: ${formatCount(m.unacked)} unacknowledged`}
  }
  const failed = r.gates.filter((g) => !g.passed)
  if (failed.length) return {exitCode: ExitCode.AssertionFailed, failure: failed.map((g) => g.message).join('; ')}
  return {exitCode: ExitCode.Success, failure: null}
}

function topReasons(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1])
  const shown = entries.slice(0, 3).map(([reason, n]) => `${formatCount(n)} × ${reason}`)
  return shown.join(', ') + (entries.length > 3 ? `, and ${entries.length - 3} more` : '')
}

/** The run options from the parsed flags. */
export function benchRunOptions(f: {json: boolean; 'json-stream': boolean; out?: string; report?: string; quiet: boolean; color: boolean; 'fail-if'?: string[]; baseline?: string; 'baseline-ratio': number; embedded: boolean}, root: string): BenchRunOptions {
  return {json: f.json, jsonStream: f['json-stream'], out: f.out, report: f.report, quiet: f.quiet, color: f.color, failIf: f['fail-if'] ?? [], baseline: f.baseline, baselineRatio: f['baseline-ratio'], embedded: f.embedded, root}
}

export const BENCH_EXIT_CODES = `Exit codes: 0 done, every gate passed; 1-5 / 128-162 every failed connection was refused with this CONNACK code; 2 bad usage (an --out or --report FILE that cannot be written is found before the run); 10 unreadable --baseline; 11 connections failed (unreachable, timed out, refused for several reasons); 12 connections lost during the run; 13 publishes refused (PUBACK reason >= 0x80); 14 subscriptions refused; 15 a --fail-if condition or the baseline failed, or nothing was delivered; 17 the --embedded broker did not start. The summary (or --json) is printed first in every case; Ctrl-C prints the summary so far.`
