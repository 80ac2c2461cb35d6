// mosquitto_sub's -F output format language, byte for byte as Debian's mosquitto_sub 2.0 prints it:
// `%` message fields with `-`/`0` flags, width and precision; `@` strftime fields; `\` escapes.
import {cstr, num, parseJson, printJson, str, type CNode} from './cjson.js'
import {strftime1} from './strftime.js'
import type {FormatMessage, Timestamp} from './message.js'

type Op =
  | {k: 'text'; b: Buffer}
  | {k: 'field'; c: string; align: boolean; zero: boolean; width: number; precision: number}
  | {k: 'time'; c: string}

const FIELDS = new Set('%ACDEFIlmPpqRSrtjJUxX')
const ESCAPES: Record<string, string> = {'\\': '\\', 0: '\0', a: '\x07', e: '\x1b', n: '\n', r: '\r', t: '\t', v: '\v'}

/** Checks a format as mosquitto_sub does; returns its error message (without "Error: ") or undefined. */
export function checkFormat(format: string): string | undefined {
  const len = format.length
  for (let i = 0; i < len; i++) {
    const c = format[i]
    if (c === '%') {
      if (i === len - 1) return 'Incomplete format specifier.'
      if (format[i + 1] === '0' || format[i + 1] === '-') {
        i++
        if (i === len - 1) return 'Incomplete format specifier.'
      }
      while (isDigit(format[i + 1])) {
        i++
        if (i === len - 1) return 'Incomplete format specifier.'
      }
      if (format[i + 1] === '.') {
        i++
        if (i === len - 1) return 'Incomplete format specifier.'
        while (isDigit(format[i + 1])) {
          i++
          if (i === len - 1) return 'Incomplete format specifier.'
        }
      }
      if (!FIELDS.has(format[i + 1])) return `Invalid format specifier '${format[i + 1]}'.`
      i++
    } else if (c === '@') {
      if (i === len - 1) return 'Incomplete format specifier.'
      i++
    } else if (c === '\\') {
      if (i === len - 1) return 'Incomplete escape specifier.'
      if (!(format[i + 1] in ESCAPES)) return `Invalid escape specifier '${format[i + 1]}'.`
      i++
    }
  }
  return undefined
}

function isDigit(c: string | undefined): boolean { return c !== undefined && c >= '0' && c <= '9' }

/** A compiled -F format. Throws a TypeError with mosquitto's message for an invalid one. */
export class Template {
  private readonly ops: Op[] = []

  constructor(format: string, private readonly pretty = false) {
    const error = checkFormat(format)
    if (error) throw new TypeError(error)
    let text = ''
    const flush = () => { if (text) this.ops.push({k: 'text', b: Buffer.from(text)}); text = '' }
    const len = format.length
    for (let i = 0; i < len; i++) {
      const c = format[i]
      if (c === '%') {
        let align = false
        let zero = false
        let width = 0
        let precision = -1
        i++
        if (format[i] === '-') { align = true; if (i < len - 1) i++ }
        if (format[i] === '0') { zero = true; if (i < len - 1) i++ }
        while (i < len - 1 && isDigit(format[i])) width = width * 10 + Number(format[i++])
        if (format[i] === '.' && i < len - 1) {
          i++
          precision = 0
          while (i < len - 1 && isDigit(format[i])) precision = precision * 10 + Number(format[i++])
        }
        flush()
        this.ops.push({k: 'field', c: format[i], align, zero, width, precision})
      } else if (c === '@') {
        i++
        if (format[i] === '@') text += '@'
        else { flush(); this.ops.push({k: 'time', c: format[i]}) }
      } else if (c === '\\') {
        text += ESCAPES[format[++i]]
      } else {
        text += c
      }
    }
    flush()
  }

