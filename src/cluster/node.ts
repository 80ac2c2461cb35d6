import {EventEmitter} from 'node:events'
import {hostname} from 'node:os'
import type {Redis} from 'ioredis'
import type {Broker} from '../broker/broker.js'
import {engineOf, type BrokerEngine} from '../broker/internal.js'
import type {ClusterLink, ClusterStatus} from '../broker/cluster-link.js'
import type {Message} from '../broker/message.js'
import type {MetricFamily} from '../broker/metric-family.js'
import {CONTROL_CHANNEL, MAIL_ALL, RETAINED_CHANNEL, mailChannel, nodeChannel, routesKey, type ControlMessage} from './keys.js'
import {NodeForwarding} from './forwarding.js'
import {NodeLinks, type LinkAddress} from './links.js'
import {NodeMailbox} from './mailbox.js'
import {NodeRegistry} from './registry.js'
import {ClusterRetained} from './retained.js'
import {RouteCache} from './routes.js'
import {clusterMetrics} from './node-metrics.js'
import {DEFAULT_LINK, type ClusterCounters, type ClusterEvents, type ClusterNodeOptions} from './node-types.js'
import {REDIS_START_TIMEOUT_MS} from './redis-connect.js'
import {encodeNodeMessage} from './wire.js'

export type {ClusterCounters, ClusterEvents, ClusterNodeOptions} from './node-types.js'

/**
 * One broker as a node of a cluster on Redis (see ClusterLink for what the engine asks). A filter
 * added on this node is written to Redis once, when its first (session, filter) pair appears; a
 * message published here goes, as one Redis PUBLISH, to each other node with a matching filter, and
 * a message from another node is routed to local subscribers only. Without Redis the node serves its
 * local clients; when Redis is back it writes its routes again and reloads everyone else's.
 */
export class ClusterNode implements ClusterLink {
  readonly id: string
  readonly events = new EventEmitter<ClusterEvents>()
  readonly counters: ClusterCounters
  /** Other cluster features' messages between nodes (part 2: sessions). */
  readonly mailbox: NodeMailbox
  private readonly registry: NodeRegistry
  private readonly routes = new RouteCache()
  /** Retained messages in Redis, and this node's changes to them until Redis confirmed them. */
  private readonly retained: ClusterRetained
  /** This node's filters and how many (session, filter) pairs hold each. */
  private readonly local = new Map<string, number>()
  private up = false
  private closed = false
  private syncing: Promise<void> | undefined
  private buffered: ControlMessage[] | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private readonly logUrl: string
  private readonly broker: BrokerEngine
  /** Messages between this node and the others. */
  private readonly forwarding: NodeForwarding
  /** Direct connections to the other nodes for what forwarding sends (Redis when there is none); undefined: --cluster-link off. */
  private readonly links: NodeLinks | undefined
  /** The address this node's link listens at, for the others to dial (in its registry info). */
  private linkAddress: LinkAddress | undefined
  /** Forwarding frames sent through Redis (no link to their node). */
  private viaRedis = 0

  constructor(broker: Broker, private readonly pub: Redis, private readonly sub: Redis, private readonly options: ClusterNodeOptions) {
    this.broker = engineOf(broker)
    this.id = options.id
    const u = new URL(options.url)
    u.password = ''
    this.logUrl = u.toString()
    const link = options.link ?? DEFAULT_LINK
    if (link !== 'off') {
      this.links = new NodeLinks({id: this.id, ...link, logger: options.logger, received: (bytes) => this.fromLink(bytes), address: (n) => this.registry.linkAddress(n)})
      // what the link carried and was not confirmed goes again, through Redis or the next link
      this.links.on('down', (n) => this.forwarding.resend(n))
    }
    this.forwarding = new NodeForwarding(this.id, this.broker, this.routes, (node, bytes, light) => {
      if (this.links?.send(node, bytes, light) === true) return
      this.viaRedis++
      this.send(pub.publish(nodeChannel(node), bytes))
    }, options.ackWindow)
    this.counters = this.forwarding.counters
    this.registry = new NodeRegistry(pub, this.id, options.ttlMs ?? 5000)
    this.registry.on('node-up', (n) => { void this.loadRoutes(n); this.links?.want(n); this.publishSys(); this.events.emit('node-up', n) })
    this.registry.on('node-down', (n) => {
      this.links?.drop(n)
      this.publishSys()
      this.events.emit('node-down', n)
      // its routes stay until its sessions are adopted: what is published for them meanwhile goes its
      // way unconfirmed, and its publishers send it again (dropped at once, it would reach no session)
      const adopted = this.options.adoptDead?.(n).catch(() => undefined) ?? Promise.resolve()
      void adopted.then(() => {
        if (this.closed || this.registry.live.has(n)) return // back meanwhile: it confirms what it has
        this.routes.dropNode(n)
        this.forwarding.nodeDown(n)
        this.events.emit('routes')
      })
    })
    this.mailbox = new NodeMailbox(this.id, pub)
    this.retained = new ClusterRetained(this.broker, pub, this.id)
    for (const [filter] of this.localFilters()) this.subscribed(filter)
    sub.on('messageBuffer', (channel: Buffer, bytes: Buffer) => this.onMessage(channel.toString(), bytes))
    for (const r of [pub, sub]) {
      r.on('ready', () => this.whenReady())
      r.on('close', () => this.lost('connection closed'))
      r.on('error', (error: Error) => {
        this.lastError = error.message
        this.lost(error.message)
      })
    }
  }

