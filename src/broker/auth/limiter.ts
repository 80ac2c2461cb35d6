/**
 * Runs at most `limit` async jobs at once; the rest wait. Used to keep password verifications
 * (argon2id, pbkdf2: CPU- and memory-hungry jobs on the libuv thread pool) from oversubscribing the
 * CPU and starving the event loop and the pool's other users (fs, dns).
 *
 * Waiting jobs are queued per key (the client's address) and the keys are served in turn, first in,
 * first out within a key: a thousand logins from one address wait behind each other, not in front of
 * a login from another, which waits for at most one job per other waiting key.
 */
export class Limiter {
  private running = 0
  private waitingCount = 0
  /** Waiting jobs by key; the Map's order is the turn order (a served key moves to the end). */
  private readonly waiting = new Map<string, Array<() => void>>()
  /** Jobs running or waiting, by key. */
  private readonly perKey = new Map<string, number>()

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('the concurrency limit must be a positive integer')
  }

  /** Jobs started and not finished. */
  get active(): number {
    return this.running
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.waitingCount
  }

  /** Jobs of a key running or waiting. */
  pending(key: string): number {
    return this.perKey.get(key) ?? 0
  }

  async run<T>(job: () => Promise<T> | T, key = ''): Promise<T> {
    this.perKey.set(key, this.pending(key) + 1)
    if (this.running >= this.limit) await this.wait(key)
    else this.running++
    try {
      return await job()
    } finally {
      const left = this.pending(key) - 1
      if (left === 0) this.perKey.delete(key)
      else this.perKey.set(key, left)
      const next = this.next()
      if (next === undefined) this.running--
      else next() // the slot passes straight to the next job
    }
  }

  private wait(key: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const queue = this.waiting.get(key)
      if (queue === undefined) this.waiting.set(key, [resolve])
      else queue.push(resolve)
      this.waitingCount++
    })
  }

  /** The first waiting job of the key whose turn it is; that key goes to the back of the line. */
  private next(): (() => void) | undefined {
    for (const [key, queue] of this.waiting) {
      const job = queue.shift()!
      this.waiting.delete(key)
      if (queue.length > 0) this.waiting.set(key, queue)
      this.waitingCount--
      return job
    }
    return undefined
  }
}
