import {MalformedPacketError, PacketTooLargeError} from './errors.js'

/**
 * Splits a byte stream into whole MQTT frames (fixed header + body). The declared size is checked
 * against the maximum packet size as soon as the fixed header is read, before any of the body is
 * buffered, so a hostile peer cannot make us hold an oversized packet.
 */
const NOTHING: Buffer[] = []

export class Framer {
  private pending: Buffer[] = NOTHING // a fresh array whenever bytes are held (pendingBytes > 0)
  private pendingBytes = 0
  private needed = 0 // total frame size once known, else 0

  constructor(public maxPacketSize: number) {}

  /** Calls onFrame for every complete frame in order. Throws MalformedPacketError / PacketTooLargeError. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => boolean | void): void {
    let buf = chunk
    if (this.pendingBytes > 0) {
      this.pending.push(chunk)
      this.pendingBytes += chunk.length
      if (this.needed === 0) {
        const head = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, Math.min(this.pendingBytes, 5))
        this.needed = this.frameSize(head, 0)
        if (this.needed === 0) return
      }
      if (this.pendingBytes < this.needed) return
      buf = Buffer.concat(this.pending, this.pendingBytes)
      this.pending = NOTHING
      this.pendingBytes = 0
      this.needed = 0
    }
    let offset = 0
    while (offset < buf.length) {
      const size = this.frameSize(buf, offset)
      if (size === 0 || offset + size > buf.length) {
        // the start of the next frame, copied when it is a small part of a large buffer (a long frame
        // just completed, or a big chunk): a view would keep all of that memory alive while it waits
        const view = buf.subarray(offset)
        const rest = view.length <= buf.length >>> 1 ? Buffer.from(view) : view
        this.pending = [rest]
        this.pendingBytes = rest.length
        this.needed = size
        return
      }
      const frame = buf.subarray(offset, offset + size)
      offset += size
      if (onFrame(frame) === false) return
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

  /** Total size of the frame starting at offset, or 0 if its fixed header is not complete yet. */
  private frameSize(buf: Buffer, offset: number): number {
    let value = 0
    let multiplier = 1
    for (let i = 1; i <= 4; i++) {
      if (offset + i >= buf.length) return 0
      const byte = buf[offset + i]
      value += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) {
        // [MQTT-1.5.5-1] the fewest bytes that hold the value: a last byte of 0 after the first is padding
        if (byte === 0 && i > 1) throw new MalformedPacketError('remaining length not in its shortest form')
        const size = 1 + i + value
        if (size > this.maxPacketSize) throw new PacketTooLargeError(size, this.maxPacketSize)
        return size
      }
      multiplier *= 128
    }
    // (v5 1.5.5, v3.1.1 2.2.3) a Variable Byte Integer is at most four bytes
    throw new MalformedPacketError('remaining length longer than 4 bytes')
  }
}