  /** The bytes printed for one message (without the end-of-line mosquitto_sub adds unless -N). */
  render(m: FormatMessage, now: Timestamp): {bytes: Buffer; errors: string[]} {
    const out: Buffer[] = []
    const errors: string[] = []
    for (const op of this.ops) {
      if (op.k === 'text') out.push(op.b)
      else if (op.k === 'time') out.push(Buffer.from(op.c === 'N' ? String(now.ns).padStart(9, '0') : strftime1(op.c, now.date)))
      else {
        const b = this.field(op, m, now, errors)
        if (b) out.push(b)
      }
    }
    return {bytes: Buffer.concat(out), errors}
  }

  private field(op: Extract<Op, {k: 'field'}>, m: FormatMessage, now: Timestamp, errors: string[]): Buffer | undefined {
    const p = m.properties
    const {align, zero, width, precision} = op
    const int = (v: number) => formatInt(v, align, zero, width)
    const blank = (pad: string) => Buffer.from(pad.repeat(width))
    const string = (v: string | Buffer) => formatStr(cstr(typeof v === 'string' ? Buffer.from(v) : v), align, width, precision)
    switch (op.c) {
      case '%': return Buffer.from('%')
      case 'A': return p?.topicAlias === undefined ? blank(zero ? '0' : ' ') : int(p.topicAlias)
      case 'C': return p?.contentType === undefined ? blank(' ') : string(p.contentType)
      case 'D': return p?.correlationData
      case 'E': return p?.messageExpiryInterval === undefined ? blank(zero ? '0' : ' ') : int(p.messageExpiryInterval | 0)
      case 'F': return p?.payloadFormatIndicator === undefined ? blank(zero ? '0' : ' ') : int(Number(p.payloadFormatIndicator))
      case 'I': return string(`${strftime1('F', now.date)}T${strftime1('T', now.date)}${strftime1('z', now.date)}`)
      case 'j': return jsonLine(m, now, this.pretty, false)
      case 'J': {
        const b = jsonLine(m, now, this.pretty, true)
        if (!b) errors.push(`Error: Message payload is not valid JSON on topic ${m.topic}.`)
        return b
      }
      case 'l': return int(m.payload.length)
      case 'm': return int(m.messageId ?? 0)
      case 'P': return userProperties(p?.userProperties)
      case 'p': return writePayload(m.payload, 0, align, zero, width)
      case 'q': return Buffer.from(String(m.qos))
      case 'R': return p?.responseTopic === undefined ? undefined : string(p.responseTopic)
      case 'r': return Buffer.from(m.retain ? '1' : '0')
      case 'S': {
        const id = Array.isArray(p?.subscriptionIdentifier) ? p.subscriptionIdentifier[0] : p?.subscriptionIdentifier
        return id === undefined ? blank(zero ? '0' : ' ') : int(id)
      }
      case 't': return string(m.topic)
      case 'U': return Buffer.from(`${Math.floor(now.date.getTime() / 1000)}.${String(now.ns).padStart(9, '0')}`)
      case 'x': return writePayload(m.payload, 1, align, zero, width)
      case 'X': return writePayload(m.payload, 2, align, zero, width)
      default: return undefined
    }
  }
}

/** printf("%d" / "%-*d" / "%0*d" / "%*d"). */
function formatInt(v: number, align: boolean, zero: boolean, width: number): Buffer {
  const s = String(v)
  if (width === 0 || s.length >= width) return Buffer.from(s)
  if (align) return Buffer.from(s.padEnd(width))
  if (zero) return Buffer.from(v < 0 ? `-${String(-v).padStart(width - 1, '0')}` : s.padStart(width, '0'))
  return Buffer.from(s.padStart(width))
}

/** printf("%*.*s") on bytes: cut to precision, pad with spaces to width. */
function formatStr(b: Buffer, align: boolean, width: number, precision: number): Buffer {
  const v = precision >= 0 && b.length > precision ? b.subarray(0, precision) : b
  if (v.length >= width) return v
  const pad = Buffer.alloc(width - v.length, ' ')
  return align ? Buffer.concat([v, pad]) : Buffer.concat([pad, v])
}

