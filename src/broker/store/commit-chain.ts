import {StoreError} from './errors.js'
import type {Backend, WriteOp} from './write-ops.js'
import {realTimers, type Timers} from '../timers.js'

/** Writes that nobody asks to be durable (a QoS 0 retained message, a session record) are committed after this long anyway. */
const AUTO_COMMIT_MS = 100

const RESOLVED = Promise.resolve()

/**
 * When and in what order a store's batches reach its backend: one after the other (handed over at once
 * to a pipelined backend), a flush at the end of the turn for everyone who asked for durability in it,
 * one within AUTO_COMMIT_MS of a write that nobody asked for, and the first failure sticks.
 */
export class CommitChain {
  /** The first commit that failed: every later flush and durable() rejects with it. */
  failed: StoreError | undefined
  private tail: Promise<void> = RESOLVED
  private scheduled: Promise<void> | undefined
  private autoCommit: unknown

  /** flush: takes the store's buffered operations and hands them to commit(); timers: the auto-commit's clock. */
  constructor(private readonly backend: Backend, private readonly flush: () => Promise<void>, private readonly timers: Timers = realTimers) {}

  /** Resolves once every batch handed over so far is committed. */
  get settled(): Promise<void> {
    return this.tail
  }

  /** Hands one batch to the backend, to be committed after those before it. */
  commit(ops: WriteOp[]): Promise<void> {
    this.timers.clearTimeout(this.autoCommit)
    this.autoCommit = undefined
    let run: Promise<unknown>
    if (this.backend.pipelined) {
      // handed over at once; resolves in order, after the batches before it
      const previous = this.tail
      const committed = Promise.resolve(this.backend.commit(ops))
      committed.catch(() => undefined) // after a failed batch its own failure is not waited for: no unhandled rejection
      run = previous.then(() => committed)
    } else {
      run = this.tail.then(() => this.backend.commit(ops))
    }
    const tail = run.then(() => undefined, (error: unknown) => {
      this.failed ??= error instanceof StoreError ? error : new StoreError('failed', `store commit failed: ${(error as Error)?.message ?? String(error)}`, {cause: error})
      throw this.failed
    })
    tail.catch(() => undefined) // the caller sees the error; no unhandled rejection if it does not wait
    this.tail = tail
    return tail
  }

  /** Resolves once every write made so far is durable: `buffered` writes are flushed at the end of this turn. */
  durable(buffered: number): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed)
    if (buffered === 0 && this.scheduled === undefined) return this.tail
    this.scheduled ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.scheduled = undefined
        this.flush().then(resolve, reject)
      })
    })
    return this.scheduled
  }

  /** A write was buffered: it is flushed within AUTO_COMMIT_MS even if nobody asks for it. */
  written(): void {
    if (this.autoCommit !== undefined) return
    this.autoCommit = this.timers.setTimeout(() => {
      this.autoCommit = undefined
      if (this.failed === undefined) this.flush().catch(() => undefined) // a failure surfaces at the next durable()
    }, AUTO_COMMIT_MS)
  }

  /**
   * Makes a failed chain usable again, once the caller has put the backend back in a known state (a
   * cluster node that rewrote what it holds to Redis): nothing acknowledged depended on the batches
   * that failed, and later commits no longer reject with the old failure. Call once `settled` settled.
   */
  recover(): void {
    this.failed = undefined
    this.tail = RESOLVED
  }

  /**
   * Fails the chain on purpose (a cluster node about to rewrite its state to Redis): writes from now on
   * are not committed, and no acknowledgement waits on them, until recover().
   */
  suspend(reason: string): void {
    this.failed ??= new StoreError('unavailable', reason)
  }

  /** No more automatic flushes (the store is closing). */
  stop(): void {
    this.timers.clearTimeout(this.autoCommit)
    this.autoCommit = undefined
  }
}
