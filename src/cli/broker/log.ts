import type {Logger} from 'pino'
import {LogThrottle, engineOf, realTimers, remoteHost} from '../../broker/internal.js'
import type {AuthDenial, Broker, Timers} from '../../index.js'
import {reasonName} from '../../codec/index.js'

/** How often aggregated lines are written: one per client or address per interval, at most. */
export const LOG_INTERVAL_MS = 10_000

export interface BrokerLogOptions {
  timers?: Timers
  intervalMs?: number
}

/**
 * The engine emits events; the CLI logs them. Every line a client can cause at will (a dropped
 * message, a connect or disconnect, a refused login or TLS handshake, a denied publish) goes through
 * a LogThrottle: per interval at most one line per client for dropped messages, ten per address for
 * connections and refusals, and a cap over all clients; the rest are counted and summed up in one
 * line per client at the end of the interval. What is left out is counted in the broker's metrics
 * (/metrics midge_log_lines_suppressed_total, $SYS/broker/log/suppressed).
 */
export class BrokerLog {
  private readonly throttles: LogThrottle[] = []
  private readonly drops: LogThrottle
  private readonly connects: LogThrottle
  private readonly disconnects: LogThrottle
  private readonly refusals: LogThrottle
  private readonly handshakes: LogThrottle
  private readonly denials: LogThrottle
  private broker: Broker | undefined

  constructor(private readonly log: Logger, options: BrokerLogOptions = {}) {
    const timers = options.timers ?? realTimers
    const intervalMs = options.intervalMs ?? LOG_INTERVAL_MS
    const make = (event: string, level: 'debug' | 'info' | 'warn', message: string, perKey: number, global: number): LogThrottle => {
      const t = new LogThrottle(log, level, message, {intervalMs, perKey, global, timers, suppressed: (n) => this.suppressed(event, n)})
      this.throttles.push(t)
      return t
    }
    this.drops = make('messageDropped', 'warn', 'message dropped', 1, 20)
    this.connects = make('clientConnected', 'info', 'client connected', 10, 100)
    this.disconnects = make('clientDisconnected', 'info', 'client disconnected', 10, 100)
    this.refusals = make('connectionRefused', 'warn', 'connection refused', 10, 100)
    this.handshakes = make('listenerError', 'info', 'connection refused before CONNECT', 10, 100)
    this.denials = make('denied', 'debug', 'denied', 10, 100)
  }

  /** For the password file's hooks (createFileAuth onDenied). */
  readonly denial = (d: AuthDenial): void => {
    const fields = {clientId: d.clientId, username: d.username, address: d.remoteAddress, topic: d.topic, reason: d.reason}
    if (d.action === 'connect') this.refusals.event(remoteHost(d.remoteAddress) || d.clientId, d.reason, fields)
    else if (this.log.isLevelEnabled('debug')) this.denials.event(d.clientId, d.action, {...fields, action: d.action})
  }

  /** Logs the broker's events from now on. */
  attach(broker: Broker): void {
    this.broker = broker
    const {log} = this
    // listening only at the levels logged: the engine builds no event nobody hears
    if (!log.isLevelEnabled('warn')) return
    broker.events.on('messageDropped', (e) => this.drops.event(e.clientId, e.reason, {clientId: e.clientId, topic: e.topic, reason: e.reason}))
    if (!log.isLevelEnabled('info')) return
    broker.events.on('listenerError', (e) =>
      this.handshakes.event(remoteHost(e.remoteAddress), e.error, {listener: e.url, address: e.remoteAddress, error: e.error}))
    broker.events.on('clientConnected', (e) =>
      this.connects.event(remoteHost(e.remoteAddress) || e.clientId, 'connected', {clientId: e.clientId, address: e.remoteAddress, username: e.username,
        protocol: e.protocolVersion, sessionPresent: e.sessionPresent, keepalive: e.keepalive}))
    broker.events.on('clientDisconnected', (e) =>
      this.disconnects.event(remoteHost(e.remoteAddress) || e.clientId, e.reason, {clientId: e.clientId, address: e.remoteAddress, reason: e.reason}))
    if (!log.isLevelEnabled('debug')) return
    broker.events.on('subscribe', (e) =>
      log.debug({clientId: e.clientId, subscriptions: e.subscriptions.map((s) => `${s.filter} (${s.code < 0x80 ? `qos ${s.code}` : reasonName(s.code)})`)}, 'subscribe'))
    broker.events.on('unsubscribe', (e) => log.debug({clientId: e.clientId, filters: e.filters}, 'unsubscribe'))
  }

  /** Writes what is still counted and stops the timers. */
  close(): void {
    for (const t of this.throttles) t.close()
  }

  private suppressed(event: string, n: number): void {
    const m = this.broker === undefined ? undefined : engineOf(this.broker).metrics.logSuppressed
    if (m !== undefined) m[event] = (m[event] ?? 0) + n
  }
}
