import {messageBytes, type Message} from './message.js'
import type {Metrics} from './metrics.js'
import type {RetainedMessages} from './retained.js'
import type {Session} from './session.js'
import type {Timers} from './timers.js'

export interface SysOptions {
  /** Seconds between updates (Mosquitto's sys_interval; 0 publishes nothing). */
  interval: number
  /** The broker's version, published once as `$SYS/broker/version` ("midge version 0.1.0"). */
  version: string
  timers: Timers
}

/** The load averages Mosquitto keeps, each over 1, 5 and 15 minutes: events per minute. */
const LOADS = [
  ['messages/received', (b: SysSource) => b.metrics.packetsReceived],
  ['messages/sent', (b: SysSource) => b.metrics.packetsSent],
  ['publish/received', (b: SysSource) => b.metrics.messagesReceived],
  ['publish/sent', (b: SysSource) => b.metrics.messagesSent],
  ['publish/dropped', (b: SysSource) => publishDropped(b)],
  ['bytes/received', (b: SysSource) => b.metrics.bytesReceived],
  ['bytes/sent', (b: SysSource) => b.metrics.bytesSent],
  ['sockets', (b: SysSource) => b.metrics.socketsOpened],
  ['connections', (b: SysSource) => b.metrics.clientsTotal],
] as const

const WINDOWS = [['1min', 60], ['5min', 300], ['15min', 900]] as const

/**
 * The `$SYS/broker/...` tree with Mosquitto's topic names, formats and meanings (sys_tree.c),
 * published as retained QoS 0 messages through the broker's normal publish path, so the ACL decides
 * who reads them. `version` goes out once; `uptime` and the load averages every interval; every other
 * value when it changes (all of them on the first update).
 */
/** What the $SYS tree reads and where it publishes (Broker implements it). */
export interface SysSource {
  readonly metrics: Metrics
  readonly connectionCount: number
  readonly sessions: ReadonlyMap<string, Session>
  readonly retained: RetainedMessages
  publish(message: Message): number
}
export class SysTopics {
  private readonly startedAt: number
  private readonly last = new Map<string, string>()
  private readonly previous = new Map<string, number>()
  private readonly loads = new Map<string, number>()
  private lastUpdate: number | undefined
  private clientsMaximum = 0
  private heapMaximum = 0
  private timer: unknown
  private running = false

  constructor(private readonly broker: SysSource, private readonly options: SysOptions) {
    this.startedAt = options.timers.now()
  }

  /** Publishes the version and a first update now, then an update every interval. */
  start(): void {
    if (this.running || this.options.interval <= 0) return
    this.running = true
    this.put('$SYS/broker/version', `midge version ${this.options.version}`)
    this.update()
    this.schedule()
  }