  /** Connections to the cluster's Redis, for other cluster features (they close them). */
  redis(purpose: string): Promise<Redis> { return this.options.redis(purpose) }

  /** Whether Redis answers and this node's view of the cluster is current. */
  get connected(): boolean { return this.up }

  /** Whether close() was called: this node is leaving the cluster. */
  get leaving(): boolean { return this.closed }

  /** Whether this node's cache says that `node` holds `filter`. */
  knows(node: string, filter: string): boolean { return this.routes.filtersOf(node)?.has(filter) === true }

  /** The other nodes alive, as last seen. */
  get nodes(): ReadonlySet<string> { return this.registry.live }

  // --- ClusterLink ---------------------------------------------------------------------------------

  subscribed(filter: string): void {
    if (isNodeLocal(filter)) return
    const n = (this.local.get(filter) ?? 0) + 1
    this.local.set(filter, n)
    if (n > 1) return
    if (filter.startsWith('$share/')) this.routes.add(this.id, filter)
    if (this.up) this.send(this.pub.multi().hset(routesKey(this.id), filter, 1).publish(CONTROL_CHANNEL, control({t: '+', n: this.id, f: filter})).exec())
  }

  unsubscribed(filter: string): void {
    const n = this.local.get(filter)
    if (n === undefined) return
    if (n > 1) return void this.local.set(filter, n - 1)
    this.local.delete(filter)
    if (filter.startsWith('$share/')) this.routes.remove(this.id, filter)
    if (this.up) this.send(this.pub.multi().hdel(routesKey(this.id), filter).publish(CONTROL_CHANNEL, control({t: '-', n: this.id, f: filter})).exec())
  }

  published(message: Message, retainedChanged: boolean): number {
    if (isNodeLocal(message.topic)) return this.forwarding.notForwarded()
    if (!this.up) {
      // written to Redis when it is back (a clear of a topic this node has no message for: nothing to write)
      if (message.retain) this.retained.changedWhileAway(message, retainedChanged)
      return this.forwarding.keepForLater(message)
    }
    const plain = message.retain ? encodeNodeMessage(this.id, message, [], this.broker.now()) : undefined
    if (plain !== undefined) this.retained.changed(message, plain)
    return this.forwarding.forward(message, plain)
  }

  sharedHere(group: string, message: Message): boolean {
    return this.forwarding.sharedHere(group, message)
  }

  status(): ClusterStatus {
    return {node: this.id, connected: this.up, nodes: this.registry.live.size + 1}
  }

  metrics(): MetricFamily[] {
    let routes = 0
    for (const n of this.registry.live) routes += this.routes.filtersOf(n)?.size ?? 0
    return clusterMetrics({id: this.id, up: this.up, nodes: this.registry.live.size + 1, routes, retainedUnsynced: this.retained.unsynced,
      forwarding: this.forwarding, counters: this.counters, links: this.links, viaRedis: this.viaRedis})
  }

  // --- Redis -------------------------------------------------------------------------------------

