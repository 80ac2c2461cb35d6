// One bridge: a local MQTT client of this broker (over an in-memory stream) and a remote MQTT client,
// with the messages between them carried by forward.ts. This file is the lifecycle, as Mosquitto's
// src/bridge.c runs it: connect at start; on a lost connection or a failed attempt move to the next
// address and retry after restart_timeout (constant or jittered backoff); while on a secondary address
// (round_robin false) probe the primary every 5 s and go back to it once it answers; `once` never
// retries; `lazy` retries only when `threshold` messages wait, and stops after `idle_timeout` idle.
import {connect, ConnectionRefusedError, type MqttClient} from '../../client/index.js'
import type {Message} from '../../client/index.js'
import type {Duplex} from 'node:stream'
import type {BrokerEvents, TypedEmitter} from '../events.js'
import type {ConnectionContext} from '../listeners/link.js'
import type {Logger} from '../logger.js'
import type {Session} from '../session.js'
import {nextRestartDelay, type BridgeAddress, type BridgeConfig} from './config.js'
import {Forwarder} from './forward.js'
import {duplexPair} from '../duplex-pair.js'
import {Notifications} from './notifications.js'
import {answers, describeAddress as describe, remoteOptions} from './remote.js'
import {emptyStats, type BridgeStats} from './stats.js'

const NEVER_EXPIRES = 0xffff_ffff
const PRIMARY_PROBE_MS = 5000
const LOCAL_RETRY_MS = 1000
const THRESHOLD_CHECK_MS = 1000

/** stopped: before start or after a `once` bridge lost its connection; idle: a lazy bridge waiting for its threshold. */
export type BridgeState = 'stopped' | 'connecting' | 'connected' | 'waiting' | 'idle' | 'closed'

/** The local broker as its bridges reach it (Broker implements it): a client of it over a stream. */
export interface BridgeHost {
  readonly options: {readonly logger: Logger}
  readonly events: TypedEmitter<BrokerEvents>
  readonly sessions: ReadonlyMap<string, Session>
  handle(stream: Duplex, remoteAddress?: string, context?: ConnectionContext): unknown
}

export class Bridge {
  readonly stats: BridgeStats = emptyStats()
  state: BridgeState = 'stopped'
  private local: MqttClient | undefined
  private remote: MqttClient | undefined
  private readonly forward: Forwarder
  private readonly notify: Notifications
  private addressIndex = 0
  private delayMs = 0
  private tryPrivateAccepted = true
  /** bridge_protocol_version, lowered to 3.1.1 when a remote refuses MQTT 5 (as Mosquitto does). */
  private version: 3 | 4 | 5
  private everConnected = false
  private timer: NodeJS.Timeout | undefined
  private localTimer: NodeJS.Timeout | undefined
  private probeTimer: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private lastActivity = Date.now()
  private backToPrimary = false

  constructor(private readonly broker: BridgeHost, readonly config: BridgeConfig) {
    this.version = config.protocolVersion
    this.forward = new Forwarder(config, this.stats)
    this.notify = new Notifications(config)
    this.forward.onActivity = () => { this.lastActivity = Date.now() }
    this.forward.onWaiting = (count) => {
      if (this.state === 'idle' && count >= config.threshold) void this.connectRemote()
    }
  }

  private get isClosed(): boolean { return this.state === 'closed' }

  /** The address in use (or to be tried next). */
  get address(): BridgeAddress { return this.config.addresses[this.addressIndex]! } // a bridge has at least one address

  /** Messages waiting for the remote: held by the bridge and queued in its local session. */
  get queued(): number {
    return this.forward.heldCount + (this.broker.sessions.get(this.config.localClientId)?.queued ?? 0)
  }

  /** Connects the local side and subscribes the outgoing topics, so that messages are kept from now on. */
  async startLocal(): Promise<void> {
    await this.connectLocal()
    this.notify.local(this.local, 0)
  }

  /** Connects the remote side (every start type connects once at start, as in Mosquitto). */
  async startRemote(): Promise<void> {
    await this.connectRemote()
  }

