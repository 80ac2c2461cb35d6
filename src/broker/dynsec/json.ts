// Reading JSON the way Mosquitto's plugin reads it with cJSON: object keys are matched without regard
// to ASCII case, the first match wins, numbers become C ints, strings end at a NUL.

export type JsonObject = Record<string, unknown>

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** cJSON_Parse: like JSON.parse, but what follows the first complete value is ignored. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    const after = /after JSON at position (\d+)/.exec((error as Error).message)
    if (after === null) throw error
    return JSON.parse(text.slice(0, Number(after[1])))
  }
}

/** cJSON_GetObjectItem: the first key equal to `name` ignoring ASCII case. */
export function item(obj: unknown, name: string): unknown {
  if (!isObject(obj)) return undefined
  if (Object.hasOwn(obj, name)) return obj[name]
  const lower = asciiLower(name)
  for (const key of Object.keys(obj)) if (asciiLower(key) === lower) return obj[key]
  return undefined
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/** C strings stop at the first NUL. */
export function cString(s: string): string {
  const nul = s.indexOf('\0')
  return nul === -1 ? s : s.slice(0, nul)
}

/** json_get_string of a required field: the string, or undefined when missing or not a string. */
export function getString(obj: unknown, name: string): string | undefined {
  const v = item(obj, name)
  return typeof v === 'string' ? cString(v) : undefined
}

/** A string field that may be absent: undefined when absent, null when present but not a string. */
export function optionalString(obj: unknown, name: string): string | undefined | null {
  const v = item(obj, name)
  if (v === undefined) return undefined
  return typeof v === 'string' ? cString(v) : null
}

/** cJSON's valueint: a double saturated to a C int (NaN is 0). */
export function toInt(n: number): number {
  if (Number.isNaN(n)) return 0
  if (n >= 2147483647) return 2147483647
  if (n <= -2147483648) return -2147483648
  return Math.trunc(n)
}

/** json_get_int with a default: a present non-number keeps the default. */
export function getInt(obj: unknown, name: string, fallback: number): number {
  const v = item(obj, name)
  return typeof v === 'number' ? toInt(v) : fallback
}

/** json_get_bool with a default. */
export function getBool(obj: unknown, name: string, fallback: boolean): boolean {
  const v = item(obj, name)
  return typeof v === 'boolean' ? v : fallback
}

/** mosquitto_validate_utf8 on a string: no controls, no non-characters, no lone surrogates, at most 65536 bytes. */
export function validUtf8(s: string): boolean {
  if (Buffer.byteLength(s) > 65536) return false
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i)
    if (cp >= 0xd800 && cp <= 0xdbff) {
      const low = s.charCodeAt(i + 1)
      if (!(low >= 0xdc00 && low <= 0xdfff)) return false
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00)
      i++
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      return false
    }
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return false
    if (cp >= 0xfdd0 && cp <= 0xfdef) return false
    if ((cp & 0xfffe) === 0xfffe) return false
  }
  return true
}

/** mosquitto_sub_topic_check: '+' and '#' only as whole levels, '#' last; at most 65535 characters, 200 levels. */
export function validSubTopic(s: string): boolean {
  if (Buffer.byteLength(s) > 65535) return false
  const levels = s.split('/')
  if (levels.length - 1 > 200) return false
  return levels.every((level, i) =>
    (level === '+' || !level.includes('+')) && (level === '#' ? i === levels.length - 1 : !level.includes('#')))
}