  /** Connects; resolves once joined, or once the first attempt failed (the node then runs degraded and keeps trying). */
  async start(): Promise<void> {
    this.linkAddress = await this.links?.listen()
    const first = await Promise.allSettled([this.pub.connect(), this.sub.connect()])
    const failed = first.find((r) => r.status === 'rejected')
    if (failed !== undefined) {
      this.options.logger.warn({node: this.id}, `cluster: cannot reach Redis at ${this.logUrl} (${this.lastError ?? (failed.reason as Error).message}); serving local clients only until it answers`)
      return
    }
    // a Redis that connects but does not answer (stalled, paused) does not hold the start: the node
    // serves its local clients and joins once a sync completes (its commands time out, and it is retried)
    let timer: NodeJS.Timeout | undefined
    const waited = this.options.startTimeoutMs ?? REDIS_START_TIMEOUT_MS
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), waited) })
    const outcome = await Promise.race([this.whenReady(), late])
    clearTimeout(timer)
    if (outcome === 'late') this.options.logger.warn({node: this.id}, `cluster: Redis at ${this.logUrl} did not answer within ${waited / 1000} s; serving local clients only until it does`)
  }

  private joined = false
  private lastError: string | undefined
  private whenReady(): Promise<void> | undefined {
    if (this.closed || this.pub.status !== 'ready' || this.sub.status !== 'ready') return
    this.syncing ??= this.sync().catch((error: Error) => {
      this.lost(error.message)
      // a connection that came back while this sync ran found it under way: try again
      if (!this.closed) setTimeout(() => void this.whenReady(), 500).unref()
    }).finally(() => { this.syncing = undefined })
    return this.syncing
  }

  /** Writes this node's state, then loads everyone else's; control messages meanwhile wait and follow. */
  private async sync(): Promise<void> {
    this.buffered = []
    let written = new Set<string>()
    try {
      await this.sub.subscribe(CONTROL_CHANNEL, RETAINED_CHANNEL, nodeChannel(this.id), mailChannel(this.id), MAIL_ALL)
      const filters = [...this.local.keys()]
      written = new Set(filters)
      const write = this.pub.multi().del(routesKey(this.id))
      if (filters.length > 0) write.hset(routesKey(this.id), Object.fromEntries(filters.map((f) => [f, 1])))
      await write.exec()
      if (this.links !== undefined) this.links.secret = await this.registry.clusterSecret()
      await this.registry.announce(this.info())
      await this.pub.publish(CONTROL_CHANNEL, control({t: 'up', n: this.id}))
      // back after an outage: the others' heartbeats may have expired while Redis was away too; they
      // are not taken for dead (nor their sessions adopted) before they had a TTL to come back
      if (this.joined) this.registry.holdBurials()
      const alive = await this.registry.scan()
      const tables = await this.pub.pipeline(alive.map((n) => ['hkeys', routesKey(n)])).exec()
      this.routes.clear(this.id)
      alive.forEach((n, i) => { for (const f of (tables?.[i]?.[1] ?? []) as string[]) this.routes.add(n, f) })
      const restored = await this.retained.sync()
      if (restored > 0) this.options.logger.info({node: this.id, retained: restored}, `cluster: Redis came back without its retained messages; node ${this.id} wrote back ${restored} of its copy`)
      this.registry.reset(alive)
    } finally {
      const later = this.buffered ?? []
      this.buffered = undefined
      for (const c of later) this.onControl(c)
    }
    this.up = true
    this.writeChangedRoutes(written)
    this.heartbeat ??= setInterval(() => void this.beat(), this.options.heartbeatMs ?? 1000).unref()
    const others = this.registry.live.size
    if (!this.joined) this.options.logger.info({node: this.id, nodes: others + 1}, `cluster: node ${this.id} joined through ${this.logUrl} (${others} other node${others === 1 ? '' : 's'})`)
    else this.options.logger.info({node: this.id, nodes: others + 1}, `cluster: Redis at ${this.logUrl} is back; routes resynchronised (${others} other node${others === 1 ? '' : 's'})`)
    this.joined = true
    // what the others may have missed while this node was away from Redis (they drop what they routed)
    this.forwarding.resendAll()
    this.publishSys()
    this.events.emit('synced')
    this.events.emit('routes')
  }

  /** Filters subscribed or dropped here while sync() ran (not up: not written then) are written now. */
  private writeChangedRoutes(written: ReadonlySet<string>): void {
    for (const f of this.local.keys()) {
      if (!written.has(f)) this.send(this.pub.multi().hset(routesKey(this.id), f, 1).publish(CONTROL_CHANNEL, control({t: '+', n: this.id, f})).exec())
    }
    for (const f of written) {
      if (!this.local.has(f)) this.send(this.pub.multi().hdel(routesKey(this.id), f).publish(CONTROL_CHANNEL, control({t: '-', n: this.id, f})).exec())
    }
  }

  private async beat(): Promise<void> {
    if (!this.up) return
    try {
      if (await this.registry.announce(this.info())) {
        // buried by the others while paused: write the routes again and make them reload them
        this.options.logger.warn({node: this.id}, 'cluster: this node was taken for dead (no heartbeat within the TTL); joining again')
        this.up = false
        this.events.emit('declared-dead')
        return void this.whenReady()
      }
      const alive = await this.registry.scan()
      for (const n of alive) this.registry.up(n)
      // a link that carried what a node has not confirmed for 10 s may be stuck (a network that drops
      // without a reset): closed, so that the resend goes through Redis and the link is dialed anew
      this.forwarding.resendStale((n) => this.links?.reset(n))
    } catch {
      // the connection's own events say whether Redis is gone
    }
  }

  private lost(reason: string): void {
    if (!this.up || this.closed) return
    if (this.pub.status === 'ready' && this.sub.status === 'ready') return // an error the connection survived
    this.up = false
    this.forwarding.lost()
    this.options.logger.warn({node: this.id}, `cluster: lost Redis at ${this.logUrl} (${reason}); serving local clients only`)
    this.events.emit('degraded', reason)
  }

  private onMessage(channel: string, bytes: Buffer): void {
    // leaving: another node leaving at the same moment (the workers of --workers stopping) is not a death to handle
    if (this.closed) return
    try {
      if (channel === CONTROL_CHANNEL) return this.onControl(JSON.parse(bytes.toString()) as ControlMessage)
      if (channel.startsWith('midge:m:')) return this.mailbox.receive(bytes)
      if (channel === RETAINED_CHANNEL) {
        const topic = this.retained.received(bytes)
        if (topic !== undefined) this.events.emit('retained', topic)
        return
      }
      this.forwarding.received(bytes)
    } catch (error) {
      this.broker.internalError(error, {during: `a cluster message on ${channel}`})
    } finally {
      this.forwarding.notForwarded()
    }
  }

  /** A frame another node sent over its link: as if it came on this node's channel. */
  private fromLink(bytes: Buffer): void {
    if (this.closed) return
    try {
      this.forwarding.received(bytes)
    } catch (error) {
      this.broker.internalError(error, {during: 'a cluster message over a link'})
    } finally {
      this.forwarding.notForwarded()
    }
  }

  private onControl(c: ControlMessage): void {
    if (this.buffered !== undefined) return void this.buffered.push(c)
    if (c.n === this.id) return
    // back from a Redis outage of its own (or just joined): it may have missed what this node sent
    if (c.t === 'up') this.forwarding.resend(c.n)
    if (c.t === '+' || c.t === '-') {
      if (c.t === '+') this.routes.add(c.n, c.f)
      else this.routes.remove(c.n, c.f)
      this.events.emit('routes')
    }
    else if (c.t === 'down') this.registry.down(c.n)
    else if (this.registry.live.has(c.n)) void this.loadRoutes(c.n) // back after a Redis outage of its own: its routes anew
    else this.registry.up(c.n)
  }

  private async loadRoutes(node: string): Promise<void> {
    try {
      const filters = await this.pub.hkeys(routesKey(node))
      this.routes.dropNode(node)
      for (const f of filters) this.routes.add(node, f)
      this.events.emit('routes')
    } catch {
      // Redis went away: the next sync loads everything
    }
  }

  private send(p: Promise<unknown>): void {
    p.catch(() => undefined) // a write lost with Redis is made again by the next sync
  }

  /** $SYS/broker/node/id and $SYS/broker/cluster/nodes (retained, this node only), when $SYS is on. */
  private publishSys(): void {
    if (this.broker.sys === undefined || this.closed) return
    const sys = (topic: string, text: string) => this.broker.publish({topic, payload: Buffer.from(text), qos: 0, retain: true})
    sys('$SYS/broker/node/id', this.id)
    sys('$SYS/broker/cluster/nodes', String(this.registry.live.size + 1))
  }

  private info(): string {
    return JSON.stringify({host: hostname(), pid: process.pid, link: this.linkAddress})
  }

  private *localFilters(): Generator<[string, number]> {
    for (const session of this.broker.sessions.values()) for (const filter of session.subscriptions.keys()) yield [filter, 1]
  }

  /** Leaves the cluster (its routes are deleted, the others told) and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.heartbeat)
    this.broker.joinCluster(undefined)
    this.forwarding.close(this.up)
    if (this.up) await this.registry.leave().catch(() => undefined)
    this.links?.close()
    this.up = false
    this.pub.disconnect()
    this.sub.disconnect()
  }
}

/** `$SYS` stays on its node: each node reports on itself. */
function isNodeLocal(topicOrFilter: string): boolean {
  return topicOrFilter.startsWith('$SYS/') || topicOrFilter === '$SYS'
}

function control(c: ControlMessage): string {
  return JSON.stringify(c)
}
