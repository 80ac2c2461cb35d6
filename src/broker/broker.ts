import type {AddressInfo} from 'node:net'
import type {Duplex} from 'node:stream'
import {ReasonCode, SharedParsers} from '../codec/index.js'
import type {ControlHandler} from './auth/hooks.js'
import {Bridges, type Bridge, type BridgeInput} from './bridge/index.js'
import {Connection, ConnState, type ConnectionContext} from './connection.js'
import type {ConnectionHost, HandlerContext} from './handlers/context.js'
import {EnhancedAuth} from './enhanced-auth.js'
import {TypedEmitter, type BrokerEvents} from './events.js'
import {openListener, type Listener, type ListenerSpec} from './listeners/index.js'
import {silentLogger} from './logger.js'
import type {ClusterLink} from './cluster-link.js'
import type {Message} from './message.js'
import {Metrics} from './metrics.js'
import type {BrokerEngine} from './engine.js'
import {DEFAULT_OPTIONS, type BrokerOptions} from './options.js'
import {RetainedMessages} from './retained.js'
import {Router, type RouteResult} from './router.js'
import {Session, type Delivery, type DropReason} from './session.js'
import {Persistence} from './persistence.js'
import {SessionLifecycle} from './session-lifecycle.js'
import {SessionClaims} from './session-claims.js'
import {mayDeliver, mayRead, sendRetained} from './delivery-rights.js'
import {SysTopics} from './sys.js'
import {realTimers} from './timers.js'
import {Watchdog} from './watchdog.js'
import {WriteBatch} from './write-batch.js'

/** Each broker's engine (what `engineOf` returns): held here, so that it is no property of the Broker. */
const engines = new WeakMap<Broker, BrokerEngine>()

/**
 * The engine's parts and ports behind a broker, for in-tree code (metrics-http, Dynamic Security, file
 * auth, the cluster, the CLI, tests) through `broker/internal.ts`; not exported by `src/index.ts`.
 */
export function engineOf(broker: Broker): BrokerEngine {
  return engines.get(broker)!
}

/**
 * The broker engine: sessions, routing, retained messages, wills and expiry, over any duplex
 * streams. It reads no argv, env or files and writes no console; everything comes in as options.
 * Its public members are the library's API (README, "The library"); in-tree code reaches the rest
 * through `engineOf(broker)`.
 */
export class Broker {
  readonly events = new TypedEmitter<BrokerEvents>()
  private readonly options: BrokerOptions
  private readonly metrics = new Metrics()
  private readonly router: Router
  private readonly retained = new RetainedMessages()
  private readonly sessions = new Map<string, Session>()
  private readonly control = new Map<string, ControlHandler>()
  /** The broker's parts, and its methods as the ports of sessions, persistence, $SYS, bridges and a session directory. */
  private readonly engine: BrokerEngine
  /** MQTT 5 AUTH exchanges (options.authenticators); reached by the handlers through `host`. */
  private readonly enhancedAuth: EnhancedAuth
  private readonly persistence: Persistence | undefined
  private readonly connections = new Set<Connection>()
  /** CONNECT timeouts and keepalives of every connection. */
  private readonly watchdog: Watchdog
  /** Connections with writes held until the end of the event-loop iteration. */
  private readonly writes = new WriteBatch()
  /** The mqtt-packet parsers of every connection's decoder. */
  private readonly parsers = new SharedParsers()
  /** The engine as connections and their handlers reach it: what they need, and not the library's API. */
  private readonly host: ConnectionHost
  /** Wills and expiry of sessions. */
  private readonly lifecycle: SessionLifecycle
  /** Sessions shared with other brokers (options.sessions). */
  private readonly claims: SessionClaims
  private readonly listeners: Listener[] = []
  private readonly sys: SysTopics | undefined
  private readonly bridges: Bridges
  private closing = false
  private closed: Promise<void> | undefined

