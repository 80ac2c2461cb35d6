// JSON exactly as mosquitto_sub prints it through cJSON (1.7.x): its string escaping, its number
// formatting (%1.15g, else %1.17g), its tab-indented "pretty" layout, and its lenient parser (for %J,
// which re-prints a JSON payload). Strings are bytes and end at the first NUL, as C strings do.

export type CNode =
  | {t: 'null'} | {t: 'true'} | {t: 'false'}
  | {t: 'num'; v: number}
  | {t: 'str'; b: Buffer}
  | {t: 'arr'; items: CNode[]}
  | {t: 'obj'; entries: Array<[Buffer, CNode]>}

export const cstr = (b: Buffer): Buffer => {
  const nul = b.indexOf(0)
  return nul < 0 ? b : b.subarray(0, nul)
}

export const str = (s: string | Buffer): CNode => ({t: 'str', b: typeof s === 'string' ? Buffer.from(s) : s})
export const num = (v: number): CNode => ({t: 'num', v})

const ESCAPES: Record<number, string> = {0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t'}

/** A quoted string the way cJSON's print_string_ptr writes it (bytes >= 0x20 other than " and \ are raw). */
export function quote(bytes: Buffer): Buffer {
  const b = cstr(bytes)
  let plain = true
  for (let i = 0; i < b.length; i++) if (b[i] < 0x20 || b[i] === 0x22 || b[i] === 0x5c) { plain = false; break }
  if (plain) return Buffer.concat([QUOTE, b, QUOTE])
  const parts: Buffer[] = [QUOTE]
  let start = 0
  for (let i = 0; i < b.length; i++) {
    const c = b[i]
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue
    parts.push(b.subarray(start, i), Buffer.from(ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, '0')}`))
    start = i + 1
  }
  parts.push(b.subarray(start), QUOTE)
  return Buffer.concat(parts)
}
const QUOTE = Buffer.from('"')

/** C's printf("%1.<precision>g", d). */
export function formatG(d: number, precision: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0'
  const [mantissa, exp] = d.toExponential(precision - 1).split('e')
  const x = Number(exp)
  if (x < -4 || x >= precision) {
    const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa
    return `${m}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`
  }
  const fixed = d.toFixed(precision - 1 - x)
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed
}

/** cJSON's print_number. */
export function formatNumber(d: number): string {
  if (!Number.isFinite(d)) return 'null'
  const short = formatG(d, 15)
  return Number(short) === d ? short : formatG(d, 17)
}

/** Prints a tree as cJSON_PrintUnformatted (pretty = false) or cJSON_Print (pretty = true). */
export function printJson(node: CNode, pretty: boolean): Buffer {
  const out: Array<Buffer | string> = []
  print(node, pretty, 0, out)
  return Buffer.concat(out.map((p) => typeof p === 'string' ? Buffer.from(p) : p))
}

function print(node: CNode, pretty: boolean, depth: number, out: Array<Buffer | string>): void {
  switch (node.t) {
    case 'null': case 'true': case 'false': out.push(node.t); return
    case 'num': out.push(formatNumber(node.v)); return
    case 'str': out.push(quote(node.b)); return
    case 'arr': {
      out.push('[')
      node.items.forEach((item, i) => {
        if (i > 0) out.push(pretty ? ', ' : ',')
        print(item, pretty, depth + 1, out)
      })
      out.push(']')
      return
    }
    case 'obj': {
      const d = depth + 1
      out.push(pretty ? '{\n' : '{')
      node.entries.forEach(([key, value], i) => {
        if (pretty) out.push('\t'.repeat(d))
        out.push(quote(key), pretty ? ':\t' : ':')
        print(value, pretty, d, out)
        if (i < node.entries.length - 1) out.push(',')
        if (pretty) out.push('\n')
      })
      if (pretty) out.push('\t'.repeat(d - 1))
      out.push('}')
    }
  }
}

const NESTING_LIMIT = 1000

/**
 * Parses a whole payload as cJSON_ParseWithOpts(..., require_null_terminated) does: leading BOM and
 * whitespace (any byte <= 0x20) skipped, then one value, then only whitespace. Undefined if invalid.
 */
export function parseJson(payload: Buffer): CNode | undefined {
  if (payload.includes(0)) return undefined // the C string would end early
  const p = new Parser(payload)
  if (payload.length >= 3 && payload[0] === 0xef && payload[1] === 0xbb && payload[2] === 0xbf) p.i = 3
  try {
    p.ws()
    const value = p.value(0)
    p.ws()
    return p.i === payload.length ? value : undefined
  } catch {
    return undefined
  }
}

const NUMBER_CHARS = new Set(Array.from('0123456789+-eE.', (c) => c.charCodeAt(0)))
const STRTOD_PREFIX = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/

class Parser {
  i = 0
  constructor(private readonly b: Buffer) {}

  ws(): void { while (this.i < this.b.length && this.b[this.i] <= 0x20) this.i++ }

  private fail(): never { throw new SyntaxError('invalid JSON') }

  private literal(word: string): boolean {
    if (this.b.toString('latin1', this.i, this.i + word.length) !== word) return false
    this.i += word.length
    return true
  }

  value(depth: number): CNode {
    if (this.literal('null')) return {t: 'null'}
    if (this.literal('false')) return {t: 'false'}
    if (this.literal('true')) return {t: 'true'}
    const c = this.b[this.i]
    if (c === 0x22) return {t: 'str', b: this.string()}
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number()
    if (c === 0x5b) return this.array(depth)
    if (c === 0x7b) return this.object(depth)
    return this.fail()
  }

  private number(): CNode {
    let end = this.i
    while (end < this.b.length && end - this.i < 63 && NUMBER_CHARS.has(this.b[end])) end++
    const m = STRTOD_PREFIX.exec(this.b.toString('latin1', this.i, end))
    if (!m) return this.fail()
    this.i += m[0].length
    return {t: 'num', v: Number(m[0])}
  }

  string(): Buffer {
    const b = this.b
    let end = this.i + 1
    while (end < b.length && b[end] !== 0x22) {
      if (b[end] === 0x5c) {
        if (end + 1 >= b.length) this.fail()
        end++
      }
      end++
    }
    if (end >= b.length) this.fail()
    const out: number[] = []
    let k = this.i + 1
    while (k < end) {
      if (b[k] !== 0x5c) { out.push(b[k++]); continue }
      const e = b[k + 1]
      const simple: Record<number, number> = {0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9, 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f}
      if (e in simple) { out.push(simple[e]); k += 2; continue }
      if (e !== 0x75) this.fail()
      k = this.unicode(k, end, out)
    }
    this.i = end + 1
    return Buffer.from(out)
  }

  /** A \uXXXX escape (with its low surrogate if it is a high one), appended as UTF-8. */
  private unicode(k: number, end: number, out: number[]): number {
    if (end - k < 6) this.fail()
    const hex4 = (at: number) => {
      const s = this.b.toString('latin1', at, at + 4)
      return /^[0-9a-fA-F]{4}$/.test(s) ? Number.parseInt(s, 16) : 0 // cJSON's parse_hex4 yields 0 on bad digits
    }
    let code = hex4(k + 2)
    let length = 6
    if (code >= 0xdc00 && code <= 0xdfff) this.fail()
    if (code >= 0xd800 && code <= 0xdbff) {
      if (end - (k + 6) < 6 || this.b[k + 6] !== 0x5c || this.b[k + 7] !== 0x75) this.fail()
      const low = hex4(k + 8)
      if (low < 0xdc00 || low > 0xdfff) this.fail()
      code = 0x10000 + (((code & 0x3ff) << 10) | (low & 0x3ff))
      length = 12
    }
    for (const byte of Buffer.from(String.fromCodePoint(code))) out.push(byte)
    return k + length
  }

  private array(depth: number): CNode {
    if (depth >= NESTING_LIMIT) this.fail()
    this.i++
    this.ws()
    const items: CNode[] = []
    if (this.b[this.i] === 0x5d) { this.i++; return {t: 'arr', items} }
    for (;;) {
      this.ws()
      items.push(this.value(depth + 1))
      this.ws()
      if (this.b[this.i] === 0x2c) { this.i++; continue }
      if (this.b[this.i] === 0x5d) { this.i++; return {t: 'arr', items} }
      return this.fail()
    }
  }

  private object(depth: number): CNode {
    if (depth >= NESTING_LIMIT) this.fail()
    this.i++
    this.ws()
    const entries: Array<[Buffer, CNode]> = []
    if (this.b[this.i] === 0x7d) { this.i++; return {t: 'obj', entries} }
    for (;;) {
      this.ws()
      if (this.b[this.i] !== 0x22) this.fail()
      const key = this.string()
      this.ws()
      if (this.b[this.i] !== 0x3a) this.fail()
      this.i++
      this.ws()
      entries.push([key, this.value(depth + 1)])
      this.ws()
      if (this.b[this.i] === 0x2c) { this.i++; continue }
      if (this.b[this.i] === 0x7d) { this.i++; return {t: 'obj', entries} }
      return this.fail()
    }
  }
}
