import {random} from '../helpers/random.js'

/** The fuzzer's only source of randomness: seeded (mulberry32), so a run is replayed from its seed. */
export class Rand {
  private readonly next: () => number

  constructor(readonly seed: number) {
    this.next = random(seed)
  }

  float(): number { return this.next() }

  /** An integer in [0, n). */
  int(n: number): number { return Math.floor(this.next() * n) }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number { return lo + this.int(hi - lo + 1) }

  chance(p: number): boolean { return this.next() < p }

  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)] }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }

  /** A size that is usually small and now and then large (up to max). */
  size(max: number): number {
    const r = this.next()
    return r < 0.7 ? this.int(32) : r < 0.95 ? this.int(1024) : this.int(max)
  }
}
