// Line charts as inline SVG for the HTML report: no scripts, no external assets, well-formed XML.
// Linear or logarithmic y, "nice" ticks, an optional shaded band (the measurement window), a legend.

export interface Series {
  name: string
  color: string
  points: Array<[number, number]>
  dashed?: boolean
}

export interface ChartOptions {
  title: string
  xLabel: string
  yLabel: string
  width?: number
  height?: number
  /** A log10 y axis (latencies spanning decades); values <= 0 are left out. */
  logY?: boolean
  /** Where x ticks go and what they say (default: nice ticks of the data's range). */
  xTicks?: Array<[number, string]>
  xFormat?: (v: number) => string
  yFormat?: (v: number) => string
  /** The x range (default: the data's), so that charts of one run line up. */
  xDomain?: [number, number]
  /** A shaded span of x, e.g. the measurement window. */
  band?: {from: number; to: number; label: string}
}

const PAD = {left: 64, right: 16, top: 34, bottom: 60}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]!)
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min]
  const raw = (max - min) / count
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!
  const out: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step)
  return out
}

/** Powers of ten (and 2x, 5x when few decades) within [min, max]. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min))
  const hi = Math.ceil(Math.log10(max))
  const steps = hi - lo <= 2 ? [1, 2, 5] : [1]
  const out: number[] = []
  for (let e = lo; e <= hi; e++) for (const m of steps) {
    const v = m * 10 ** e
    if (v >= min && v <= max) out.push(v)
  }
  return out
}

const fmt = (v: number) => Number.isInteger(v) ? String(v) : v.toFixed(2)

export function lineChart(series: Series[], o: ChartOptions): string {
  const width = o.width ?? 860
  const height = o.height ?? 300
  const plotW = width - PAD.left - PAD.right
  const plotH = height - PAD.top - PAD.bottom
  const xFormat = o.xFormat ?? fmt
  const yFormat = o.yFormat ?? fmt
  const points = series.flatMap((s) => s.points).filter(([, y]) => !o.logY || y > 0)
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(o.title)}">`,
    `<text x="${PAD.left}" y="20" class="title">${escapeXml(o.title)}</text>`]
  if (points.length === 0) {
    out.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle" class="empty">no samples</text>`, '</svg>')
    return out.join('\n')
  }
  let xMin = Math.min(...points.map((p) => p[0]))
  let xMax = Math.max(...points.map((p) => p[0]))
  if (o.xDomain) [xMin, xMax] = o.xDomain
  if (o.xTicks?.length) {
    xMin = Math.min(xMin, o.xTicks[0][0])
    xMax = Math.max(xMax, o.xTicks.at(-1)![0])
  }
  if (xMax === xMin) xMax = xMin + 1
  let yMin = o.logY ? Math.min(...points.map((p) => p[1])) : 0
  let yMax = Math.max(...points.map((p) => p[1]))
  if (o.logY) {
    yMin = 10 ** Math.floor(Math.log10(yMin))
    yMax = 10 ** Math.ceil(Math.log10(yMax))
  } else {
    const ticks = niceTicks(0, yMax || 1)
    yMax = Math.max(ticks.at(-1)!, yMax || 1)
  }
  if (yMax <= yMin) yMax = yMin * 10 || 1
  const sx = (x: number) => PAD.left + ((x - xMin) / (xMax - xMin)) * plotW
  const sy = (y: number) => o.logY
    ? PAD.top + plotH - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH
    : PAD.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH
  const r = (n: number) => Math.round(n * 10) / 10

  if (o.band && o.band.to > o.band.from) {
    const a = sx(Math.max(xMin, o.band.from))
    const b = sx(Math.min(xMax, o.band.to))
    out.push(`<rect x="${r(a)}" y="${PAD.top}" width="${r(Math.max(0, b - a))}" height="${plotH}" class="band"/>`,
      `<text x="${r(a + 4)}" y="${PAD.top + 12}" class="band-label">${escapeXml(o.band.label)}</text>`)
  }
  for (const y of o.logY ? logTicks(yMin, yMax) : niceTicks(yMin, yMax)) {
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${r(sy(y))}" y2="${r(sy(y))}" class="grid"/>`,
      `<text x="${PAD.left - 6}" y="${r(sy(y) + 4)}" text-anchor="end" class="tick">${escapeXml(yFormat(y))}</text>`)
  }
  const xTicks = o.xTicks ?? niceTicks(xMin, xMax, 8).map((x): [number, string] => [x, xFormat(x)])
  for (const [x, label] of xTicks) {
    if (x < xMin || x > xMax) continue
    out.push(`<line x1="${r(sx(x))}" x2="${r(sx(x))}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 5}" class="axis"/>`,
      `<text x="${r(sx(x))}" y="${PAD.top + plotH + 18}" text-anchor="middle" class="tick">${escapeXml(label)}</text>`)
  }
  out.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" class="frame"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${height - 24}" text-anchor="middle" class="label">${escapeXml(o.xLabel)}</text>`,
    `<text transform="translate(14 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="label">${escapeXml(o.yLabel)}</text>`)
  let legendX = PAD.left
  for (const s of series) {
    const pts = s.points.filter(([, y]) => !o.logY || y > 0)
    if (pts.length > 0) {
      const path = pts.map(([x, y]) => `${r(sx(x))},${r(sy(y))}`).join(' ')
      out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`)
      if (pts.length <= 40) for (const [x, y] of pts) out.push(`<circle cx="${r(sx(x))}" cy="${r(sy(y))}" r="2.5" fill="${s.color}"/>`)
    }
    out.push(`<line x1="${legendX}" x2="${legendX + 18}" y1="${height - 8}" y2="${height - 8}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
      `<text x="${legendX + 22}" y="${height - 4}" class="legend">${escapeXml(s.name)}</text>`)
    legendX += 34 + s.name.length * 7
  }
  out.push('</svg>')
  return out.join('\n')
}
