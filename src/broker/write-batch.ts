import {Socket} from 'node:net'
import type {Duplex} from 'node:stream'

/** Something whose writes are held until the batch is flushed. */
export interface Corked {
  uncork(): void
}

/**
 * A packet id (and DUP) to write into a shared PUBLISH encoding where it is copied: the id's offset in the
 * packet, the DUP bit and the id in one number (offset * 2^17 + dup * 2^16 + id), or NO_PATCH.
 */
export type Patch = number
export const NO_PATCH: Patch = -1

export function patchOf(packetIdOffset: number, packetId: number, dup: boolean): Patch {
  return packetIdOffset * 0x20000 + (dup ? 0x10000 : 0) + packetId
}

/** Writes a patch into the packet that starts at buf[at]. */
export function applyPatch(buf: Buffer, at: number, patch: Patch): void {
  buf.writeUInt16BE(patch % 0x10000, at + Math.floor(patch / 0x20000))
  if (Math.floor(patch / 0x10000) % 2 === 1) buf[at] = buf[at]! | 0x08 // [MQTT-3.3.1-1] DUP on a redelivery
}

/** A patched copy of a shared encoding (for a packet written on its own, not joined into a batch). */
export function patched(shared: Buffer, patch: Patch): Buffer {
  const copy = Buffer.allocUnsafe(shared.length)
  shared.copy(copy)
  applyPatch(copy, 0, patch)
  return copy
}

/**
 * The largest batch a connection holds: it flushes once it holds `flushAtBytes` (8 KB), and a packet that
 * large is never held, so a batch is always smaller than twice that.
 */
const SCRATCH_BYTES = 16_384

/**
 * The most packets the log takes before it is emptied (a fan-out's iteration of 64 KB of 100-byte
 * messages logs ~580); past it, connections hold arrays of their own.
 */
const MAX_LOGGED = 1_024

/**
 * Flushes every corked connection once per event-loop iteration, after all the I/O callbacks of the
 * iteration (setImmediate). A subscriber that hears from ten publishers in one iteration gets one
 * write, not ten (process.nextTick would flush after each publisher's callback).
 *
 * It also joins a connection's held packets into one buffer (`join`), in one scratch buffer shared by
 * every connection of the broker while the kernel takes each write whole (`written`): a fan-out to a
 * thousand subscribers then allocates nothing per batch, where a buffer per batch (several per
 * subscriber per iteration, each freed only at the next garbage collection) was most of what the
 * fan-out added to the broker's peak RSS.
 */
export class WriteBatch {
  private corked: Corked[] = []
  private scheduled = false
  private scratch: Buffer | undefined
  /**
   * The packets connections held in this iteration without a patch, in the order they were first held:
   * log[0 .. logged). A connection whose held packets are consecutive entries of it keeps where they
   * start and how many there are (a run), not an array of its own: a fan-out's thousand subscribers
   * each get every message in turn, so they share one log instead of holding ~75 references each
   * (600 B per subscriber, 0.7 MB at the fan-out's peak). Emptied whenever no connection holds a run
   * (`runs`), so that it keeps nothing longer than a connection's own array would have.
   */
  private log: Array<Buffer | undefined> = []
  private logged = 0
  private runs = 0
  /**
   * Bytes the sockets of the broker hold because the kernel refused them: each backed-up socket's
   * `writableLength` as of its last write, until it drains (ConnectionOutput.recount). Read against
   * maxOutboundBufferBytesTotal. A socket holding less than its high-water mark is not counted (it
   * never emits 'drain'), nor what a socket has handed to the kernel since its last write: the figure
   * errs on the high side by the latter and on the low side by at most the high-water mark per socket.
   */
  outboundBytes = 0

  add(c: Corked): void {
    this.corked.push(c)
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.flush)
  }

  private readonly flush = (): void => {
    this.scheduled = false
    const list = this.corked
    this.corked = []
    for (let i = 0; i < list.length; i++) list[i]!.uncork()
  }

  /**
   * Where a run that starts with `bytes` starts in the log (the last entry, if it is these bytes), or -1
   * when the log is full. A run started is ended by `endRun`.
   */
  startRun(bytes: Buffer): number {
    const last = this.logged - 1
    if (last >= 0 && this.log[last] === bytes) {
      this.runs++
      return last
    }
    if (this.logged >= MAX_LOGGED) return -1
    this.log[this.logged] = bytes
    this.runs++
    return this.logged++
  }

  /** A connection wrote its run or made it an array: once no run is left, the log is emptied. */
  endRun(): void {
    if (--this.runs !== 0) return
    const log = this.log
    for (let i = 0; i < this.logged; i++) log[i] = undefined
    this.logged = 0
  }

  /** Whether `bytes` can be the next packet of a run whose next entry is log[at] (then it is, logged if need be). */
  extendRun(bytes: Buffer, at: number): boolean {
    if (at < this.logged) return this.log[at] === bytes
    if (at !== this.logged || at >= MAX_LOGGED) return false
    this.log[this.logged++] = bytes
    return true
  }

  /** The packet at log[at], for a connection that turns its run into an array. */
  loggedAt(at: number): Buffer {
    return this.log[at]!
  }

  /** A run's packets, log[start .. start + count) (`total` bytes), as one buffer: as join(). */
  joinRun(start: number, count: number, total: number, stream: Duplex): Buffer {
    return this.join(this.log, undefined, count, total, stream, start)
  }

  /**
   * The first `count` held packets (`total` bytes) as one buffer, each shared encoding patched with its
   * packet id (`patches[i]`; no patches: none has one), to be written to `stream` at once, and then
   * reported to `written`.
   * The shared scratch buffer only for a plain TCP socket (net.Socket: it hands the bytes to the kernel
   * or keeps them, never passes them on) with nothing already waiting in it; otherwise a new buffer.
   */
  join(held: ReadonlyArray<Buffer | undefined>, patches: readonly Patch[] | undefined, count: number, total: number, stream: Duplex,
    from = 0): Buffer {
    const shared = total <= SCRATCH_BYTES && stream.writableLength === 0 && Object.getPrototypeOf(stream) === Socket.prototype
    const into = shared ? (this.scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES)) : Buffer.allocUnsafe(total)
    let at = 0
    for (let i = 0; i < count; i++) {
      const start = at
      at += held[from + i]!.copy(into, at)
      if (patches === undefined) continue
      const patch = patches[i]!
      if (patch !== NO_PATCH) applyPatch(into, start, patch)
    }
    return shared ? into.subarray(0, at) : into
  }

  /**
   * After `stream.write(bytes)` of what `join` returned: a socket left holding some of it (the kernel
   * did not take it all) keeps the scratch buffer, and the next batch gets a new one. Node's socket
   * finishes a write the kernel took whole before write() returns, so nothing waits in it then.
   */
  written(bytes: Buffer, stream: Duplex): void {
    if (stream.writableLength !== 0 && this.scratch !== undefined && bytes.buffer === this.scratch.buffer) this.scratch = undefined
  }
}