/** mosquitto's write_payload: a width also cuts the payload (to width bytes, or width/2 bytes in hex). */
function writePayload(payload: Buffer, hex: 0 | 1 | 2, align: boolean, zero: boolean, width: number): Buffer {
  let len = payload.length
  let padlen: number
  if (width > 0) {
    if (len > width) len = width
    if (hex > 0) {
      len = Math.floor(len / 2)
      padlen = width - len * 2
    } else {
      padlen = width - len
    }
  } else {
    padlen = width - len
  }
  const body = payload.subarray(0, len)
  const text = hex === 0 ? body : Buffer.from(hex === 1 ? body.toString('hex') : body.toString('hex').toUpperCase())
  if (padlen <= 0) return text
  return align ? Buffer.concat([text, Buffer.alloc(padlen, ' ')]) : Buffer.concat([Buffer.alloc(padlen, zero ? '0' : ' '), text])
}

function userProperties(props: Record<string, string | string[]> | undefined): Buffer | undefined {
  if (!props) return undefined
  const pairs: string[] = []
  for (const [k, v] of Object.entries(props)) for (const value of Array.isArray(v) ? v : [v]) pairs.push(`${k}:${value}`)
  return Buffer.from(pairs.join(' '))
}

/** %j / %J: mosquitto's JSON object; undefined when %J's payload is not JSON. */
export function jsonLine(m: FormatMessage, now: Timestamp, pretty: boolean, rawPayload: boolean): Buffer | undefined {
  const us = String(Math.floor(now.ns / 1000)).padStart(6, '0')
  const d = now.date
  const tst = `${strftime1('F', d)}T${strftime1('T', d)}.${us}Z${strftime1('z', d)}`
  const entries: Array<[Buffer, CNode]> = [
    [Buffer.from('tst'), str(tst)],
    [Buffer.from('topic'), str(m.topic)],
    [Buffer.from('qos'), num(m.qos)],
    [Buffer.from('retain'), num(m.retain ? 1 : 0)],
    [Buffer.from('payloadlen'), num(m.payload.length)],
  ]
  if (m.qos > 0) entries.push([Buffer.from('mid'), num(m.messageId ?? 0)])
  const props = propertiesNode(m.properties)
  if (props) entries.push([Buffer.from('properties'), props])
  let payload: CNode | undefined
  if (m.payload.length === 0) payload = {t: 'null'}
  else if (rawPayload) payload = parseJson(m.payload)
  else payload = {t: 'str', b: m.payload}
  if (!payload) return undefined
  entries.push([Buffer.from('payload'), payload])
  return printJson({t: 'obj', entries}, pretty)
}

const PROPERTY_NAMES: Record<string, string> = {
  payloadFormatIndicator: 'payload-format-indicator', messageExpiryInterval: 'message-expiry-interval',
  contentType: 'content-type', responseTopic: 'response-topic', correlationData: 'correlation-data',
  subscriptionIdentifier: 'subscription-identifier', topicAlias: 'topic-alias',
}

/** The "properties" object of %j, in the order the properties came on the wire. */
function propertiesNode(p: FormatMessage['properties']): CNode | undefined {
  if (!p || Object.keys(p).length === 0) return undefined
  const entries: Array<[Buffer, CNode]> = []
  for (const [key, value] of Object.entries(p)) {
    if (value === undefined) continue
    if (key === 'userProperties') {
      const users: Array<[Buffer, CNode]> = []
      for (const [k, v] of Object.entries(value as Record<string, string | string[]>)) {
        for (const one of Array.isArray(v) ? v : [v]) users.push([Buffer.from(k), str(one)])
      }
      entries.push([Buffer.from('user-properties'), {t: 'obj', entries: users}])
      continue
    }
    const name = PROPERTY_NAMES[key]
    if (!name) continue
    for (const one of Array.isArray(value) ? value : [value]) {
      const node = typeof one === 'number' ? num(one) : typeof one === 'boolean' ? num(one ? 1 : 0) : str(one as string | Buffer)
      entries.push([Buffer.from(name), node])
    }
  }
  return {t: 'obj', entries}
}
