// A strict parser of the Prometheus text exposition format 0.0.4, for checking /metrics: anything
// a Prometheus server would reject (or that the format leaves dubious) throws, naming the line.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  help?: string
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  const families = new Map<string, Family>()
  const series = new Set<string>()
  let current: Family | undefined
  const lines = text.slice(0, -1).split('\n')
  lines.forEach((line, i) => {
    const fail = (why: string): never => { throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`) }
    if (line === '') return
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (m === null) return // a plain comment
      const [, kind, name, rest] = m
      if (!NAME.test(name)) fail('bad metric name')
      let f = families.get(name)
      if (f !== undefined && f !== current) fail('family seen before (samples of a family must be together)')
      if (f === undefined) {
        f = {name, type: 'untyped', samples: []}
        families.set(name, f)
      }
      current = f
      if (kind === 'HELP') {
        if (f.help !== undefined) fail('second HELP')
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) fail('bad escape in HELP')
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\')
      } else {
        if (f.samples.length > 0) fail('TYPE after samples')
        if (!TYPES.has(rest)) fail('unknown type')
        f.type = rest as Family['type']
      }
      return
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line)
    if (m === null) fail('not a sample')
    const [, name, labelText, valueText] = m!
    const labels = labelText === undefined ? {} : parseLabels(labelText.slice(1, -1), fail)
    const value = parseValue(valueText, fail)
    const familyName = familyOf(name, families)
    const f = families.get(familyName)
    if (f === undefined || f !== current) fail('sample outside its family (no TYPE/HELP before it, or families interleaved)')
    const key = name + JSON.stringify(Object.entries(labels).sort())
    if (series.has(key)) fail('duplicate series')
    series.add(key)
    if (f!.type === 'counter' && (value < 0 || Number.isNaN(value))) fail('negative counter')
    f!.samples.push({name, labels, value})
  })
  return families
}

function familyOf(name: string, families: Map<string, Family>): string {
  if (families.has(name)) return name
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix) && families.has(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length)
  }
  return name
}

function parseValue(text: string, fail: (why: string) => never): number {
  if (text === 'NaN') return NaN
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail('bad value')
  return Number(text)
}

function parseLabels(text: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    const eq = text.indexOf('=', i)
    if (eq < 0) fail('label without =')
    const name = text.slice(i, eq)
    if (!LABEL.test(name)) fail(`bad label name ${name}`)
    if (name in labels) fail(`repeated label ${name}`)
    if (text[eq + 1] !== '"') fail('label value not quoted')
    let value = ''
    let j = eq + 2
    for (;; j++) {
      if (j >= text.length) fail('unterminated label value')
      const c = text[j]
      if (c === '"') break
      if (c === '\n') fail('raw newline in label value')
      if (c === '\\') {
        const n = text[++j]
        if (n === 'n') value += '\n'
        else if (n === '\\' || n === '"') value += n
        else fail('bad escape in label value')
      } else {
        value += c
      }
    }
    labels[name] = value
    i = j + 1
    if (i < text.length) {
      if (text[i] !== ',') fail('labels not separated by a comma')
      i++
    }
  }
  return labels
}

/** The value of one series (fails if it is missing). */
export function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = families.get(name)
  if (f === undefined) throw new Error(`no family ${name}`)
  const s = f.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))
  if (s === undefined) throw new Error(`no sample ${name}${JSON.stringify(labels)}`)
  return s.value
}
