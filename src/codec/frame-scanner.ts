import {MalformedPacketError, PacketTooLargeError} from './errors.js'

/**
 * Receives one whole frame: its bytes are buf[start, end), its body (after the fixed header) starts at
 * bodyStart. buf is the caller's chunk itself (no copy) unless the frame arrived in several chunks, when
 * it is one buffer holding exactly that frame. Valid only during the call. Return false to stop.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a sink returns false to stop, or nothing
export type FrameSink<This = unknown> = (this: This, buf: Buffer, start: number, bodyStart: number, end: number) => boolean | void

const NOTHING: Buffer[] = []

/**
 * Splits a byte stream into whole MQTT frames (fixed header + body), in place. Frames that lie within
 * one chunk are handed on as positions in that chunk: nothing is copied or allocated for them. Only
 * the incomplete tail of a chunk is kept, and a frame that spans chunks is assembled once, when its
 * last byte arrives, from exactly its own bytes (the rest of that chunk is again read in place).
 *
 * The declared size is checked against the maximum packet size as soon as the fixed header is read,
 * before any of the body is held, so a peer cannot make us hold an oversized packet: such a frame
 * throws PacketTooLargeError, a malformed Remaining Length throws MalformedPacketError.
 */
export class FrameScanner {
  private pending: Buffer[] = NOTHING // a fresh array whenever bytes are held (pendingBytes > 0)
  private pendingBytes = 0
  private needed = 0 // total size of the held frame once its fixed header is complete, else 0
  private neededBody = 0 // where that frame's body starts
  private bodyAt = 0 // set by frameSize: where the body of the frame it sized starts

  constructor(public maxPacketSize: number) {}

  /**
   * Hands every complete frame in chunk to sink (called with `self` as this: a sink shared by every
   * connection, rather than a closure made per chunk), in order, and keeps the incomplete tail.
   */
  push<This>(chunk: Buffer, sink: FrameSink<This>, self?: This): void {
    let offset = 0
    if (this.pendingBytes > 0) {
      offset = this.completeHeld(chunk, sink, self)
      if (offset < 0) return
    }
    const n = chunk.length
    while (offset < n) {
      const size = this.frameSize(chunk, offset, n)
      if (size === 0 || size > n - offset) {
        this.hold(chunk, offset, size)
        return
      }
      const end = offset + size
      if (sink.call(self as This, chunk, offset, this.bodyAt, end) === false) return
      offset = end
    }
  }

  /** Bytes of a frame started and not complete yet (0: between frames). */
  get heldBytes(): number { return this.pendingBytes }

  /** Memory the held bytes keep alive (the buffers they live in), for tests and diagnostics. */
  get retainedBytes(): number {
    let n = 0
    for (const b of this.pending) n += b.buffer.byteLength
    return n
  }

  /** Keeps chunk[offset..] as the start of a frame; size is its total size if known, else 0. */
  private hold(chunk: Buffer, offset: number, size: number): void {
    // copied when it is a small part of the chunk: a view would keep the whole chunk alive while it waits
    const view = chunk.subarray(offset)
    const rest = view.length <= chunk.length >>> 1 ? Buffer.from(view) : view
    this.pending = [rest]
    this.pendingBytes = rest.length
    this.needed = size
    this.neededBody = size === 0 ? 0 : this.bodyAt - offset
  }

  /**
   * Adds chunk's first bytes to the held frame. Returns where the rest of chunk starts once the held
   * frame is complete and handed on, or -1 when chunk was all taken (or the sink asked to stop).
   */
  private completeHeld<This>(chunk: Buffer, sink: FrameSink<This>, self: This | undefined): number {
    if (this.needed === 0) {
      // the fixed header is incomplete: at most 4 bytes are held, and 5 always decide
      const head = Buffer.concat([...this.pending, chunk.subarray(0, 5)])
      const size = this.frameSize(head, 0, head.length)
      if (size === 0) {
        this.pending.push(Buffer.from(chunk)) // shorter than 5 bytes: the header is still incomplete
        this.pendingBytes += chunk.length
        return -1
      }
      this.needed = size
      this.neededBody = this.bodyAt
    }
    const missing = this.needed - this.pendingBytes
    if (chunk.length < missing) {
      this.pending.push(chunk)
      this.pendingBytes += chunk.length
      return -1
    }
    const frame = Buffer.concat([...this.pending, chunk.subarray(0, missing)], this.needed)
    const bodyStart = this.neededBody
    this.pending = NOTHING
    this.pendingBytes = 0
    this.needed = 0
    return sink.call(self as This, frame, 0, bodyStart, frame.length) === false ? -1 : missing
  }

  /**
   * Total size of the frame starting at buf[offset] (bytes up to n), or 0 if its fixed header is not
   * complete yet; sets bodyAt.
   */
  private frameSize(buf: Buffer, offset: number, n: number): number {
    let value = 0
    let multiplier = 1
    for (let i = 1; i <= 4; i++) {
      if (offset + i >= n) return 0
      const byte = buf[offset + i] as number
      value += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) {
        // [MQTT-1.5.5-1] (v5) the fewest bytes that hold the value: a last byte of 0 after the first is padding
        if (byte === 0 && i > 1) throw new MalformedPacketError('remaining length not in its shortest form')
        const size = 1 + i + value
        if (size > this.maxPacketSize) throw new PacketTooLargeError(size, this.maxPacketSize)
        this.bodyAt = offset + 1 + i
        return size
      }
      multiplier *= 128
    }
    // (v5 1.5.5, v3.1.1 2.2.3) a Variable Byte Integer is at most four bytes
    throw new MalformedPacketError('remaining length longer than 4 bytes')
  }
}
