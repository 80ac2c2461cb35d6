// The summary table printed on stdout at the end of a run (people); `--json` prints the BenchResult.
import {Chalk} from 'chalk'
import type {LatencySummary} from './histogram.js'
import type {BenchResult} from './result.js'
import {formatCount, formatMicros} from './units.js'

const MODE_NAMES = {e2e: 'end-to-end', conn: 'connections', pub: 'publish', sub: 'subscribe'} as const

export function formatSummary(r: BenchResult, options: {color?: boolean} = {}): string {
  const c = new Chalk({level: options.color ? 1 : 0})
  const p = r.parameters
  const lines: string[] = []
  const head = (label: string, text: string) => lines.push(`${c.bold(label.padEnd(13))}${text}`)

  const shape: string[] = [MODE_NAMES[r.mode]]
  if (r.mode === 'conn') shape.push(`${formatCount(p.connections)} connections`)
  if (r.mode === 'e2e') shape.push(`${plural(p.publishers, 'publisher')} → ${plural(p.subscribers, 'subscriber')}`)
  if (r.mode === 'pub') shape.push(plural(p.publishers, 'publisher'))
  if (r.mode === 'sub') shape.push(plural(p.subscribers, 'subscriber'))
  if (r.mode !== 'conn') shape.push(`QoS ${p.qos}`, `${p.payloadSize} B`)
  if (r.mode === 'e2e' || r.mode === 'pub') shape.push(loopText(p))
  head('midge bench', shape.join(' · ') + (r.interrupted ? c.yellow('  (interrupted: results so far)') : ''))
  head('broker', `${r.broker.url} (MQTT ${r.broker.protocolVersion})${r.broker.embedded ? ', embedded' : ''}`)
  const timing = [`${r.window.seconds.toFixed(2)} s${r.durations.warmup > 0 ? ` after ${r.durations.warmup.toFixed(2)} s warm-up` : ''}`,
    p.workers === 0 ? 'in-process' : plural(p.workers, 'worker')]
  if (r.durations.drain > 0) timing.push(`drain ${r.durations.drain.toFixed(2)} s`)
  if (r.mode === 'conn') head('held', timing.join(' · '))
  else head('window', timing.join(' · '))
  lines.push('')

  const m = r.messages
  if (r.mode !== 'conn' && r.connections.connected > 0) {
    const rows: string[][] = [['', 'total', 'in window', 'rate']]
    if (r.mode !== 'sub') rows.push(['published', formatCount(m.sent), formatCount(r.window.sent), `${formatCount(r.rates.sent)}/s`])
    if (p.qos > 0 && r.mode !== 'sub') rows.push(['acknowledged', formatCount(m.acked), formatCount(r.window.acked), `${formatCount(r.rates.acked)}/s`])
    if (m.refused) rows.push(['refused', c.red(formatCount(m.refused)), '', ''])
    if (m.unacked) rows.push(['unacknowledged', c.red(formatCount(m.unacked)), '', ''])
    if (r.mode !== 'pub') {
      rows.push(['delivered', formatCount(m.received), formatCount(r.window.received), `${formatCount(r.rates.received)}/s`])
      if (r.mode === 'e2e') rows.push(['expected', formatCount(m.expected), '', ''])
      const percent = `${m.lossPercent.toFixed(3)}%`
      rows.push([r.mode === 'sub' ? 'lost (gaps)' : 'lost', m.lost ? c.red(formatCount(m.lost)) : '0', '', m.lost ? c.red(percent) : percent])
      rows.push(['duplicates', m.duplicates ? c.yellow(formatCount(m.duplicates)) : '0', '', ''])
      rows.push(['reordered', m.reordered ? c.yellow(formatCount(m.reordered)) : '0', '', ''])
      if (m.untracked) rows.push(['untracked', formatCount(m.untracked), '', ''])
    }
    lines.push(...table(rows, [16, 14, 12, 14], c.dim))
    for (const cause of r.loss.causes) lines.push(c.yellow(`  why lost: ${cause}`))
    lines.push('')
  }

  const l = r.latency
  const latencyRows: string[][] = [['latency', 'p50', 'p90', 'p99', 'p99.9', 'max', 'samples']]
  const add = (name: string, s: LatencySummary | null) => {
    if (s) latencyRows.push([name, formatMicros(s.p50), formatMicros(s.p90), formatMicros(s.p99), formatMicros(s.p999), formatMicros(s.max), formatCount(s.count)])
  }
  add('end-to-end', l.endToEnd)
  add('publish→ack', l.publishToAck)
  add('connect', l.connect)
  add('send lag', l.sendLag)
  if (latencyRows.length > 1) {
    lines.push(...table(latencyRows, [16, 9, 9, 9, 9, 9, 12], c.dim))
    if (r.mode !== 'conn' && !l.endToEnd && r.mode !== 'pub') lines.push(c.dim(`  (no end-to-end latency: payloads under 20 bytes carry no timestamp)`))
    lines.push('')
  }

  const k = r.connections
  const conn = [`${formatCount(k.connected)} of ${formatCount(k.attempted)} connected`]
  if (k.rate) conn.push(`${formatCount(k.rate)} conn/s`)
  if (k.failed) conn.push(c.red(`${formatCount(k.failed)} failed`))
  if (k.lost) conn.push(c.red(`${formatCount(k.lost)} lost`))
  head('connections', conn.join(' · '))
  const errors = Object.entries(r.errors).sort((a, b) => b[1] - a[1])
  if (errors.length === 0) head('errors', 'none')
  else for (const [i, [reason, n]] of errors.entries()) head(i === 0 ? 'errors' : '', c.red(`${formatCount(n).padStart(8)}  ${reason}`))
  const cpu = [`bench ${r.cpu.bench.cores.toFixed(2)} cores (user ${r.cpu.bench.user.toFixed(2)} s, system ${r.cpu.bench.system.toFixed(2)} s)`]
  if (r.cpu.broker) cpu.push(`broker ${r.cpu.broker.cores.toFixed(2)} cores (pid ${r.cpu.broker.pid})`)
  head('CPU', cpu.join(' · '))
  if (r.baseline) head('baseline', `${r.baseline.file}: ${r.baseline.ratio.toFixed(3)}x its rate (${formatCount(r.baseline.rate)}/s)`)
  for (const [i, g] of r.gates.entries()) head(i === 0 ? 'gates' : '', g.passed ? c.green(`✔ ${g.message}`) : c.red(`✘ ${g.message}`))
  return lines.join('\n') + '\n'
}

/** `closed loop ≤ 5,000 outstanding`, `open loop 2,000 msg/s`, `open loop, as fast as the sockets take`. */
export function loopText(p: BenchResult['parameters']): string {
  if (p.loop === 'closed') return p.maxOutstanding > 0 ? `closed loop ≤ ${formatCount(p.maxOutstanding)} outstanding` : `closed loop, ${formatCount(p.inflight)} in flight each`
  return p.rate > 0 ? `open loop ${formatCount(p.rate)} msg/s` : 'open loop, as fast as the sockets take'
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`
}

function table(rows: string[][], widths: number[], c0: (s: string) => string = (s) => s): string[] {
  return rows.map((row, i) => '  ' + row.map((cell, j) => {
    const w = widths[j] ?? 10
    const text = i === 0 ? c0(cell) : cell
    return j === 0 ? pad(text, w) : padStart(text, w)
  }).join('').trimEnd())
}

const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length
const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - visible(s)))
const padStart = (s: string, w: number) => ' '.repeat(Math.max(1, w - visible(s))) + s

