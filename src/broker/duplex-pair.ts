import {Duplex} from 'node:stream'

/**
 * Two cross-wired in-memory duplex streams (node:stream's duplexPair arrived only in Node 22). Like a
 * socket, a side that does not read pushes back: its peer's write callback waits until it reads, so
 * the writer's writableLength grows and write() returns false. A bridge's connection to its own broker
 * is one (one end served by broker.handle() like any socket, the other its MQTT client's), so the
 * bridge's local side is an ordinary client: its session, queue limits, ACLs and No Local apply; tests
 * use it for a socket without a socket.
 */
export function duplexPair(): [Side, Side] {
  const a = new Side()
  const b = new Side()
  a.other = b
  b.other = a
  return [a, b]
}

export class Side extends Duplex {
  other!: Side
  /** How many times the writer handed this side bytes (_write or one batched _writev). */
  writes = 0
  private waiting: (() => void) | undefined
  constructor() { super({allowHalfOpen: false}) }
  override _read(): void {
    const cb = this.waiting
    this.waiting = undefined
    cb?.()
  }
  override _writev(chunks: Array<{chunk: Buffer}>, cb: (err?: Error | null) => void): void {
    this._write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), 'buffer' as BufferEncoding, cb)
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writes++
    if (this.other.destroyed) return cb()
    if (this.other.push(chunk)) cb()
    else this.other.waiting = () => cb()
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.other.push(null)
    cb()
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const w = this.waiting
    this.waiting = undefined
    w?.()
    if (!this.other.destroyed && !this.other.readableEnded) this.other.push(null)
    cb(err)
  }
}
