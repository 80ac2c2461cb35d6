// One shard of the load: some of the run's clients, driven in one thread (a worker, or the caller's
// thread with --workers 0). The runner sends it commands (connect a role, start, stop, report, close)
// and reads its live counters from the shared stats slot.
import {setMaxListeners} from 'node:events'
import {encodePublish, reasonName, type QoS} from '../codec/index.js'
import type {ClientOptions} from '../client/index.js'
import {BenchConnection, BenchError, ControlDecoder} from './connection.js'
import {clockFor, type Clock, type ClockName} from './clock.js'
import {LatencyHistogram} from './histogram.js'
import {HEADER_SIZE, MAGIC, payloadTemplate, SEQ_OFFSET, STREAM_OFFSET, TIME_OFFSET} from './payload.js'
import {SharedStats, SLOT, Stat} from './stats.js'
import {Arrival, SequenceTracker} from './tracker.js'

export type Role = 'pub' | 'sub' | 'idle'

export interface ClientPlan {
  role: Role
  /** Index within its role (the `%i` of its templates, before --start-number). */
  index: number
  clientId: string
  /** Publishers: the topic. */
  topic?: string
  /** Subscribers: the filters. */
  filters?: string[]
  /** Publishers: messages to send (0 = no limit). */
  limit?: number
  /** Publishers: the bench header's stream id. */
  stream?: number
}

export interface ShardPlan {
  shard: number
  shards: number
  client: ClientOptions
  connectTimeoutMs: number
  clients: ClientPlan[]
  qos: QoS
  retain: boolean
  payloadSize: number
  /** QoS 1/2 publishes in flight per publisher (the broker's Receive Maximum caps it). */
  inflight: number
  /** Open loop: microseconds between two messages of one publisher; 0 = as fast as the broker takes. */
  intervalUs: number
  /** Connections in progress at once, in this shard. */
  concurrency: number
  /** Microseconds between two connection attempts of the whole run (0 = no pacing). */
  connectIntervalUs: number
  /** Closed loop: pause while more deliveries than this are sent but not yet received (0 = no limit). */
  maxOutstanding: number
  clock: ClockName
  /** Record end-to-end latency for messages sent (or, `bench sub`, received) inside the window. */
  latencyBy: 'send' | 'receive'
  /** Close connections with a TCP reset instead of DISCONNECT (10k-connection runs: no TIME_WAIT). */
  reset: boolean
  keepalive: number
  stats: SharedArrayBuffer
  statSlots: number
}

export interface StartArgs {
  t0: number
  windowStart: number
  windowEnd: number
  /** Per publisher of this shard (in plan order): how many subscribers get each of its messages. */
  fanout: number[]
}

export interface ConnectOutcome {
  attempted: number
  connected: number
  /** Plan indexes (within the role) of subscribers whose every filter was granted. */
  subscribed: number[]
}

export interface ShardReport {
  sent: number
  acked: number
  refused: number
  unacked: number
  expected: number
  received: number
  duplicates: number
  reordered: number
  untracked: number
  gaps: number
  unique: number
  attempted: number
  connected: number
  failed: number
  lost: number
  failures: Record<string, number>
  connackCodes: Record<string, number>
  errors: Record<string, number>
  firstAttempt: number
  lastConnack: number
  histograms: Record<'endToEnd' | 'publishToAck' | 'connect' | 'sendLag' | 'warmupEndToEnd' | 'warmupPublishToAck', {data: string; negative: number}>
}

export type ShardCommand =
  | {cmd: 'connect'; role: Role; startAt: number}
  | {cmd: 'start'; args: StartArgs}
  | {cmd: 'stop'}
  | {cmd: 'report'}
  | {cmd: 'close'}
  | {cmd: 'abort'}

/** Largest write per publisher per turn, and the socket backlog at which a publisher waits. */
const BOUND = 64 * 1024
/** Open loop: how much may queue in the socket before due messages wait (they keep their intended time). */
const OPEN_LOOP_BOUND = 1024 * 1024
const TICK_US = 1000

class Publisher {
  conn!: BenchConnection
  readonly block: Buffer
  readonly packetLength: number
  readonly payloadOffset: number
  readonly idOffset: number
  readonly blockCount: number
  readonly tracked: boolean
  seq = 0
  fanout = 0
  inflight = 0
  window = 0
  freeIds: Uint16Array
  freeTop = 0
  sentAt: Float64Array
  closed = false
  done = false
  offsetUs = 0

