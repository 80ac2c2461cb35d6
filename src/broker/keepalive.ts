// How long a connection may stay silent: the CONNECT timeout until CONNECT arrives, then 1.5 times the
// client's keepalive [MQTT-3.1.2-24]. The broker's one Watchdog timer asks each connection's Keepalive
// for its deadline; the connection only reports progress (seen) and what its client announced.
import type {Timers} from './timers.js'
import type {Watchdog, Watched} from './watchdog.js'

/** The connection a Keepalive closes when its silence lasts too long. */
export interface Silent {
  /** Called once: `keepalive` true for a missed keepalive, false for a CONNECT that never came. */
  silent(keepalive: boolean): void
}

export class Keepalive implements Watched {
  // silence is measured from acceptedAt (CONNECT timeout) or from lastSeen (keepalive) and may last
  // limitMs (0: no limit)
  private readonly acceptedAt: number
  private lastSeen: number
  private limitMs: number
  private on = false

  constructor(private readonly owner: Silent, private readonly watchdog: Watchdog, private readonly timers: Timers, connectTimeoutMs: number) {
    this.acceptedAt = this.lastSeen = timers.now()
    this.limitMs = connectTimeoutMs
    watchdog.watch(this)
  }

  /** The client made progress at `now` (see Connection.onData for what counts). */
  seen(now: number): void {
    this.lastSeen = now
  }

  /**
   * CONNECT arrived and waits for the broker's own verdict (an async authenticate hook): the client has
   * done its part, so the connect timeout no longer applies. Under a connection storm the wait for a
   * password verification can be longer than the timeout.
   */
  connectReceived(): void {
    this.limitMs = 0
    this.watchdog.unwatch(this)
  }

  /** Closes the connection after 1.5 times the keepalive of silence [MQTT-3.1.2-24]; 0 turns this off. */
  start(seconds: number): void {
    this.on = true
    this.limitMs = seconds * 1500
    this.lastSeen = this.timers.now()
    if (seconds === 0) this.watchdog.unwatch(this)
    else this.watchdog.watch(this)
  }

  /** The connection is closing: no deadline any more. */
  stop(): void {
    this.watchdog.unwatch(this)
  }

  // --- Watched (the broker's watchdog) ------------------------------------------------------------

  deadline(): number {
    if (this.limitMs === 0) return Infinity
    return (this.on ? this.lastSeen : this.acceptedAt) + this.limitMs
  }

  expired(): void {
    this.owner.silent(this.on)
  }
}