  constructor(options: Partial<BrokerOptions> = {}) {
    this.options = {...DEFAULT_OPTIONS, logger: silentLogger, timers: realTimers, auth: {}, ...stripUndefined(options)}
    this.router = new Router(this.options.upgradeOutgoingQos)
    this.enhancedAuth = new EnhancedAuth(this.options.authenticators ?? [])
    this.watchdog = new Watchdog(this.options.timers)
    this.engine = this.makeEngine()
    engines.set(this, this.engine)
    this.bridges = new Bridges(this.engine)
    this.persistence = this.options.store === undefined ? undefined : new Persistence(this.engine, this.options.store)
    this.host = this.connectionHost() // after persistence
    this.lifecycle = this.makeLifecycle()
    this.claims = new SessionClaims({options: this.options, sessions: this.sessions, router: this.router, persistence: this.persistence, lifecycle: this.lifecycle})
    this.retained.journal = this.persistence
    const {sysInterval, version, timers} = this.options
    this.sys = sysInterval > 0 ? new SysTopics(this.engine, {interval: sysInterval, version, timers}) : undefined
    this.options.sessions?.bind(this.engine)
  }

  /** The engine (engineOf): the broker's own objects, and its methods as every port but the connections'. */
  private makeEngine(): BrokerEngine {
    const broker = this
    const {options, events, metrics, router, retained, sessions, control, listeners} = this
    return {
      options, events, metrics, router, retained, sessions, control, listeners,
      get persistence() { return broker.persistence },
      get sys() { return broker.sys },
      get bridges() { return broker.bridges },
      get connectionCount() { return broker.connectionCount },
      handle: (stream, remoteAddress, context) => this.handle(stream, remoteAddress, context),
      publish: (message, result) => this.publish(message, result),
      joinCluster: (link) => this.joinCluster(link),
      internalError: (error, context) => this.internalError(error, context),
      now: () => this.now(),
      dropped: (session, d, reason) => this.dropped(session, d, reason),
      mayDeliver: (session, d) => mayDeliver(options.auth, session, d, this.engine),
      mayRead: (session, d) => mayRead(options.auth, session, d),
      deliveryFailed: (session, d, error) => this.deliveryFailed(session, d, error),
      // wills and expiry: session-lifecycle.ts
      publishWill: (client, will) => this.lifecycle.publishWill(client, will),
      scheduleExpiry: (session, ms) => this.lifecycle.scheduleExpiry(session, ms),
      scheduleWill: (session, will, ms) => this.lifecycle.scheduleWill(session, will, ms),
      // sessions shared with other brokers: session-claims.ts
      hasSession: (clientId) => this.claims.has(clientId),
      isConnected: (clientId) => this.claims.isConnected(clientId),
      releaseSession: (clientId) => this.claims.release(clientId),
      adoptSession: (state, client, will) => this.claims.adopt(state, client, will),
    }
  }

  /**
   * Serves one client over any duplex stream (a socket, a WebSocket stream, a test's duplexPair).
   * `context.username`: a user name the transport vouches for (a client certificate's identity).
   */
  handle(stream: Duplex, remoteAddress?: string, context?: ConnectionContext): void {
    const conn = new Connection(this.host, stream, remoteAddress, context)
    this.metrics.socketsOpened++
    if (this.closing) {
      stream.destroy()
      return
    }
    this.connections.add(conn) // until detach (Connection.close)
  }

  /** The ConnectionHost port: the broker's own objects, and its methods called on it (a subclass's overrides apply). */
  private connectionHost(): ConnectionHost {
    const {options, metrics, events, router, control, enhancedAuth, watchdog, writes, parsers} = this
    return {
      options, metrics, events, router, control, enhancedAuth, watchdog, writes, parsers,
      persistence: this.persistence,
      publish: (message, result) => this.publish(message, result),
      sendRetained: (session, filter, o) => sendRetained(this.engine, session, filter, o),
      capSessionExpiry: (seconds) => this.capSessionExpiry(seconds),
      attach: (conn, clientId, cleanStart, expiry) => this.attach(conn, clientId, cleanStart, expiry),
      claimSession: (conn, cleanStart, expiry, will) => this.claims.claim(conn, cleanStart, expiry, will),
      connected: (conn, present, keepalive, cleanStart) => this.connected(conn, present, keepalive, cleanStart),
      detach: (conn, wasConnected, sendWill, reason) => this.detach(conn, wasConnected, sendWill, reason),
      dropped: (session, d, reason) => this.dropped(session, d, reason),
      internalError: (error, context) => this.internalError(error, context),
    }
  }

