// The bridge's connection to its own broker: an in-memory pair of streams, one end served by
// broker.handle() like any socket, the other used by the bridge's MQTT client. So the bridge's local
// side is an ordinary client of the broker: its session (kept across restarts with persistence),
// queue limits, ACLs (local_username) and No Local all apply as for any client.
import {Duplex} from 'node:stream'

/** Two cross-wired duplex streams; a side that does not read pushes back on its peer's writes. */
export function duplexPair(): [Duplex, Duplex] {
  const a = new Side()
  const b = new Side()
  a.other = b
  b.other = a
  return [a, b]
}

class Side extends Duplex {
  other!: Side
  private waiting: (() => void) | undefined
  constructor() { super({allowHalfOpen: false}) }
  override _read(): void {
    const cb = this.waiting
    this.waiting = undefined
    cb?.()
  }
  override _writev(chunks: Array<{chunk: Buffer}>, cb: (err?: Error | null) => void): void {
    this._write(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)), 'buffer' as BufferEncoding, cb)
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
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