  constructor(readonly plan: ClientPlan, qos: QoS, retain: boolean, payloadSize: number, version: 3 | 4 | 5, inflight: number) {
    const payload = payloadTemplate(payloadSize)
    this.tracked = payloadSize >= HEADER_SIZE
    if (this.tracked) payload.writeUInt32LE(plan.stream ?? 0, STREAM_OFFSET)
    const {bytes, packetIdOffset} = encodePublish({topic: plan.topic!, payload, qos, retain}, version)
    this.packetLength = bytes.length
    this.payloadOffset = bytes.length - payloadSize
    this.idOffset = packetIdOffset
    this.blockCount = Math.max(1, Math.floor(BOUND / bytes.length))
    this.block = Buffer.allocUnsafe(this.blockCount * bytes.length)
    for (let k = 0; k < this.blockCount; k++) bytes.copy(this.block, k * bytes.length)
    this.window = qos > 0 ? inflight : 0
    this.freeIds = new Uint16Array(qos > 0 ? inflight : 0)
    this.sentAt = new Float64Array(qos > 0 ? inflight + 1 : 0)
  }

  /** After CONNACK: the window is ours and the broker's Receive Maximum, whichever is smaller. */
  ready(conn: BenchConnection): void {
    this.conn = conn
    if (this.window > 0) {
      this.window = Math.min(this.window, conn.receiveMaximum)
      this.freeTop = 0
      for (let id = this.window; id >= 1; id--) this.freeIds[this.freeTop++] = id
    }
  }

  get remaining(): number {
    const limit = this.plan.limit ?? 0
    return limit > 0 ? limit - this.seq : Number.POSITIVE_INFINITY
  }
}

class Subscriber {
  conn: BenchConnection | undefined
  readonly tracker = new SequenceTracker()
  constructor(readonly plan: ClientPlan) {}
}

export class Shard {
  private readonly clock: Clock
  private readonly stats: Float64Array
  private readonly shared: SharedStats
  private readonly base: number
  private readonly control = new ControlDecoder()
  private readonly publishers: Publisher[] = []
  private readonly subscribers: Subscriber[] = []
  private readonly idle: BenchConnection[] = []
  private readonly connections = new Set<BenchConnection>()
  private readonly abortConnect = new AbortController()

  private readonly hist = {endToEnd: new LatencyHistogram(), publishToAck: new LatencyHistogram(), connect: new LatencyHistogram(), sendLag: new LatencyHistogram()}
  /** Samples from the warm-up: reported instead when a run (-L) ends before its window starts. */
  private readonly warmupHist = {endToEnd: new LatencyHistogram(), publishToAck: new LatencyHistogram()}
  private readonly failures: Record<string, number> = {}
  private readonly connackCodes: Record<string, number> = {}
  private readonly errors: Record<string, number> = {}

  private sent = 0
  /** QoS 1/2 publishes of all publishers awaiting their ack. */
  private inflight = 0
  private acked = 0
  private refused = 0
  private received = 0
  private untracked = 0
  private expected = 0
  private attempted = 0
  private connected = 0
  private failed = 0
  private lost = 0
  private errorCount = 0
  private firstAttempt = 0
  private lastConnack = 0

  private running = false
  private t0 = 0
  private windowStart = 0
  private windowEnd = Number.POSITIVE_INFINITY
  private chunkNow = 0
  private pumpScheduled = false
  private waitingForWindow = false
  private ticker: NodeJS.Timeout | undefined
  private keepaliveTimer: NodeJS.Timeout | undefined
  private anyFanout = false

  constructor(private readonly plan: ShardPlan) {
    this.clock = clockFor(plan.clock)
    this.shared = new SharedStats(plan.stats, plan.statSlots)
    this.stats = this.shared.view
    this.base = plan.shard * SLOT
    const version = plan.client.protocolVersion ?? 5
    for (const c of plan.clients) {
      if (c.role === 'pub') this.publishers.push(new Publisher(c, plan.qos, plan.retain, plan.payloadSize, version, plan.inflight))
      else if (c.role === 'sub') this.subscribers.push(new Subscriber(c))
    }
    this.stats[this.base + Stat.Publishers] = this.publishers.length
    setMaxListeners(0, this.abortConnect.signal) // one listener per connection in progress
    if (plan.keepalive > 0) {
      this.keepaliveTimer = setInterval(() => { for (const c of this.connections) c.ping() }, plan.keepalive * 500)
      this.keepaliveTimer.unref()
    }
  }

