// `--report FILE`: the run as one self-contained HTML page (inline CSS and SVG, no script, no external
// asset) for people who would rather look than read: the key figures, throughput and latency over
// time (from the per-second status records), the latency distribution, and the summary table.
import type {BenchResult} from './result.js'
import {formatSummary, loopText} from './report.js'
import type {StatusRecord} from './stream.js'
import {escapeXml, lineChart, type Series} from './svg-chart.js'
import {formatCount, formatMicros} from './units.js'

const MODE_NAMES = {e2e: 'end-to-end', conn: 'connections', pub: 'publish', sub: 'subscribe'} as const
const COLORS = {sent: '#1f77b4', received: '#2ca02c', acked: '#9467bd', p50: '#2ca02c', p99: '#ff7f0e', max: '#d62728', ack: '#9467bd'}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 900px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
.sub { color: #666; margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 0 0 18px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.card .v { font-size: 22px; font-weight: 600; }
.card .k { color: #666; font-size: 12px; }
.card.bad .v { color: #c62828; }
.causes { color: #8a5300; }
svg { display: block; margin: 0 0 18px; }
svg .title { font-weight: 600; font-size: 14px; }
svg .tick, svg .legend, svg .band-label { font-size: 11px; fill: #444; }
svg .label { font-size: 12px; fill: #222; }
svg .grid { stroke: #eee; }
svg .axis { stroke: #999; }
svg .frame { fill: none; stroke: #bbb; }
svg .band { fill: #f1f6ff; }
svg .empty { fill: #999; }
pre { background: #f7f7f7; padding: 10px; overflow-x: auto; font-size: 12px; }
`

export function htmlReport(r: BenchResult, timeline: readonly StatusRecord[]): string {
  const p = r.parameters
  const shape: string[] = [MODE_NAMES[r.mode]]
  if (r.mode === 'e2e') shape.push(`${plural(p.publishers, 'publisher')} → ${plural(p.subscribers, 'subscriber')}`)
  if (r.mode === 'pub') shape.push(plural(p.publishers, 'publisher'))
  if (r.mode === 'sub') shape.push(plural(p.subscribers, 'subscriber'))
  if (r.mode === 'conn') shape.push(plural(p.connections, 'connection'))
  if (r.mode !== 'conn') shape.push(`QoS ${p.qos}`, `${p.payloadSize} B`)
  if (r.mode === 'e2e' || r.mode === 'pub') shape.push(loopText(p))
  const title = `midge bench · ${shape.join(' · ')}`

  const e2e = r.latency.endToEnd
  const ack = r.latency.publishToAck
  const cards: string[] = []
  const card = (value: string, key: string, bad = false) => cards.push(`<div class="card${bad ? ' bad' : ''}"><div class="v">${escapeXml(value)}</div><div class="k">${escapeXml(key)}</div></div>`)
  if (r.mode === 'conn') card(`${formatCount(r.connections.rate)}/s`, 'connections')
  else if (r.mode === 'pub') card(`${formatCount(p.qos > 0 ? r.rates.acked : r.rates.sent)}/s`, p.qos > 0 ? 'acknowledged' : 'published')
  else card(`${formatCount(r.rates.received)}/s`, 'delivered')
  const shown = e2e ?? ack
  if (shown) {
    const which = e2e ? 'end-to-end' : 'publish→ack'
    card(formatMicros(shown.p50), `${which} p50`)
    card(formatMicros(shown.p99), `${which} p99`)
    card(formatMicros(shown.p999), `${which} p99.9`)
  }
  if (r.mode === 'e2e' || r.mode === 'sub') card(`${formatCount(r.messages.lost)} (${r.messages.lossPercent.toFixed(3)}%)`, 'lost', r.messages.lost > 0)
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0)
  card(formatCount(errors), 'errors', errors > 0)

  const windowStart = r.durations.connect + r.durations.warmup
  const band = r.durations.measure > 0 ? {from: windowStart, to: windowStart + r.durations.measure, label: 'measurement window'} : undefined
  const line = (name: string, color: string, pick: (s: StatusRecord) => number | undefined, dashed = false): Series =>
    ({name, color, dashed, points: timeline.flatMap((s) => { const v = pick(s); return v === undefined ? [] : [[s.t, v] as [number, number]] })})
  const rates: Series[] = []
  if (r.mode === 'e2e' || r.mode === 'pub') rates.push(line('published/s', COLORS.sent, (s) => s.rates.sent))
  if (r.mode === 'e2e' || r.mode === 'sub') rates.push(line('delivered/s', COLORS.received, (s) => s.rates.received))
  if (p.qos > 0 && r.mode !== 'sub') rates.push(line('acknowledged/s', COLORS.acked, (s) => s.rates.acked, true))
  const latencies: Series[] = [
    line('end-to-end p50', COLORS.p50, (s) => s.latency.endToEnd?.p50),
    line('end-to-end p99', COLORS.p99, (s) => s.latency.endToEnd?.p99),
    line('end-to-end max', COLORS.max, (s) => s.latency.endToEnd?.max, true),
  ]
  if (p.qos > 0 && r.mode !== 'sub') latencies.push(line('publish→ack p99', COLORS.ack, (s) => s.latency.publishToAck?.p99))
  const times = timeline.map((s) => s.t)
  const xDomain: [number, number] | undefined = times.length ? [Math.min(0, ...times), Math.max(...times, r.durations.total)] : undefined
  const charts: string[] = []
  if (r.mode !== 'conn') {
    charts.push(lineChart(rates, {title: 'Throughput over time', xLabel: 'seconds since start', yLabel: 'messages per second', band, xDomain, yFormat: short}))
    charts.push(lineChart(latencies.filter((s) => s.points.length > 0), {title: 'Latency over time (each second\'s samples)', xLabel: 'seconds since start',
      yLabel: 'latency (log scale)', logY: true, band, xDomain, yFormat: latencyTick}))
  }
  const d = r.latency.distribution
  if (d) {
    // "nines" on x: 90% at 1, 99% at 2, 99.9% at 3...; the maximum just past the last percentile
    const nines = (pct: number) => pct >= 100 ? 5.3 : -Math.log10(1 - pct / 100)
    const of = d.of === 'endToEnd' ? 'End-to-end' : 'Publish→ack'
    charts.push(lineChart([{name: `${of} latency`, color: COLORS.p99, points: d.points.map(([pct, us]) => [nines(pct), us])}], {
      title: `${of} latency distribution (${r.mode === 'conn' ? 'run' : 'measurement window'})`, xLabel: 'percentile', yLabel: 'latency (log scale)', logY: true,
      xTicks: [[0, '0%'], [1, '90%'], [2, '99%'], [3, '99.9%'], [4, '99.99%'], [5, '99.999%'], [5.3, 'max']], yFormat: latencyTick,
    }))
  }

  const causes = r.loss.causes.map((c) => `<li>${escapeXml(c)}</li>`).join('')
  return `<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<title>${escapeXml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p class="sub">${escapeXml(`${r.broker.url} (MQTT ${r.broker.protocolVersion})${r.broker.embedded ? ', embedded' : ''} · started ${r.startedAt} · ${r.window.seconds.toFixed(2)} s window after ${r.durations.warmup.toFixed(2)} s warm-up${r.interrupted ? ' · interrupted' : ''}${r.failure ? ` · failed: ${r.failure}` : ''}`)}</p>
<div class="cards">${cards.join('')}</div>
${causes ? `<ul class="causes">${causes}</ul>\n` : ''}${charts.join('\n')}
<pre>${escapeXml(formatSummary(r))}</pre>
</body>
</html>
`
}

function plural(n: number, word: string): string {
  return `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`
}

/** `100µs`, `1ms`, `10s`: y ticks of latencies (powers of ten and their 2x, 5x). */
function latencyTick(us: number): string {
  if (us < 1000) return `${us}µs`
  if (us < 1e6) return `${+(us / 1000).toPrecision(3)}ms`
  return `${+(us / 1e6).toPrecision(3)}s`
}

/** `12k`, `1.5M`: y ticks of rates. */
function short(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`
  return String(n)
}
