// `bench --scenario`: the file's scenarios one after the other against the same broker (one embedded
// broker for all of them with --embedded), then one table with a row per scenario, or with --json one
// document holding every scenario's result. The exit code is the first failed scenario's.
import {Chalk} from 'chalk'
import {
  evaluateGates, explainLoss, formatCount, formatMicros, loopText, ProgressDisplay, runBench, statusRecord,
  type BenchResult, type BenchStatus,
} from '../../bench/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {startEmbedded, useEmbedded} from './embedded.js'
import {writeOutputFile} from './output-file.js'
import {shutdownSignal} from '../common/signals.js'
import {benchConfig, type BenchFlagValues} from './flags.js'
import {brokerDrops, prepareRun, verdict, type BenchRunOptions} from './run.js'
import type {Scenario} from './scenario-file.js'

export interface ScenarioResult extends BenchResult {
  scenario: string
}

export interface ScenariosDocument {
  tool: 'midge bench'
  scenarioFile: string
  scenarios: ScenarioResult[]
  exitCode: number
  failure: string | null
}

export async function runScenarios(file: string, scenarios: Scenario[], flags: BenchFlagValues, o: BenchRunOptions): Promise<void> {
  const gates = await prepareRun(o)
  // Every scenario's configuration first, so that a bad one stops the run before anything is measured.
  const configs = []
  for (const s of scenarios) {
    try {
      const config = await benchConfig('e2e', {...flags, ...s.flags})
      if (s.payload) Object.assign(config, {payload: s.payload, payloadSize: s.payload.length})
      configs.push(config)
    } catch (error) {
      const e = error as CliError
      throw new CliError(`${file}: scenario '${s.name}': ${e.message}`, e instanceof CliError && e.exitCode === ExitCode.Usage ? ExitCode.InputFile : e.exitCode ?? ExitCode.Failure)
    }
  }

  const color = o.color && !process.env.NO_COLOR
  const stop = shutdownSignal()
  let embedded
  if (o.embedded) {
    embedded = await startEmbedded(o.root, stop, true)
  }
  const results: ScenarioResult[] = []
  try {
    for (const [i, config] of configs.entries()) {
      if (stop.signal.aborted) break
      const name = scenarios[i].name
      if (embedded) useEmbedded(config, embedded)
      if (!o.quiet) process.stderr.write(`midge bench: scenario ${i + 1}/${configs.length} '${name}'\n`)
      const before = embedded?.metricsUrl ? await brokerDrops(embedded.metricsUrl) : null
      const display = o.quiet ? undefined : new ProgressDisplay(process.stderr, {tty: Boolean(process.stderr.isTTY), color: color && Boolean(process.stderr.isTTY), columns: process.stderr.columns})
      const onStatus = (s: BenchStatus) => {
        display?.update(s)
        if (o.jsonStream) process.stdout.write(JSON.stringify({...statusRecord(s), scenario: name}) + '\n')
      }
      let result: BenchResult
      try {
        result = await runBench(config, {signal: stop.signal, onStatus, intervalLatency: o.jsonStream})
      } finally {
        display?.done()
      }
      if (embedded?.metricsUrl) {
        const after = await brokerDrops(embedded.metricsUrl)
        const drops = after && before ? difference(after, before) : null
        result.loss = {brokerDrops: drops, causes: explainLoss(result, drops)}
      }
      result.gates = evaluateGates(gates, result)
      const {exitCode, failure} = verdict(result)
      result.exitCode = exitCode
      result.failure = failure
      results.push({scenario: name, ...result})
      if (o.jsonStream) process.stdout.write(JSON.stringify({type: 'result', scenario: name, ...result}) + '\n')
    }
  } finally {
    stop.dispose()
    await embedded?.stop()
  }

  const failed = results.find((r) => r.exitCode !== ExitCode.Success)
  const doc: ScenariosDocument = {tool: 'midge bench', scenarioFile: file, scenarios: results, exitCode: failed?.exitCode ?? ExitCode.Success,
    failure: failed ? `scenario '${failed.scenario}': ${failed.failure}` : null}
  if (o.out) await writeOutputFile('--out', o.out, JSON.stringify(doc, null, 2) + '\n')
  if (o.json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n')
  else if (!o.jsonStream) process.stdout.write(formatScenarioTable(file, results, {color: color && Boolean(process.stdout.isTTY)}))
  if (doc.exitCode !== ExitCode.Success) throw new CliError(doc.failure!, doc.exitCode)
}

/** One row per scenario: its shape, messages, delivered rate, loss and end-to-end latency. */
export function formatScenarioTable(file: string, results: ScenarioResult[], options: {color?: boolean} = {}): string {
  const c = new Chalk({level: options.color ? 1 : 0})
  const rows: string[][] = [['scenario', 'load', 'sent', 'delivered', 'lost', 'rate', 'p50', 'p99', 'exit']]
  for (const r of results) {
    const p = r.parameters
    const e2e = r.latency.endToEnd
    rows.push([r.scenario, `${p.publishers}→${p.subscribers} QoS ${p.qos} ${p.payloadSize} B ${loopText(p)}`, formatCount(r.messages.sent),
      formatCount(r.messages.received), `${r.messages.lost}`, `${formatCount(r.rates.received)}/s`, formatMicros(e2e?.p50), formatMicros(e2e?.p99), String(r.exitCode)])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  const right = new Set([2, 3, 4, 5, 6, 7, 8])
  const lines = rows.map((row, n) => {
    const line = row.map((cell, i) => right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])).join('  ').trimEnd()
    return n === 0 ? c.bold(line) : results[n - 1].exitCode !== 0 ? c.red(line) : line
  })
  const broker = results[0] ? `${results[0].broker.url}${results[0].broker.embedded ? ', embedded' : ''}` : 'no scenario ran'
  return `${c.bold('midge bench')}  ${results.length} scenario${results.length === 1 ? '' : 's'} from ${file} · ${broker}\n\n${lines.join('\n')}\n`
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0)
  return out
}