  async handle(command: ShardCommand): Promise<unknown> {
    switch (command.cmd) {
      case 'connect': return this.connectRole(command.role, command.startAt)
      case 'start': return this.start(command.args)
      case 'stop': return this.stop()
      case 'report': return this.report()
      case 'close': return this.close()
      case 'abort':
        this.abortConnect.abort()
        this.stop()
        return undefined
    }
  }

  // ---- connecting ----

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
    return {attempted: this.attempted, connected: this.connected, subscribed}
  }

  private async connectOne(c: ClientPlan): Promise<boolean> {
    const start = this.clock()
    if (this.firstAttempt === 0) this.firstAttempt = start
    this.attempted++
    this.stats[this.base + Stat.Attempted] = this.attempted
    let conn: BenchConnection
    try {
      conn = await BenchConnection.open({...this.plan.client, clientId: c.clientId}, this.plan.connectTimeoutMs, this.control, this.abortConnect.signal)
    } catch (error) {
      this.connectFailed(error)
      return false
    }
    const now = this.clock()
    this.hist.connect.record(now - start)
    this.lastConnack = Math.max(this.lastConnack, now)
    if (this.abortConnect.signal.aborted && !this.running) {
      conn.destroy()
      return false
    }
    this.connections.add(conn)
    this.connected++
    this.stats[this.base + Stat.Connected] = this.connected
    if (c.role === 'sub') return this.subscribe(c, conn)
    if (c.role === 'pub') {
      const p = this.publishers.find((x) => x.plan === c)!
      p.ready(conn)
      conn.handlers = {onPublish() {}, onChunk: () => {}, onAck: (id, code) => this.onAck(p, id, code), onLost: (r) => this.onLost(conn, r, p)}
      conn.stream.on('drain', this.schedule)
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
      onPublish: (buf, start, end) => this.receive(s, buf, start, end),
      onChunk: this.afterChunk,
      onAck() {},
      onLost: (r) => this.onLost(conn, r),
    }
    try {
      const granted = await conn.subscribe(c.filters!, this.plan.qos, this.plan.connectTimeoutMs)
      const refused = granted.find((g) => g >= 0x80)
      if (refused === undefined) return true
      this.error(`SUBACK: ${reasonName(refused)} (0x${refused.toString(16)})`)
    } catch (error) {
      this.error(error instanceof BenchError ? error.reason : `subscribe: ${(error as Error).message}`)
    }
    return false
  }

  private connectFailed(error: unknown): void {
    const reason = error instanceof BenchError ? error.reason : `connect: ${(error as Error).message}`
    if (reason === 'connect: aborted') return
    this.failed++
    this.failures[reason] = (this.failures[reason] ?? 0) + 1
    if (error instanceof BenchError && error.connackCode !== undefined) {
      this.connackCodes[error.connackCode] = (this.connackCodes[error.connackCode] ?? 0) + 1
    }
    this.stats[this.base + Stat.ConnectFailed] = this.failed
    this.error(reason)
  }

  private error(reason: string): void {
    this.errors[reason] = (this.errors[reason] ?? 0) + 1
    this.errorCount++
    this.stats[this.base + Stat.Errors] = this.errorCount
  }

  private onLost(conn: BenchConnection, reason: string, publisher?: Publisher): void {
    this.connections.delete(conn)
    this.lost++
    this.connected--
    this.failures[reason] = (this.failures[reason] ?? 0) + 1
    this.error(reason)
    this.stats[this.base + Stat.Lost] = this.lost
    this.stats[this.base + Stat.Connected] = this.connected
    if (publisher) {
      this.inflight -= publisher.inflight
      this.stats[this.base + Stat.Inflight] = this.inflight
      publisher.closed = true
      this.publisherFinished(publisher)
    }
  }

  // ---- publishing ----

  private start(args: StartArgs): void {
    this.t0 = args.t0
    this.windowStart = args.windowStart
    this.windowEnd = args.windowEnd
    this.publishers.forEach((p, k) => {
      p.fanout = args.fanout[k] ?? 0
      if (p.fanout > 0) this.anyFanout = true
    })
    this.running = true
    const interval = this.plan.intervalUs
    if (interval > 0) {
      // spread the publishers over one interval, so that they do not all send on the same tick
      const all = this.plan.shards * Math.max(1, this.publishers.length)
      this.publishers.forEach((p, k) => { p.offsetUs = ((k * this.plan.shards + this.plan.shard) / all) * interval })
      this.ticker = setInterval(this.tick, 1)
      this.tick()
    } else {
      this.schedule()
    }
  }

  private stop(): void {
    this.running = false
    clearInterval(this.ticker)
    this.ticker = undefined
  }

  private readonly schedule = () => {
    if (this.pumpScheduled || !this.running) return
    this.pumpScheduled = true
    setImmediate(this.pump)
  }

  /** Closed loop: every publisher writes as much as its socket, its QoS window and the outstanding window allow. */
  private readonly pump = () => {
    this.pumpScheduled = false
    if (!this.running || this.plan.intervalUs > 0) return
    let room = Number.POSITIVE_INFINITY
    if (this.plan.maxOutstanding > 0 && this.anyFanout) {
      room = this.plan.maxOutstanding - (this.shared.total(Stat.Expected) - this.shared.total(Stat.Received))
    }
    let progressed = false
    let blocked = false
    for (const p of this.publishers) {
      if (p.done || p.closed || !p.conn) continue
      let n = Math.min(p.blockCount, Math.floor((BOUND - p.conn.queued) / p.packetLength), p.remaining)
      if (p.window > 0) n = Math.min(n, p.window - p.inflight)
      if (p.fanout > 0 && room !== Number.POSITIVE_INFINITY) {
        const r = Math.floor(room / p.fanout)
        if (r <= 0) { blocked = true; continue }
        n = Math.min(n, r)
      }
      if (n <= 0) continue
      this.send(p, n, this.clock(), 0)
      room -= n * p.fanout
      progressed = true
    }
    this.flushStats()
    this.waitingForWindow = blocked && !progressed
    if (progressed) this.schedule()
    else if (blocked) setTimeout(this.schedule, 1)
  }

  /** Open loop: every publisher sends what its schedule says is due by now. */
  private readonly tick = () => {
    if (!this.running) return
    const now = this.clock()
    const interval = this.plan.intervalUs
    for (const p of this.publishers) {
      if (p.done || p.closed || !p.conn) continue
      const dueBy = Math.floor((now - this.t0 - p.offsetUs) / interval) + 1
      let n = Math.min(dueBy - p.seq, p.remaining, p.blockCount, Math.floor((OPEN_LOOP_BOUND - p.conn.queued) / p.packetLength))
      if (p.window > 0) n = Math.min(n, p.window - p.inflight)
      // a fresh time per publisher: the writes before this one took time too
      if (n > 0) this.send(p, n, this.clock(), interval)
    }
    this.flushStats()
  }

  /**
   * Writes n PUBLISHes in one buffer: a copy of the prebuilt block with sequence numbers, send times
   * and packet ids patched in. Closed loop stamps the actual time; open loop the intended time of each
   * message, allowing one pacing tick (a message sent later than that is late by the bench's or the
   * broker's fault, and its latency shows it: no coordinated omission).
   */
  private send(p: Publisher, n: number, now: number, interval: number): void {
    const len = p.packetLength
    const buf = Buffer.from(p.block.subarray(0, n * len))
    const inWindowLag = interval > 0 && now >= this.windowStart && now < this.windowEnd
    for (let k = 0; k < n; k++) {
      const seq = p.seq++
      let stamp = now
      if (interval > 0) {
        const intended = this.t0 + p.offsetUs + seq * interval
        stamp = intended + TICK_US < now ? intended + TICK_US : now
        if (inWindowLag) this.hist.sendLag.record(now - intended)
      }
      const o = k * len + p.payloadOffset
      if (p.tracked) {
        buf.writeUInt32LE(seq, o + SEQ_OFFSET)
        buf.writeDoubleLE(stamp, o + TIME_OFFSET)
      }
      if (p.window > 0) {
        const id = p.freeIds[--p.freeTop]
        buf.writeUInt16BE(id, k * len + p.idOffset)
        p.sentAt[id] = stamp
        p.inflight++
        this.inflight++
      }
    }
    p.conn.write(buf)
    this.sent += n
    this.expected += n * p.fanout
    if (p.remaining <= 0) this.publisherFinished(p)
  }

  private publisherFinished(p: Publisher): void {
    if (p.done) return
    p.done = true
    this.stats[this.base + Stat.PublishersDone]++
  }

  private onAck(p: Publisher, id: number, code: number): void {
    const sentAt = id <= p.window ? p.sentAt[id] : 0
    if (sentAt === 0) return this.error(`protocol: acknowledgement for unknown packet id ${id}`)
    p.sentAt[id] = 0
    p.freeIds[p.freeTop++] = id
    p.inflight--
    if (code >= 0x80) {
      this.refused++
      this.error(`PUBACK: ${reasonName(code)} (0x${code.toString(16)})`)
    } else {
      this.acked++
      if (sentAt >= this.windowStart) {
        if (sentAt < this.windowEnd) this.hist.publishToAck.record(this.clock() - sentAt)
      } else {
        this.warmupHist.publishToAck.record(this.clock() - sentAt)
      }
    }
    this.inflight--
    this.stats[this.base + Stat.Acked] = this.acked
    this.stats[this.base + Stat.Refused] = this.refused
    this.stats[this.base + Stat.Inflight] = this.inflight
    if (this.plan.intervalUs > 0) {
      if (!this.pumpScheduled && this.running) {
        this.pumpScheduled = true
        setImmediate(() => { this.pumpScheduled = false; this.tick() })
      }
    } else {
      this.schedule()
    }
  }

  // ---- receiving ----

  private receive(s: Subscriber, buf: Buffer, start: number, end: number): void {
    this.received++
    if (end - start < HEADER_SIZE || buf.readUInt32LE(start) !== MAGIC) {
      this.untracked++
      return
    }
    const arrival = s.tracker.record(buf.readUInt32LE(start + STREAM_OFFSET), buf.readUInt32LE(start + SEQ_OFFSET))
    if (arrival === Arrival.Duplicate) return
    if (this.chunkNow === 0) this.chunkNow = this.clock()
    const now = this.chunkNow
    const sentAt = buf.readDoubleLE(start + TIME_OFFSET)
    const at = this.plan.latencyBy === 'send' ? sentAt : now
    if (at >= this.windowStart) {
      if (at < this.windowEnd) this.hist.endToEnd.record(now - sentAt)
    } else {
      this.warmupHist.endToEnd.record(now - sentAt)
    }
  }

  private readonly afterChunk = () => {
    this.chunkNow = 0
    this.stats[this.base + Stat.Received] = this.received
    if (this.waitingForWindow) {
      this.waitingForWindow = false
      this.schedule()
    }
  }

  private flushStats(): void {
    const b = this.base
    this.stats[b + Stat.Sent] = this.sent
    this.stats[b + Stat.Expected] = this.expected
    this.stats[b + Stat.Received] = this.received
    this.stats[b + Stat.Inflight] = this.inflight
  }

  // ---- the end ----

  private report(): ShardReport {
    this.flushStats()
    let duplicates = 0
    let reordered = 0
    let gaps = 0
    let unique = 0
    for (const s of this.subscribers) {
      duplicates += s.tracker.duplicates
      reordered += s.tracker.reordered
      gaps += s.tracker.gaps()
      unique += s.tracker.unique
    }
    let unacked = 0
    for (const p of this.publishers) unacked += p.inflight
    return {
      sent: this.sent, acked: this.acked, refused: this.refused, unacked, expected: this.expected,
      received: this.received, duplicates, reordered, untracked: this.untracked, gaps, unique: unique + this.untracked,
      attempted: this.attempted, connected: this.connected, failed: this.failed, lost: this.lost,
      failures: this.failures, connackCodes: this.connackCodes, errors: this.errors,
      firstAttempt: this.firstAttempt, lastConnack: this.lastConnack,
      histograms: {
        endToEnd: this.hist.endToEnd.encode(), publishToAck: this.hist.publishToAck.encode(),
        connect: this.hist.connect.encode(), sendLag: this.hist.sendLag.encode(),
        warmupEndToEnd: this.warmupHist.endToEnd.encode(), warmupPublishToAck: this.warmupHist.publishToAck.encode(),
      },
    }
  }

  private async close(): Promise<void> {
    this.stop()
    this.abortConnect.abort()
    clearInterval(this.keepaliveTimer)
    const all = [...this.connections]
    this.connections.clear()
    await Promise.all(all.map((c) => c.close(this.plan.reset)))
  }
}
