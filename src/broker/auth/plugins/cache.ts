/**
 * A map whose entries expire `ttlMs` after they were set, holding at most `maxEntries` (the oldest
 * go first). For plugin results: a login or ACL answer from a remote service, reused for a while.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, {value: V; expires: number}>()
  /** Lookups answered from the cache, and those that were not. */
  hits = 0
  misses = 0

  constructor(readonly ttlMs: number, readonly maxEntries = 10_000, private readonly now: () => number = Date.now) {
    if (!(ttlMs >= 0)) throw new RangeError('the cache TTL must be 0 or more')
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('the cache size must be a positive integer')
  }

  get size(): number {
    return this.entries.size
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined || entry.expires <= this.now()) {
      if (entry !== undefined) this.entries.delete(key)
      this.misses++
      return undefined
    }
    this.hits++
    return entry.value
  }

  set(key: string, value: V): void {
    if (this.ttlMs === 0) return
    this.entries.delete(key) // re-inserted at the end: the oldest entry is always first
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, {value, expires: this.now() + this.ttlMs})
  }

  clear(): void {
    this.entries.clear()
  }
}
