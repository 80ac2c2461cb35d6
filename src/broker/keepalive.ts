// How long a connection may stay silent: the CONNECT timeout until CONNECT arrives, then 1.5 times the
// client's keepalive [MQTT-3.1.2-24]. The broker's one Watchdog timer asks each connection for its
// deadline; the connection only reports progress (seen) and what its client announced.
import type {Timers} from './timers.js'
import type {Watchdog, Watched} from './watchdog.js'

/** What a connection's keepalive reads from its broker. */
export interface KeepaliveHost {
  readonly watchdog: Watchdog
  readonly options: {readonly timers: Timers}
}

/**
 * The keepalive clock of a connection, as the base class of `Connection` (through ConnectionOutput):
 * its three numbers are fields of the connection itself, not an object of their own per connection.
 */
export abstract class Keepalive implements Watched {
  abstract readonly broker: KeepaliveHost
  /** Called once: `keepalive` true for a missed keepalive, false for a CONNECT that never came. */
  abstract silent(keepalive: boolean): void

  // silence is measured from `since` and may last limitMs (0: no limit): from the accept until the
  // keepalive starts (the CONNECT timeout: progress does not move it), then from the last progress
  private since = 0
  private limitMs = 0
  private keepaliveOn = false

  /** Starts the CONNECT timeout (the subclass calls it once its broker is set). */
  protected watchConnect(connectTimeoutMs: number): void {
    this.since = this.broker.options.timers.now()
    this.limitMs = connectTimeoutMs
    this.broker.watchdog.watch(this)
  }

  /** The client made progress at `now` (see Connection.onData for what counts); the CONNECT timeout ignores it. */
  protected seen(now: number): void {
    if (this.keepaliveOn) this.since = now
  }

  /**
   * CONNECT arrived and waits for the broker's own verdict (an async authenticate hook): the client has
   * done its part, so the connect timeout no longer applies. Under a connection storm the wait for a
   * password verification can be longer than the timeout.
   */
  connectReceived(): void {
    this.limitMs = 0
    this.broker.watchdog.unwatch(this)
  }

  /** Closes the connection after 1.5 times the keepalive of silence [MQTT-3.1.2-24]; 0 turns this off. */
  startKeepalive(seconds: number): void {
    this.keepaliveOn = true
    this.limitMs = seconds * 1500
    this.since = this.broker.options.timers.now()
    if (seconds === 0) this.broker.watchdog.unwatch(this)
    else this.broker.watchdog.watch(this)
  }

  /** The connection is closing: no deadline any more. */
  protected stopKeepalive(): void {
    this.broker.watchdog.unwatch(this)
  }

  // --- Watched (the broker's watchdog) ------------------------------------------------------------

  deadline(): number {
    if (this.limitMs === 0) return Infinity
    return this.since + this.limitMs
  }

  expired(): void {
    this.silent(this.keepaliveOn)
  }
}
