/**
 * A FIFO between the socket and an async-iterating consumer. When more than `highWater` items wait,
 * `onPressure(true)` is called (the client pauses reading), and `onPressure(false)` once it is drained.
 */
export class MessageQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = []
  private head = 0
  private waiting: {resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void} | undefined
  private ended = false
  private error: Error | undefined
  private paused = false

  constructor(private readonly highWater: number, private readonly onPressure: (paused: boolean) => void) {}

  push(item: T): void {
    if (this.ended) return
    if (this.waiting) {
      const w = this.waiting
      this.waiting = undefined
      w.resolve({value: item, done: false})
      return
    }
    this.items.push(item)
    if (!this.paused && this.items.length - this.head > this.highWater) {
      this.paused = true
      this.onPressure(true)
    }
  }

  /** No more items; a pending or later next() rejects with `error` if given, else ends the iteration. */
  end(error?: Error): void {
    if (this.ended) return
    this.ended = true
    this.error = error
    if (this.waiting && this.head === this.items.length) {
      const w = this.waiting
      this.waiting = undefined
      if (error) w.reject(error)
      else w.resolve({value: undefined, done: true})
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++]!
      if (this.head === this.items.length) {
        this.items = []
        this.head = 0
      }
      if (this.paused && this.items.length - this.head <= this.highWater / 2) {
        this.paused = false
        this.onPressure(false)
      }
      return Promise.resolve({value, done: false})
    }
    if (this.ended) return this.error ? Promise.reject(this.error) : Promise.resolve({value: undefined, done: true})
    return new Promise((resolve, reject) => { this.waiting = {resolve, reject} })
  }

  return(): Promise<IteratorResult<T>> {
    this.ended = true
    this.items = []
    this.head = 0
    if (this.paused) {
      this.paused = false
      this.onPressure(false)
    }
    return Promise.resolve({value: undefined, done: true})
  }

  [Symbol.asyncIterator](): this { return this }
}
