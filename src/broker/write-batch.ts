/** Something whose writes are held until the batch is flushed. */
export interface Corked {
  uncork(): void
}

/**
 * Flushes every corked connection once per event-loop iteration, after all the I/O callbacks of the
 * iteration (setImmediate). A subscriber that hears from ten publishers in one iteration gets one
 * write, not ten (process.nextTick would flush after each publisher's callback).
 */
export class WriteBatch {
  private corked: Corked[] = []
  private scheduled = false

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
}
