import type {Timers} from '../../src/broker/timers.js'

/** Timers driven by the test: advance(ms) runs what falls due, in order. */
export class FakeTimers implements Timers {
  private time = 1_000_000
  private seq = 0
  private readonly pending = new Map<number, {at: number; fn: () => void}>()

  now(): number { return this.time }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq
    this.pending.set(id, {at: this.time + ms, fn})
    return id
  }

  clearTimeout(handle: unknown): void { this.pending.delete(handle as number) }

  /** Timers set and not yet run or cleared. */
  get pendingCount(): number { return this.pending.size }

  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      let next: [number, {at: number; fn: () => void}] | undefined
      for (const e of this.pending) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e
      if (next === undefined) break
      this.pending.delete(next[0])
      this.time = next[1].at
      next[1].fn()
    }
    this.time = end
  }
}
