import type {Logger} from './logger.js'
import type {Timers} from './timers.js'

type Level = 'debug' | 'info' | 'warn'

export interface ThrottleOptions {
  /** The length of one interval, in ms. */
  intervalMs: number
  /** Lines per key (a client, an address) per interval before its events are only counted. */
  perKey: number
  /** Lines of this kind per interval, every key together, before the rest are only counted. */
  global: number
  timers: Timers
  /** Told how many lines were left out (for /metrics and $SYS). */
  suppressed?: (n: number) => void
}

interface KeyState {
  lines: number
  /** Events counted and not logged, by detail (a drop reason, an outcome). */
  counts: Map<string, number>
  last: Record<string, unknown>
}

/**
 * Bounds the log lines one kind of client-triggered event can make: per key (the client or address
 * that caused it) at most `perKey` lines per interval, every key together at most `global`; past that
 * the events are counted, and at the end of the interval each key with counted events gets one line
 * with its counts (within the global cap; the keys past it share one last line). A client that floods
 * (a non-reading subscriber dropping thousands of messages a second, a reconnect loop, a password
 * guesser) then costs a bounded number of lines per interval however fast it goes.
 */
export class LogThrottle {
  private readonly keys = new Map<string, KeyState>()
  private lines = 0
  private timer: unknown

  constructor(private readonly log: Logger, private readonly level: Level, private readonly message: string, private readonly options: ThrottleOptions) {}

  /** One event: logged now if within both limits, else counted under `detail`. */
  event(key: string, detail: string, fields: Record<string, unknown>): void {
    let state = this.keys.get(key)
    if (state === undefined) {
      state = {lines: 0, counts: new Map(), last: fields}
      this.keys.set(key, state)
      this.arm()
    }
    if (state.lines < this.options.perKey && this.lines < this.options.global) {
      state.lines++
      this.lines++
      this.log[this.level](fields, this.message)
      return
    }
    state.counts.set(detail, (state.counts.get(detail) ?? 0) + 1)
    state.last = fields
  }

  /** Ends the interval: one line per key with counted events (within the global cap), then a fresh interval. */
  flush(): void {
    this.timer = undefined
    this.lines = 0
    let otherKeys = 0
    let otherEvents = 0
    for (const [key, state] of this.keys) {
      if (state.counts.size === 0) {
        this.keys.delete(key)
        continue
      }
      const counts = Object.fromEntries(state.counts)
      let n = 0
      for (const c of state.counts.values()) n += c
      this.options.suppressed?.(n)
      if (this.lines < this.options.global) {
        this.lines++
        this.log[this.level]({...state.last, counts, intervalMs: this.options.intervalMs}, `${this.message}: ${n} more (counted, not logged one by one)`)
      } else {
        otherKeys++
        otherEvents += n
      }
      // the key stays throttled for the next interval: a flood goes on making one line an interval
      state.lines = 1
      state.counts = new Map()
    }
    if (otherKeys > 0) {
      this.log[this.level]({keys: otherKeys, events: otherEvents, intervalMs: this.options.intervalMs},
        `${this.message}: ${otherEvents} more from ${otherKeys} other clients or addresses`)
    }
    if (this.keys.size > 0) this.arm()
  }

  /** Stops the timer, logging what is still counted. */
  close(): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer)
    this.flush()
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer)
    this.timer = undefined
    this.keys.clear()
  }

  private arm(): void {
    if (this.timer === undefined) this.timer = this.options.timers.setTimeout(() => this.flush(), this.options.intervalMs)
  }
}
