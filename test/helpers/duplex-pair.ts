import {Duplex} from 'node:stream'

/** Two cross-wired in-memory duplex streams (node:stream's duplexPair arrived only in Node 22). */
export function duplexPair(): [Duplex, Duplex] {
  const a = new Side()
  const b = new Side()
  a.other = b
  b.other = a
  return [a, b]
}

class Side extends Duplex {
  other!: Side
  constructor() { super({allowHalfOpen: false}) }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.other.push(chunk)
    cb()
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.other.push(null)
    cb()
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.other.destroyed && !this.other.readableEnded) this.other.push(null)
    cb(err)
  }
}
