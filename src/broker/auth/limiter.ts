/**
 * Runs at most `limit` async jobs at once; the rest wait in arrival order. Used to keep password
 * verifications (argon2id, pbkdf2: CPU- and memory-hungry jobs on the libuv thread pool) from
 * oversubscribing the CPU and starving the event loop and the pool's other users (fs, dns).
 */
export class Limiter {
  private running = 0
  private readonly waiting: Array<() => void> = []

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('the concurrency limit must be a positive integer')
  }

  /** Jobs started and not finished. */
  get active(): number {
    return this.running
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waiting.length
  }

  async run<T>(job: () => Promise<T> | T): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running++
    try {
      return await job()
    } finally {
      const next = this.waiting.shift()
      if (next === undefined) this.running--
      else next() // the slot passes straight to the next job
    }
  }
}