  /** Wills and expiry, given the broker's own objects and methods (LifecycleHost), and whether it is closing. */
  private makeLifecycle(): SessionLifecycle {
    const broker = this
    const {options, metrics, router, sessions, persistence} = this
    return new SessionLifecycle({
      options, metrics, router, sessions, persistence,
      get closing() { return broker.closing },
      publish: (message) => this.publish(message),
      dropped: (session, d, reason) => this.dropped(session, d, reason),
      internalError: (error, context) => this.internalError(error, context),
    })
  }

  /** Loads sessions and retained messages from the store (once, before serving clients). */
  async restore(): Promise<void> {
    await this.persistence?.restore()
  }

  /**
   * Opens a listener: MQTT over TCP on 127.0.0.1:1883 by default (port 0: any free port), or mqtts,
   * ws or wss with their TLS settings, path and maxConnections (see ListenerSpec).
   */
  async listen(options: Partial<ListenerSpec> = {}): Promise<AddressInfo> {
    const spec: ListenerSpec = {...options, protocol: options.protocol ?? 'mqtt', host: options.host ?? '127.0.0.1', port: options.port ?? 1883,
      // a WebSocket message is buffered whole before any packet in it is read: no larger than a packet
      maxWebSocketMessage: options.maxWebSocketMessage ?? this.options.maxPacketSize}
    let plain: ConnectionContext | undefined // what every connection without a certificate shares
    const listener = await openListener(spec, {
      onStream: (stream, a) => this.handle(stream, a.remoteAddress, a.username === undefined && a.certificateSubject === undefined
        ? (plain ??= {listener: a.listener})
        : {username: a.username, certificateSubject: a.certificateSubject, listener: a.listener}),
      onClientError: (error, info) => this.events.emit('listenerError', {url: info.listener.url, remoteAddress: info.remoteAddress, error: error.message}),
    })
    if (this.closing) {
      await listener.close()
      throw new Error('the broker is closed')
    }
    this.listeners.push(listener)
    const address = listener.address()
    this.events.emit('listening', {protocol: spec.protocol, host: address.address, port: address.port, url: listener.url})
    this.sys?.start()
    return address
  }

  /**
   * Adds a bridge to another broker (Mosquitto's `connection` section; defaults as Mosquitto's). Resolves
   * once its local side is subscribed; the remote is connected, and reconnected, in the background.
   */
  addBridge(input: BridgeInput): Promise<Bridge> {
    if (this.closing) return Promise.reject(new Error('the broker is closed'))
    return this.bridges.add(input)
  }

  /** The bridges added, in the order they were added, each with its `state` and `stats`. */
  listBridges(): readonly Bridge[] {
    return this.bridges.all
  }

  /** The first listener's address. */
  address(): AddressInfo | undefined {
    return this.listeners[0]?.address()
  }

  /** Stops accepting, tells v5 clients 0x8B, closes every connection and timer. */
  close(): Promise<void> {
    // bridges first, so that they leave cleanly (their local sessions stay)
    this.closed ??= this.bridges.close().catch(() => undefined).then(() => this.shutdown())
    return this.closed
  }

