/*
 * The strings of wire.ts: a u16 length, then UTF-8 bytes. The sender of a message is the same for
 * every message a node sends, and for every message of a batch the receiver reads: it is kept as bytes
 * on the sending side and as a string on the receiving one, and copied or compared by a loop (a few
 * bytes) rather than converted by Buffer's native calls each time.
 *
 * Measured in the brokers (a profile of a 2-node cluster): a loop that measured and wrote every short
 * ASCII string itself (charCodeAt) made encodeNodeMessage slower than Buffer.byteLength and write
 * (1.9 against 1.5 µs per message), so the other strings stay with Buffer.
 */

/** Strings up to this many bytes are kept and compared here. */
const SHORT = 64
const NOTHING = Buffer.alloc(0)

/** Writes a u16 length, then the string's UTF-8 bytes (the caller sized `out` with Buffer.byteLength); returns where it ends. */
export function writeString(out: Buffer, at: number, s: string): number {
  const n = s.length === 0 ? 0 : out.write(s, at + 2, 'utf8')
  out.writeUInt16BE(n, at)
  return at + 2 + n
}

/** A string written by writeString at r.at, read no further than r.end; r.at is moved past it. Throws if it runs past r.end. */
export function readString(bytes: Buffer, r: {at: number; end: number}): string {
  const n = stringLength(bytes, r)
  const s = bytes.toString('utf8', r.at + 2, r.at + 2 + n)
  r.at += 2 + n
  return s
}

/**
 * A string that is mostly the same from one use to the next (a message's sender): its bytes, kept from
 * the last time, are written again, and the last string read is given again while its bytes are the same.
 */
export class RepeatedString {
  private bytes: Buffer = NOTHING
  private text = ''

  /** The string's UTF-8 length. */
  byteLength(s: string): number {
    return s === this.text ? this.bytes.length : Buffer.byteLength(s)
  }

  /** writeString, the bytes of the string written last copied again. */
  write(out: Buffer, at: number, s: string): number {
    if (s !== this.text) {
      this.remember(s, Buffer.from(s, 'utf8'))
      if (this.text !== s) return writeString(out, at, s) // long: not kept
    }
    const bytes = this.bytes
    const n = bytes.length
    out.writeUInt16BE(n, at)
    for (let i = 0; i < n; i++) out[at + 2 + i] = bytes[i]!
    return at + 2 + n
  }

  /** readString, the string read last given again while its bytes are the same. */
  read(bytes: Buffer, r: {at: number; end: number}): string {
    const n = stringLength(bytes, r)
    const start = r.at + 2
    r.at = start + n
    const kept = this.bytes
    if (n !== kept.length || n > SHORT) return this.decode(bytes, start, n)
    for (let i = 0; i < n; i++) if (bytes[start + i] !== kept[i]) return this.decode(bytes, start, n)
    return this.text
  }

  private decode(bytes: Buffer, start: number, n: number): string {
    const text = bytes.toString('utf8', start, start + n)
    this.remember(text, Buffer.from(bytes.subarray(start, start + n)))
    return text
  }

  /** Keeps a string and its bytes (a long one is not kept: the text kept always matches the bytes kept). */
  private remember(text: string, bytes: Buffer): void {
    const short = bytes.length <= SHORT
    this.text = short ? text : ''
    this.bytes = short ? bytes : NOTHING
  }
}

/** The length of the string at r.at, checked to end by r.end. */
function stringLength(bytes: Buffer, r: {at: number; end: number}): number {
  if (r.at + 2 > r.end) throw new RangeError('a cluster message ends inside a string')
  const n = bytes.readUInt16BE(r.at)
  if (r.at + 2 + n > r.end) throw new RangeError('a cluster message ends inside a string')
  return n
}
