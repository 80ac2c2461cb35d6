// The bench header at the start of every payload (when the size allows), so that each message is
// measured, not guessed: which publisher stream sent it, its sequence number, and its send time.
//
//   offset 0  u32 LE  magic 0x6d676231 ("1bgm" on the wire), tells bench messages from others
//          4  u32 LE  stream: the publisher's index (its `%i`, offset by --start-number)
//          8  u32 LE  sequence number, from 0, per stream
//         12  f64 LE  send time in microseconds (the intended time in open-loop runs), see clock.ts
//         20  filler  'a'..'z' repeated
//
// Payloads shorter than HEADER_SIZE carry no header: they are counted but not tracked.

export const HEADER_SIZE = 20
export const MAGIC = 0x6d676231
export const STREAM_OFFSET = 4
export const SEQ_OFFSET = 8
export const TIME_OFFSET = 12

/**
 * A payload of `size` bytes: filler (or `body`'s bytes, a payload file's), with a zeroed header over
 * its first bytes when it fits (patched per message).
 */
export function payloadTemplate(size: number, body?: Uint8Array): Buffer {
  const payload = Buffer.allocUnsafe(size)
  if (body) payload.set(body.subarray(0, size))
  else for (let i = 0; i < size; i++) payload[i] = 0x61 + (i % 26)
  if (size >= HEADER_SIZE) {
    payload.writeUInt32LE(MAGIC, 0)
    payload.fill(0, 4, HEADER_SIZE)
  }
  return payload
}

/** Patches stream, sequence and time into a payload (or a PUBLISH, at the payload's offset). */
export function writeHeader(buf: Buffer, offset: number, stream: number, seq: number, time: number): void {
  buf.writeUInt32LE(stream, offset + STREAM_OFFSET)
  buf.writeUInt32LE(seq, offset + SEQ_OFFSET)
  buf.writeDoubleLE(time, offset + TIME_OFFSET)
}

/** True when the payload at [start, end) carries a bench header. */
export function hasHeader(buf: Buffer, start: number, end: number): boolean {
  return end - start >= HEADER_SIZE && buf.readUInt32LE(start) === MAGIC
}

export interface Header { stream: number; seq: number; time: number }

/** The header of a payload, or undefined (tests and tools; the hot path reads the fields in place). */
export function readHeader(payload: Buffer): Header | undefined {
  if (!hasHeader(payload, 0, payload.length)) return undefined
  return {stream: payload.readUInt32LE(STREAM_OFFSET), seq: payload.readUInt32LE(SEQ_OFFSET), time: payload.readDoubleLE(TIME_OFFSET)}
}
