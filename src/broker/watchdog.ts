import type {Timers} from './timers.js'

/** Something that must be closed once it has been silent too long. */
export interface Watched {
  /** When it is due (timers.now() clock, ms); Infinity: not any more. Only ever moves later. */
  deadline(): number
  /** Called once the deadline has passed; it is no longer watched. */
  expired(): void
}

/**
 * One timer for every connection's CONNECT timeout and keepalive [MQTT-3.1.2-24], instead of a timer
 * (and a closure) per connection: an idle connection then costs two numbers, and activity only
 * records a timestamp. The timer is armed for the earliest deadline known; when it fires, every
 * watched connection is checked (deadlines only move later, so none is missed) and the timer is
 * re-armed for the earliest remaining one. Idle clients that ping in time make it fire about once
 * per half keepalive interval.
 */
export class Watchdog {
  private readonly watched = new Set<Watched>()
  private timer: unknown
  private timerAt = Infinity

  constructor(private readonly timers: Timers) {}

  get size(): number { return this.watched.size }

  /** Watches w (again: after its deadline moved earlier, as when a keepalive starts). */
  watch(w: Watched): void {
    this.watched.add(w)
    this.arm(w.deadline())
  }

  unwatch(w: Watched): void {
    this.watched.delete(w)
    if (this.watched.size === 0) this.disarm()
  }

  /** Stops the timer (the broker is closing). */
  stop(): void {
    this.watched.clear()
    this.disarm()
  }

  private arm(at: number): void {
    if (at >= this.timerAt || at === Infinity) return
    this.disarm()
    this.timerAt = at
    this.timer = this.timers.setTimeout(this.sweep, Math.max(0, at - this.timers.now()))
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
  }

  private readonly sweep = (): void => {
    this.timer = undefined
    this.timerAt = Infinity
    const now = this.timers.now()
    let next = Infinity
    for (const w of this.watched) {
      const at = w.deadline()
      if (at <= now) {
        this.watched.delete(w)
        w.expired()
      } else if (at < next) {
        next = at
      }
    }
    this.arm(next)
  }
}