  /** Stops: "0" on the state topic of both sides, a clean DISCONNECT to each (the local session stays). */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.clearTimers()
    if (this.localTimer !== undefined) clearTimeout(this.localTimer)
    const remote = this.remote
    this.remote = undefined
    if (remote !== undefined) {
      await this.notify.remoteDown(remote)
      await remote.disconnect()
    }
    this.notify.local(this.local, 0)
    await this.local?.disconnect()
  }

  // --- the local side --------------------------------------------------------------------------------

  private async connectLocal(): Promise<void> {
    const c = this.config
    const [mine, theirs] = duplexPair()
    // trusted like Mosquitto's bridge contexts: not authenticated, but local_username is the ACL's user
    this.broker.handle(theirs, `bridge:${c.name}`, {internal: true, username: c.localUsername})
    const client = await connect({
      transport: async () => mine, protocolVersion: 5, clientId: c.localClientId, clean: c.localCleanSession,
      keepalive: 0, username: c.localUsername, password: c.localPassword, manualAck: true,
      properties: {sessionExpiryInterval: c.localCleanSession ? 0 : NEVER_EXPIRES},
    })
    this.local = client
    this.forward.pauseLocal = () => mine.pause()
    this.forward.resumeLocal = () => mine.resume()
    client.onMessage((m) => this.forward.fromLocal(m, client))
    void client.closed.then((error) => this.onLocalLost(client, error))
    // No Local: what the bridge publishes locally is not sent back out; Retain As Published keeps the
    // flag; Retain Handling 2 here, since retained messages go out on each remote connect (resubscribe)
    const out = c.topics.filter((t) => t.direction !== 'in')
    // a kept session may hold subscriptions of an earlier configuration: they go (Mosquitto: sub__clean_session)
    const kept = [...(this.broker.sessions.get(c.localClientId)?.subscriptions.keys() ?? [])]
    const stale = kept.filter((f) => !out.some((t) => t.localTopic === f))
    if (stale.length > 0) await client.unsubscribe(stale)
    if (out.length > 0) await client.subscribe(out.map((t) => ({topic: t.localTopic, qos: t.qos, nl: true, rap: true, rh: 2 as const})))
  }

  private onLocalLost(client: MqttClient, error: Error | undefined): void {
    if (this.local !== client) return
    this.local = undefined
    if (this.state === 'closed') return
    this.broker.options.logger.warn({bridge: this.config.name, reason: error?.message}, 'bridge lost its local connection')
    this.forward.localDown(client)
    // remote messages it had not acked yet would block the remote's window: start that side over too
    this.remote?.destroy()
    this.reconnectLocal()
  }

  private reconnectLocal(): void {
    this.localTimer = setTimeout(() => {
      this.localTimer = undefined
      if (this.state === 'closed') return
      this.connectLocal().then(() => { if (this.state === 'closed') void this.local?.disconnect() }, () => this.reconnectLocal())
    }, LOCAL_RETRY_MS)
    this.localTimer.unref()
  }

  // --- the remote side -------------------------------------------------------------------------------

  private async connectRemote(): Promise<void> {
    if (this.state === 'closed' || this.state === 'connecting' || this.state === 'connected') return
    if (this.local === undefined) {
      // nothing received from the remote could be passed on (or acked): wait for the local side first
      this.schedule()
      return
    }
    this.clearTimers()
    this.state = 'connecting'
    const c = this.config
    const address = this.address
    const version = this.version
    const bridgeMode = c.tryPrivate && this.tryPrivateAccepted && version !== 5
    let client: MqttClient
    try {
      client = await connect(remoteOptions(c, address, version, bridgeMode, this.notify.remoteWill()))
    } catch (error) {
      if (this.isClosed) return
      this.stats.connectFailures++
      if (bridgeMode && error instanceof ConnectionRefusedError && error.reasonCode === 1) {
        // a v3 broker that refuses the bridge bit: retry without it, as Mosquitto does
        this.tryPrivateAccepted = false
        this.broker.options.logger.warn({bridge: c.name, address: describe(address)}, 'bridge: the remote refused try_private; retrying without the bridge bit')
      } else if (version === 5 && error instanceof ConnectionRefusedError && error.reasonCode === 1) {
        // a v3.x broker answers an MQTT 5 CONNECT with return code 1 (no v5 reason code is 1)
        this.version = 4
        this.broker.options.logger.warn({bridge: c.name, address: describe(address)}, 'bridge: the remote does not support MQTT 5; retrying with 3.1.1')
      } else {
        this.broker.options.logger.warn({bridge: c.name, address: describe(address), reason: (error as Error).message}, 'bridge connection failed')
      }
      this.retry()
      return
    }
    if (this.isClosed) {
      await client.disconnect()
      return
    }
    this.onRemoteUp(client)
  }

  private onRemoteUp(client: MqttClient): void {
    const c = this.config
    this.remote = client
    client.limitOutgoingPacketSize(c.maxPacketSize) // bridge_max_packet_size: larger messages are not sent (counted as dropped)
    this.state = 'connected'
    this.stats.connected = 1
    if (this.everConnected) this.stats.reconnects++
    this.everConnected = true
    this.delayMs = 0
    this.broker.options.logger.info({bridge: c.name, address: describe(this.address), clientId: c.remoteClientId}, 'bridge connected')
    this.broker.events.emit('bridgeConnected', {name: c.name, address: describe(this.address)})
    client.onMessage((m: Message) => this.forward.fromRemote(m, client, this.local))
    void client.closed.then((error) => this.onRemoteLost(client, error))
    this.notify.remoteUp(client)
    this.notify.local(this.local, 1)
    const v5 = client.protocolVersion === 5
    const inTopics = c.topics.filter((t) => t.direction !== 'out')
    const outOnly = c.topics.filter((t) => t.direction === 'out')
    const failed = (what: string) => (error: Error) => this.broker.options.logger.warn({bridge: c.name, reason: error.message}, `bridge ${what} failed`)
    if (inTopics.length > 0) {
      client.subscribe(inTopics.map((t) => v5 ? {topic: t.remoteTopic, qos: t.qos, nl: true, rap: true, rh: 0 as const} : {topic: t.remoteTopic, qos: t.qos}))
        .catch(failed('remote subscribe'))
    }
    if (c.attemptUnsubscribe && outOnly.length > 0) client.unsubscribe(outOnly.map((t) => t.remoteTopic)).catch(failed('remote unsubscribe'))
    this.forward.remoteUp(client)
    // the local retained messages go to the remote on every connect (Mosquitto's retain__queue)
    const out = c.topics.filter((t) => t.direction !== 'in')
    if (out.length > 0 && this.local?.connected) {
      this.local.subscribe(out.map((t) => ({topic: t.localTopic, qos: t.qos, nl: true, rap: true, rh: 0 as const}))).catch(failed('local subscribe'))
    }
    if (!c.roundRobin && this.addressIndex !== 0) this.probePrimary()
    if (c.startType === 'lazy') this.watchIdle(client)
  }

  private onRemoteLost(client: MqttClient, error: Error | undefined): void {
    if (this.remote !== client) return
    this.remote = undefined
    this.forward.remoteDown(client)
    this.stats.connected = 0
    this.clearTimers()
    const c = this.config
    if (this.state === 'closed') return
    this.broker.options.logger.warn({bridge: c.name, address: describe(this.address), reason: error?.message ?? 'disconnected'}, 'bridge disconnected')
    this.broker.events.emit('bridgeDisconnected', {name: c.name, address: describe(this.address), reason: error?.message ?? 'disconnected'})
    this.notify.local(this.local, 0)
    if (this.backToPrimary) {
      this.backToPrimary = false
      this.addressIndex = 0
      this.state = 'waiting'
      void this.connectRemote()
      return
    }
    if (c.startType === 'once') {
      this.state = 'stopped'
      return
    }
    this.addressIndex = (this.addressIndex + 1) % c.addresses.length
    if (c.startType === 'lazy') return this.idle()
    this.schedule()
  }

  /**
   * A lazy bridge waits until `threshold` messages wait: those it holds (checked as they come) and those
   * its local session queues beyond its in-flight window (checked every second, as Mosquitto's loop does).
   */
  private idle(): void {
    this.state = 'idle'
    this.idleTimer = setInterval(() => {
      if (this.state === 'idle' && this.queued >= this.config.threshold) void this.connectRemote()
    }, THRESHOLD_CHECK_MS)
    this.idleTimer.unref()
  }

  /** A failed attempt: the next address, after the restart delay (lazy bridges wait for the threshold again). */
  private retry(): void {
    this.addressIndex = (this.addressIndex + 1) % this.config.addresses.length
    if (this.config.startType === 'once') {
      this.state = 'stopped'
      return
    }
    if (this.config.startType === 'lazy') return this.idle()
    this.schedule()
  }

  private schedule(): void {
    this.state = 'waiting'
    this.delayMs = nextRestartDelay(this.config.restartTimeout, this.delayMs)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.state = 'stopped'
      void this.connectRemote()
    }, this.delayMs)
    this.timer.unref()
  }

  /** While on a secondary address: every 5 s, a TCP probe of the primary; once it answers, back to it. */
  private probePrimary(): void {
    const primary = this.config.addresses[0]!
    this.probeTimer = setTimeout(() => {
      void answers(primary).then((up) => {
        if (this.state !== 'connected' || this.remote === undefined) return
        if (!up) return this.probePrimary()
        this.broker.options.logger.info({bridge: this.config.name, address: describe(primary)}, 'bridge: the primary address answers; switching back')
        this.backToPrimary = true
        this.remote.destroy()
      })
    }, PRIMARY_PROBE_MS)
    this.probeTimer.unref()
  }

  /** A lazy bridge: disconnected after idle_timeout seconds without a message either way. */
  private watchIdle(client: MqttClient): void {
    const ms = this.config.idleTimeout * 1000
    const check = () => {
      if (this.remote !== client) return
      const idle = Date.now() - this.lastActivity
      if (idle >= ms) {
        this.broker.options.logger.info({bridge: this.config.name}, 'bridge idle: stopping until messages wait')
        void this.notify.remoteDown(client).then(() => client.disconnect())
        return
      }
      this.idleTimer = setTimeout(check, ms - idle)
      this.idleTimer.unref()
    }
    this.lastActivity = Date.now()
    this.idleTimer = setTimeout(check, ms)
    this.idleTimer.unref()
  }

  private clearTimers(): void {
    for (const t of [this.timer, this.probeTimer, this.idleTimer]) if (t !== undefined) clearTimeout(t) // clears intervals too
    this.timer = this.probeTimer = this.idleTimer = undefined
  }
}
