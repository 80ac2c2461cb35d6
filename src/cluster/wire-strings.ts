/*
 * The strings of wire.ts: a u16 length, then UTF-8 bytes. They are written and read once or more per
 * forwarded message (sender, publisher, topic), so a short ASCII string, the usual one, is measured and
 * written by a loop here rather than by Buffer's native calls (each a call across into C++, costlier than
 * the loop for a few dozen characters); anything else goes to Buffer.
 */

/** Strings up to this many characters are looked at here; longer ones go to Buffer at once. */
const SHORT = 64
const NOTHING = Buffer.alloc(0)

/** The UTF-8 length of `s`. */
export function utf8Length(s: string): number {
  if (s.length > SHORT) return Buffer.byteLength(s)
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s)
  return s.length
}

/** Writes a u16 length, then the string's UTF-8 bytes (the caller sized `out` with utf8Length); returns where it ends. */
export function writeString(out: Buffer, at: number, s: string): number {
  const n = s.length
  let i = 0
  if (n <= SHORT) {
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      out[at + 2 + i] = c
    }
  }
  const bytes = i === n ? n : out.write(s, at + 2, 'utf8')
  out[at] = bytes >>> 8
  out[at + 1] = bytes & 0xff
  return at + 2 + bytes
}

/** A string written by writeString at r.at, read no further than r.end; r.at is moved past it. Throws if it runs past r.end. */
export function readString(bytes: Buffer, r: {at: number; end: number}): string {
  const n = stringLength(bytes, r)
  const s = bytes.toString('utf8', r.at + 2, r.at + 2 + n)
  r.at += 2 + n
  return s
}

/**
 * A string that is mostly the same from one read to the next (the sender of a batch's messages): the
 * last one read, given again with no decoding while its bytes are the same.
 */
export class RepeatedString {
  private bytes: Buffer = NOTHING
  private text = ''

  read(bytes: Buffer, r: {at: number; end: number}): string {
    const n = stringLength(bytes, r)
    const start = r.at + 2
    r.at = start + n
    if (n !== this.bytes.length || n > SHORT) return this.decode(bytes, start, n)
    for (let i = 0; i < n; i++) if (bytes[start + i] !== this.bytes[i]) return this.decode(bytes, start, n)
    return this.text
  }

  /** Decodes, and remembers what it decoded (a long string is not remembered: the text always matches the bytes kept). */
  private decode(bytes: Buffer, start: number, n: number): string {
    const text = bytes.toString('utf8', start, start + n)
    this.bytes = n <= SHORT ? Buffer.from(bytes.subarray(start, start + n)) : NOTHING
    this.text = n <= SHORT ? text : ''
    return text
  }
}

/** The length of the string at r.at, checked to end by r.end. */
function stringLength(bytes: Buffer, r: {at: number; end: number}): number {
  if (r.at + 2 > r.end) throw new RangeError('a cluster message ends inside a string')
  const n = (bytes[r.at]! << 8) | bytes[r.at + 1]!
  if (r.at + 2 + n > r.end) throw new RangeError('a cluster message ends inside a string')
  return n
}
