// The value types of mosquitto.conf options (one token, true/false, integers in a range, durations).

/** A value that does not fit its option; the parser adds the file and line. */
export class ValueError extends Error {}

export function oneToken(args: string): string {
  const tokens = args.split(/\s+/).filter(Boolean)
  if (tokens.length === 0) throw new ValueError('a value is required')
  if (tokens.length > 1) throw new ValueError(`one value expected, got '${args}'`)
  return tokens[0]
}

export function bool(args: string): boolean {
  const t = oneToken(args)
  if (t === 'true') return true
  if (t === 'false') return false
  throw new ValueError(`'${t}' is not true or false`)
}

export function int(args: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const t = oneToken(args)
  if (!/^-?\d+$/.test(t)) throw new ValueError(`'${t}' is not an integer`)
  const n = Number(t)
  if (n < min || n > max) throw new ValueError(`${n} is outside ${min}..${max === Number.MAX_SAFE_INTEGER ? '' : max}`)
  return n
}

export function text(args: string): string {
  if (args === '') throw new ValueError('a value is required')
  return args
}

const DURATION_UNITS: Record<string, number> = {h: 3600, d: 86_400, w: 604_800, m: 2_592_000, y: 31_536_000}

/** `persistent_client_expiration`: a number and h, d, w, m (30 days) or y (365 days); bare seconds as in 2.1. */
export function parseDuration(value: string): number {
  const m = /^(\d+)([hdwmy]?)$/.exec(value)
  if (m === null) throw new ValueError(`'${value}' is not a duration such as 2h, 14d, 1w, 6m or 1y`)
  const n = Number(m[1]) * (m[2] === '' ? 1 : DURATION_UNITS[m[2]])
  if (n <= 0) throw new ValueError('the duration must be above 0')
  return n
}
