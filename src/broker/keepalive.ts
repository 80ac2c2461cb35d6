import type {Timers} from './timers.js'

/**
 * Server-side keepalive: the connection is closed when nothing arrives for 1.5 times the keepalive
 * [MQTT-3.1.2-24]. Activity only records a timestamp; the single timer re-arms itself for the rest.
 */
export class Keepalive {
  private timer: unknown
  private lastSeen = 0
  private limitMs = 0

  constructor(private readonly timers: Timers, private readonly onTimeout: () => void) {}

  start(keepaliveSeconds: number): void {
    this.stop()
    if (keepaliveSeconds === 0) return // 0 turns the mechanism off
    this.limitMs = keepaliveSeconds * 1500
    this.lastSeen = this.timers.now()
    this.arm(this.limitMs)
  }

  touch(): void { this.lastSeen = this.timers.now() }

  stop(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(ms: number): void {
    this.timer = this.timers.setTimeout(() => {
      const idle = this.timers.now() - this.lastSeen
      if (idle >= this.limitMs) {
        this.timer = undefined
        this.onTimeout()
      } else {
        this.arm(this.limitMs - idle)
      }
    }, ms)
  }
}
