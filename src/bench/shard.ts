// One shard of the load: some of the run's clients, driven in one thread (a worker, or the caller's
// thread with --workers 0). The runner sends it commands (connect a role, start, stop, report, close)
// and reads its live counters from the shared stats slot. This file connects the clients, routes their
// packets to the publishing loop and the receiver, and closes them; the counts are in ShardCounters.
import {setMaxListeners} from 'node:events'
import {reasonName} from '../codec/index.js'
import {clockFor, type Clock} from './clock.js'
import {BenchConnection, BenchError, ControlDecoder} from './connection.js'
import {PublishLoop} from './publish-loop.js'
import {Publisher} from './publisher.js'
import {Receiver, Subscriber} from './receiver.js'
import {ShardCounters} from './shard-counters.js'
import type {ClientPlan, ConnectOutcome, Role, ShardCommand, ShardPlan} from './shard-protocol.js'
import {Stat} from './stats.js'

export class Shard {
  private readonly clock: Clock
  private readonly counters: ShardCounters
  private readonly loop: PublishLoop
  private readonly receiver: Receiver
  private readonly control = new ControlDecoder()
  private readonly publishers: Publisher[] = []
  private readonly subscribers: Subscriber[] = []
  private readonly idle: BenchConnection[] = []
  private readonly connections = new Set<BenchConnection>()
  private readonly abortConnect = new AbortController()
  private keepaliveTimer: NodeJS.Timeout | undefined

  constructor(private readonly plan: ShardPlan) {
    this.clock = clockFor(plan.clock)
    this.counters = new ShardCounters(plan)
    const version = plan.client.protocolVersion ?? 5
    for (const c of plan.clients) {
      if (c.role === 'pub') this.publishers.push(new Publisher(c, plan.qos, plan.retain, plan.payloadSize, version, plan.inflight, plan.payload))
      else if (c.role === 'sub') this.subscribers.push(new Subscriber(c))
    }
    this.counters.set(Stat.Publishers, this.publishers.length)
    this.loop = new PublishLoop(plan, this.publishers, this.counters, this.clock)
    this.receiver = new Receiver(this.counters, this.clock, plan.latencyBy, this.loop.deliveriesArrived)
    setMaxListeners(0, this.abortConnect.signal) // one listener per connection in progress
    if (plan.keepalive > 0) {
      this.keepaliveTimer = setInterval(() => { for (const c of this.connections) c.ping() }, plan.keepalive * 500)
      this.keepaliveTimer.unref()
    }
  }

  async handle(command: ShardCommand): Promise<unknown> {
    switch (command.cmd) {
      case 'connect': return this.connectRole(command.role, command.startAt)
      case 'start':
        this.counters.windowStart = command.args.windowStart
        this.counters.windowEnd = command.args.windowEnd
        return this.loop.start(command.args)
      case 'stop': return this.loop.stop()
      case 'report': return this.counters.report(this.publishers, this.subscribers)
      case 'interval': return this.counters.takeInterval()
      case 'close': return this.close()
      case 'abort':
        this.abortConnect.abort()
        this.loop.stop()
        return undefined
    }
  }

  private async connectRole(role: Role, startAt: number): Promise<ConnectOutcome> {
    const plans = this.plan.clients.filter((c) => c.role === role)
    const subscribed: number[] = []
    const {concurrency, connectIntervalUs, shard, shards} = this.plan
    let next = 0
    const worker = async () => {
      while (next < plans.length && !this.abortConnect.signal.aborted) {
        const j = next++
        if (connectIntervalUs > 0) {
          const at = startAt + (j * shards + shard) * connectIntervalUs
          const wait = (at - this.clock()) / 1000
          if (wait > 1) await new Promise((r) => setTimeout(r, wait))
          if (this.abortConnect.signal.aborted) return
        }
        const ok = await this.connectOne(plans[j])
        if (ok && role === 'sub') subscribed.push(plans[j].index)
      }
    }
    await Promise.all(Array.from({length: Math.min(concurrency, plans.length)}, worker))
    subscribed.sort((a, b) => a - b)
    return {attempted: this.counters.attempted, connected: this.counters.connected, subscribed}
  }

  private async connectOne(c: ClientPlan): Promise<boolean> {
    const counters = this.counters
    const start = this.clock()
    if (counters.firstAttempt === 0) counters.firstAttempt = start
    counters.attempted++
    counters.set(Stat.Attempted, counters.attempted)
    let conn: BenchConnection
    try {
      conn = await BenchConnection.open({...this.plan.client, clientId: c.clientId}, this.plan.connectTimeoutMs, this.control, this.abortConnect.signal)
    } catch (error) {
      counters.connectFailed(error)
      return false
    }
    const now = this.clock()
    counters.hist.connect.record(now - start)
    counters.lastConnack = Math.max(counters.lastConnack, now)
    if (this.abortConnect.signal.aborted && !this.loop.isRunning) {
      conn.destroy()
      return false
    }
    this.connections.add(conn)
    counters.connected++
    counters.set(Stat.Connected, counters.connected)
    if (c.role === 'sub') return this.subscribe(c, conn)
    if (c.role === 'pub') {
      const p = this.publishers.find((x) => x.plan === c)!
      p.ready(conn)
      conn.handlers = {onPublish() {}, onChunk: () => {}, onAck: (id, code) => this.loop.onAck(p, id, code), onLost: (r) => this.onLost(conn, r, p)}
      conn.stream.on('drain', this.loop.schedule)
    } else {
      this.idle.push(conn)
      conn.handlers = {onPublish() {}, onAck() {}, onChunk() {}, onLost: (r) => this.onLost(conn, r)}
    }
    return true
  }

  private async subscribe(c: ClientPlan, conn: BenchConnection): Promise<boolean> {
    const s = this.subscribers.find((x) => x.plan === c)!
    s.conn = conn
    conn.handlers = {
      onPublish: (buf, start, end) => this.receiver.receive(s, buf, start, end),
      onChunk: this.receiver.chunkDone,
      onAck() {},
      onLost: (r) => this.onLost(conn, r),
    }
    try {
      const granted = await conn.subscribe(c.filters!, this.plan.qos, this.plan.connectTimeoutMs)
      const refused = granted.find((g) => g >= 0x80)
      if (refused === undefined) return true
      this.counters.error(`SUBACK: ${reasonName(refused)} (0x${refused.toString(16)})`)
    } catch (error) {
      this.counters.error(error instanceof BenchError ? error.reason : `subscribe: ${(error as Error).message}`)
    }
    return false
  }

  private onLost(conn: BenchConnection, reason: string, publisher?: Publisher): void {
    this.connections.delete(conn)
    this.counters.connectionLost(reason)
    if (publisher) this.loop.publisherLost(publisher)
  }

  private async close(): Promise<void> {
    this.loop.stop()
    this.abortConnect.abort()
    clearInterval(this.keepaliveTimer)
    const all = [...this.connections]
    this.connections.clear()
    await Promise.all(all.map((c) => c.close(this.plan.reset)))
  }
}