  private async shutdown(): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.sys?.stop()
    const stopped = this.listeners.map((l) => l.close())
    for (const conn of this.connections) conn.disconnect(ReasonCode.ServerShuttingDown, 'server shutting down', false)
    await Promise.all(stopped)
    for (const session of this.sessions.values()) this.lifecycle.clearTimers(session)
    this.watchdog.stop()
    this.persistence?.writeDeferred()
    await this.options.store?.flush()
  }

  // --- publishing --------------------------------------------------------------------------------

  /**
   * Publishes a message to every matching subscriber (and stores it if retained); returns the receiver
   * count. `result`, if given, also learns how many receivers refused it for their quota (full queues).
   */
  private publish(message: Message, result?: RouteResult): number {
    const retainedChanged = message.retain && this.retained.set(message)
    // in a cluster, the other nodes that want it get it first (this also decides the shared groups' copies)
    const nodes = this.router.link?.published(message, retainedChanged) ?? 0
    return this.router.route(message, result) + nodes
  }

  /** Makes this broker a node of a cluster (src/cluster), or a single node again (undefined). */
  private joinCluster(link: ClusterLink | undefined): void {
    this.router.link = link
  }

  /** A hook or session that threw while a message was offered (SessionHost): costs this one delivery, counted and logged. */
  private deliveryFailed(session: Session, d: Delivery, error: unknown): void {
    this.internalError(error, {clientId: session.clientId, packet: 'publish', during: 'delivery'})
    this.dropped(session, d, 'delivery-failed')
  }

  /**
   * The last line of defence: an exception from the engine's own code (not a client's protocol error)
   * is counted and logged with the client and the packet it was handling; the caller then closes that
   * client's connection or drops that delivery, and the broker serves everyone else.
   */
  private internalError(error: unknown, context: {clientId?: string; packet?: string; during: string}): void {
    this.metrics.internalErrors++
    const err = error instanceof Error ? (error.stack ?? error.message) : String(error)
    this.options.logger.error({...context, err}, 'internal error')
  }

  /** The broker's clock (options.timers). */
  private now(): number {
    return this.options.timers.now()
  }

  /** Counts a message that a session could not take. */
  private dropped(session: Session | undefined, d: Delivery, reason: DropReason): void {
    this.metrics.dropped[reason] = (this.metrics.dropped[reason] ?? 0) + 1
    if (reason !== 'offline-qos0' && session !== undefined && this.events.heard('messageDropped')) {
      this.events.emit('messageDropped', {clientId: session.clientId, topic: d.message.topic, reason})
    }
  }

  // --- sessions ----------------------------------------------------------------------------------

  /** Takes over any live connection of the client, then resumes or creates its session. */
  private attach(conn: HandlerContext, clientId: string, cleanStart: boolean, expiry: number): {session: Session; present: boolean} {
    const old = this.sessions.get(clientId)
    const oldConn = old?.link
    // [MQTT-3.1.4-3] the same client id takes over: the old connection is told 0x8E and closed
    if (oldConn instanceof Connection) oldConn.disconnect(ReasonCode.SessionTakenOver, 'session taken over')
    let session = this.sessions.get(clientId)
    if (session !== undefined && cleanStart) {
      this.lifecycle.endSession(session) // [MQTT-3.1.2-4] clean start discards the old session
      session = undefined
    }
    const present = session !== undefined
    const client = conn.clientInfo
    if (session === undefined) {
      session = new Session(clientId, client, this.engine)
      session.journal = this.persistence
      this.sessions.set(clientId, session)
    } else {
      // a reconnect within the will delay cancels the will [MQTT-3.1.3-9]; the session no longer expires
      this.lifecycle.clearTimers(session)
      session.pendingWill = undefined
    }
    session.client = client
    session.expiryInterval = expiry
    session.link = conn
    this.persistence?.attached(session)
    return {session, present}
  }

  /** A connection is now up. */
  private connected(conn: HandlerContext, sessionPresent: boolean, keepalive: number, cleanStart: boolean): void {
    const m = this.metrics
    m.clientsConnected++
    m.clientsTotal++
    if (m.clientsConnected > m.clientsMaximum) m.clientsMaximum = m.clientsConnected
    if (this.events.heard('clientConnected')) this.events.emit('clientConnected', {...conn.clientInfo, sessionPresent, keepalive, cleanStart})
  }

  /** A connection ended: publish or schedule its will, and end or keep its session. */
  private detach(conn: HandlerContext, wasConnected: boolean, sendWill: boolean, reason: string): void {
    this.connections.delete(conn as Connection)
    if (!wasConnected) return
    this.metrics.clientsConnected--
    const session = conn.session
    const will = conn.takeWill()
    if (session !== undefined && session.link === conn) this.lifecycle.left(session, sendWill ? will : undefined)
    if (session !== undefined) this.options.sessions?.disconnected(session.clientId)
    if (this.events.heard('clientDisconnected')) this.events.emit('clientDisconnected', {...conn.clientInfo, reason})
  }

  private capSessionExpiry(seconds: number): number {
    const max = this.options.maxSessionExpiry
    return max !== undefined && seconds > max ? max : seconds
  }

  get connectionCount(): number {
    let n = 0
    for (const c of this.connections) if (c.state === ConnState.Connected) n++
    return n
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** Creates a broker engine. Call listen() to open a TCP listener, or handle() to serve any stream. */
export function createBroker(options: Partial<BrokerOptions> = {}): Broker {
  return new Broker(options)
}