  stop(): void {
    this.running = false
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(): void {
    this.timer = this.options.timers.setTimeout(() => {
      if (!this.running) return
      this.update()
      this.schedule()
    }, this.options.interval * 1000)
  }

  /** One update of every topic. */
  update(): void {
    const {broker} = this
    const m = broker.metrics
    const now = this.options.timers.now()
    this.publish('$SYS/broker/uptime', `${Math.floor((now - this.startedAt) / 1000)} seconds`)

    // clients: total = every session (connected or not); maximum = the largest total seen
    const connected = broker.connectionCount
    const total = Math.max(broker.sessions.size, connected)
    if (total > this.clientsMaximum) this.clientsMaximum = total
    this.put('$SYS/broker/clients/total', total)
    this.put('$SYS/broker/clients/maximum', this.clientsMaximum)
    this.put('$SYS/broker/clients/connected', connected)
    this.put('$SYS/broker/clients/active', connected) // deprecated alias
    this.put('$SYS/broker/clients/disconnected', total - connected)
    this.put('$SYS/broker/clients/inactive', total - connected) // deprecated alias
    this.put('$SYS/broker/clients/expired', m.clientsExpired)

    this.put('$SYS/broker/messages/received', m.packetsReceived)
    this.put('$SYS/broker/messages/sent', m.packetsSent)
    this.put('$SYS/broker/publish/messages/received', m.messagesReceived)
    this.put('$SYS/broker/publish/messages/sent', m.messagesSent)
    this.put('$SYS/broker/publish/messages/dropped', publishDropped(broker))
    // midge's own: the same by reason (queue-full, slow-reader, expired, too-large, ...)
    for (const reason in m.dropped) if (reason !== 'offline-qos0') this.put(`$SYS/broker/publish/messages/dropped/${reason}`, m.dropped[reason] ?? 0)
    this.put('$SYS/broker/log/suppressed', m.logSuppressedTotal)
    this.put('$SYS/broker/publish/bytes/received', m.publishBytesReceived)
    this.put('$SYS/broker/publish/bytes/sent', m.publishBytesSent)
    this.put('$SYS/broker/bytes/received', m.bytesReceived)
    this.put('$SYS/broker/bytes/sent', m.bytesSent)

    const store = storeCounts(broker)
    this.put('$SYS/broker/messages/stored', store.count) // deprecated alias
    this.put('$SYS/broker/store/messages/count', store.count)
    this.put('$SYS/broker/store/messages/bytes', store.bytes)
    this.put('$SYS/broker/messages/inflight', store.inflight)
    this.put('$SYS/broker/retained messages/count', broker.retained.size)
    this.put('$SYS/broker/subscriptions/count', store.subscriptions)
    this.put('$SYS/broker/shared_subscriptions/count', store.sharedSubscriptions)

    const heap = process.memoryUsage().heapUsed
    if (heap > this.heapMaximum) this.heapMaximum = heap
    this.put('$SYS/broker/heap/current', heap)
    this.put('$SYS/broker/heap/maximum', this.heapMaximum)

    this.updateLoads(now)
  }

  /**
   * Mosquitto's load averages: the rate over the last interval, in events per minute, folded into an
   * exponentially weighted average per window; published first, then when it moves by 0.01 or more.
   */
  private updateLoads(now: number): void {
    const initial = this.lastUpdate === undefined
    const seconds = initial ? 0 : (now - this.lastUpdate!) / 1000
    this.lastUpdate = now
    for (const [name, read] of LOADS) {
      const value = read(this.broker)
      const before = this.previous.get(name) ?? value
      this.previous.set(name, value)
      const perMinute = seconds > 0 ? (value - before) * 60 / seconds : 0
      for (const [window, span] of WINDOWS) {
        const topic = `$SYS/broker/load/${name}/${window}`
        const current = this.loads.get(topic) ?? 0
        const next = perMinute + Math.exp(-seconds / span) * (current - perMinute)
        this.loads.set(topic, next)
        if (initial || Math.abs(next - current) >= 0.01) this.publish(topic, next.toFixed(2))
      }
    }
  }

  /** Publishes a value if it differs from the last one published on that topic. */
  private put(topic: string, value: number | string): void {
    const text = String(value)
    if (this.last.get(topic) === text) return
    this.publish(topic, text)
  }

  private publish(topic: string, text: string): void {
    this.last.set(topic, text)
    this.broker.publish({topic, payload: Buffer.from(text), qos: 0, retain: true})
  }
}

/** Messages that were meant for a client and never reached it (QoS 0 for offline clients never counts, as in Mosquitto). */
function publishDropped(broker: SysSource): number {
  return broker.metrics.droppedTotal - (broker.metrics.dropped['offline-qos0'] ?? 0)
}

/** Messages held by the broker: retained, queued and in flight, with their payload and topic bytes. */
function storeCounts(broker: SysSource): {count: number; bytes: number; inflight: number; subscriptions: number; sharedSubscriptions: number} {
  let count = 0
  let bytes = 0
  let inflight = 0
  let subscriptions = 0
  let sharedSubscriptions = 0
  for (const msg of broker.retained.entries()) {
    count++
    bytes += messageBytes(msg)
  }
  for (const session of broker.sessions.values()) {
    count += session.queued + session.inflight.size
    bytes += session.queuedBytes
    inflight += session.inflight.size
    for (const entry of session.inflight.values()) bytes += messageBytes(entry.delivery.message)
    for (const filter of session.subscriptions.keys()) {
      if (filter.startsWith('$share/')) sharedSubscriptions++
      else subscriptions++
    }
  }
  return {count, bytes, inflight, subscriptions, sharedSubscriptions}
}
