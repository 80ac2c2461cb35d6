import type {Packet, WillMessage} from '../codec/index.js'
import type {ClientInfo} from './auth/hooks.js'
import type {Message} from './message.js'
import type {BrokerOptions} from './options.js'
import type {RetainedMessages} from './retained.js'
import type {Router} from './router.js'
import {Flight, Session, type Delivery, type SessionHost, type SessionJournal, type SubscriptionOptions} from './session.js'
import {AckQueue, type AckTarget} from './ack-queue.js'
import {DeferredDeliveries} from './deferred-deliveries.js'
import {OutboundState, type BrokerStore, type StoredSession, type StoredSessionState, type StoredWill} from './store/types.js'

const NEVER_EXPIRES = 0xffff_ffff

/** The engine as Persistence reaches it (Broker implements it): where sessions are restored to. */
export interface PersistenceHost extends SessionHost {
  readonly options: BrokerOptions
  readonly sessions: Map<string, Session>
  readonly retained: RetainedMessages
  readonly router: Router
  publishWill(client: ClientInfo, will: WillMessage): void
  scheduleExpiry(session: Session, ms?: number): void
  scheduleWill(session: Session, will: WillMessage, ms?: number): void
}

/**
 * The engine's side of a store: mirrors every change of durable state into it, holds QoS 1/2
 * acknowledgements (and SUBACK, UNSUBACK, PUBCOMP) until the writes they confirm are committed, and
 * rebuilds sessions and retained messages at start-up.
 *
 * Only sessions that outlive their connection (expiry interval > 0) are stored. The writes of one
 * event-loop turn share one commit (store.durable()), and the acknowledgements waiting for it are
 * sent in the order they were made [MQTT-4.6.0-2].
 */
export class Persistence implements SessionJournal {
  /** Store ids of the deliveries that are stored (a Delivery belongs to one session). */
  private readonly ids = new WeakMap<Delivery, number>()
  /** The last record written for each stored session. */
  private readonly records = new Map<string, StoredSession>()
  /** Acknowledgements waiting for their commit (or for their message to be delivered). */
  readonly acks: AckQueue

  /**
   * QoS 1/2 deliveries sent to connected clients and not yet handed to the store: most are acknowledged
   * before the next commit and then never need to be written (see writeDeferred).
   */
  private readonly deferred = new DeferredDeliveries()

  constructor(private readonly broker: PersistenceHost, readonly store: BrokerStore) {
    this.acks = new AckQueue(store, broker.options.logger, () => this.writeDeferred(), undefined, broker.options.timers)
  }

  /** Hands the deferred deliveries to the store, in the order they were sent: before any commit is asked for. */
  writeDeferred(): void {
    if (this.deferred.size === 0) return
    this.deferred.drain((d, w) => {
      // a session that ended meanwhile took its deliveries with it
      if (this.broker.sessions.get(w.session.clientId) !== w.session || !this.records.has(w.session.clientId)) return
      this.ids.set(d, this.store.enqueue(w.session.clientId, {
        message: d.message, qos: d.qos, retain: d.retain, state: w.state, packetId: w.packetId, dup: false,
        subscriptionIds: d.subscriptionIds, sharedGroup: d.sharedGroup,
      }))
    })
  }

  private now(): number {
    return this.broker.options.timers.now()
  }

  // --- sessions ------------------------------------------------------------------------------------

  /** A connection took the session: stored without deadline (it does not expire while connected), or dropped from the store. */
  attached(session: Session): void {
    if (session.expiryInterval > 0) this.record(session, undefined, undefined)
    else this.ended(session)
  }

  /** The connection is gone and the session stays: stored with its deadline and any will still to come. */
  detached(session: Session): void {
    if (session.expiryInterval === 0 || !this.broker.sessions.has(session.clientId)) return
    const now = this.now()
    const deadline = session.expiryInterval === NEVER_EXPIRES ? undefined : now + session.expiryInterval * 1000
    const will = session.pendingWill
    const delay = will?.properties?.willDelayInterval
    this.record(session, deadline, will === undefined ? undefined : storedWill(will, delay === undefined ? undefined : now + delay * 1000))
  }

  /** A delayed will went out: it is no longer stored with the session. */
  willSent(session: Session): void {
    const last = this.records.get(session.clientId)
    if (last?.will === undefined) return
    const {will: _w, ...rest} = last
    this.records.set(session.clientId, rest)
    this.store.upsertSession(rest)
  }

  ended(session: Session): void {
    if (this.records.delete(session.clientId)) this.store.deleteSession(session.clientId)
  }

  private record(session: Session, expiresAt: number | undefined, will: StoredWill | undefined): void {
    const c = session.client
    const record: StoredSession = {
      clientId: session.clientId, protocolVersion: c.protocolVersion, expiryInterval: session.expiryInterval,
      ...(c.username === undefined ? {} : {username: c.username}),
      ...(expiresAt === undefined ? {} : {expiresAt}),
      ...(will === undefined ? {} : {will}),
    }
    this.records.set(session.clientId, record)
    this.store.upsertSession(record)
  }

  // --- SessionJournal ------------------------------------------------------------------------------

  queued(session: Session, d: Delivery): void {
    if (session.expiryInterval === 0) return
    if (session.link !== undefined && this.acks.counts(d.message)) {
      // a QoS 1 PUBLISH queued behind a connected client's full in-flight window goes out as soon as
      // earlier ones are acknowledged: deferred like a delivery in flight (most never need writing), and
      // made durable, in its current state, by the commit its waiting PUBACK starts if it takes long
      this.acks.stored(d.message, false)
      this.deferred.add(d, session, d.packetId ?? 0, OutboundState.Queued)
      return
    }
    this.acks.stored(d.message, true)
    this.ids.set(d, this.store.enqueue(session.clientId, {
      message: d.message, qos: d.qos, retain: d.retain, state: OutboundState.Queued, packetId: d.packetId ?? 0, dup: false,
      subscriptionIds: d.subscriptionIds, sharedGroup: d.sharedGroup,
    }))
  }

  inflight(session: Session, d: Delivery, packetId: number, flight: Flight): void {
    const state = flight === Flight.WaitPubcomp ? OutboundState.Pubrel : OutboundState.Publish
    const id = this.ids.get(d)
    if (id !== undefined) return this.store.updateOutbound(id, {state, packetId})
    if (session.expiryInterval === 0) return
    const deferred = this.deferred.get(d)
    if (deferred !== undefined) {
      deferred.state = state
      deferred.packetId = packetId
      return
    }
    this.acks.stored(d.message, false)
    this.deferred.add(d, session, packetId, state)
  }

  done(_session: Session, d: Delivery): void {
    if (this.deferred.delete(d)) return this.acks.delivered(d.message)
    const id = this.ids.get(d)
    if (id === undefined) return
    this.ids.delete(d)
    this.store.removeOutbound(id)
    this.acks.delivered(d.message)
  }

  subscribed(session: Session, filter: string, options: SubscriptionOptions | undefined): void {
    if (session.expiryInterval === 0) return
    if (options === undefined) this.store.removeSubscription(session.clientId, filter)
    else this.store.addSubscription(session.clientId, filter, options)
  }

  inbound(session: Session, packetId: number, held: boolean): void {
    if (session.expiryInterval === 0) return
    if (held) this.store.addInboundQos2(session.clientId, packetId)
    else this.store.removeInboundQos2(session.clientId, packetId)
  }

  // --- retained (RetainedMessages' journal) --------------------------------------------------------

  // $SYS/... values are the broker's own, republished every sys_interval: not stored (nor by Mosquitto)
  set(message: Message): void {
    if (!message.topic.startsWith('$SYS/')) this.store.setRetained(message)
  }

  delete(topic: string): void {
    if (!topic.startsWith('$SYS/')) this.store.deleteRetained(topic)
  }

  // --- acknowledgements ----------------------------------------------------------------------------

  /** Sends an acknowledgement once the state it confirms is durable (see AckQueue). */
  reply(conn: AckTarget, packet: Packet, message?: Message): void {
    // the store failed (a cluster node whose Redis is away): a SUBACK or UNSUBACK of a session that is
    // not stored confirms nothing that a commit would keep, and goes now instead of failing with it
    if (this.store.failure !== undefined && (packet.cmd === 'suback' || packet.cmd === 'unsuback') && !this.records.has(conn.clientId)) {
      return conn.send(packet)
    }
    this.acks.reply(conn, packet, message)
  }

  // --- start-up ------------------------------------------------------------------------------------

  /**
   * Loads the store into the broker: drops what expired while it was down (publishing the wills of
   * expired sessions), then restores retained messages and sessions, disconnected, with their
   * expiry and will timers counting from their stored deadlines.
   */
  async restore(): Promise<void> {
    const {broker, store} = this
    const now = this.now()
    const expired = await store.expireSessions(now)
    await store.expireMessages(now)
    await store.expireRetained(now)
    for (const m of await store.loadRetained()) broker.retained.restore(m)
    for (const state of await store.loadSessions()) this.restoreSession(state, now)
    for (const s of expired) if (s.will !== undefined) broker.publishWill(clientInfo(s), willMessage(s.will))
    await store.flush()
  }

  /** A session moved here from another broker sharing the store (SessionDirectory): restored offline. */
  adopt(state: StoredSessionState): void {
    this.restoreSession(state, this.now())
  }

  /** A session moved to another broker: what it had in flight is handed to the store, and it is no longer tracked here. */
  released(session: Session): void {
    this.writeDeferred()
    this.records.delete(session.clientId)
  }

  /**
   * Writes the whole durable state of every session held here to the store again, as if it were new:
   * for a store that was reset after its backend came back (a cluster node after a Redis outage, see
   * BufferedStore.resetIndex). Deliveries in flight or queued get new store ids. Returns what it wrote.
   */
  rewrite(): {sessions: number; messages: number} {
    let sessions = 0
    let messages = 0
    for (const session of this.broker.sessions.values()) {
      const record = this.records.get(session.clientId)
      if (record === undefined) continue // not stored: it does not outlive its connection
      sessions++
      const c = session.clientId
      this.store.upsertSession(record)
      for (const [filter, options] of session.subscriptions) this.store.addSubscription(c, filter, options)
      for (const packetId of session.inboundQos2) this.store.addInboundQos2(c, packetId)
      const inflight = new Set<Delivery>()
      const write = (d: Delivery, state: OutboundState, packetId: number): void => {
        this.deferred.delete(d)
        this.ids.set(d, this.store.enqueue(c, {
          message: d.message, qos: d.qos, retain: d.retain, state, packetId, dup: false,
          subscriptionIds: d.subscriptionIds, sharedGroup: d.sharedGroup,
        }))
        messages++
      }
      for (const e of session.inflight.values()) {
        inflight.add(e.delivery)
        write(e.delivery, e.state === Flight.WaitPubcomp ? OutboundState.Pubrel : OutboundState.Publish, e.packetId)
      }
      session.forEachUndelivered((d) => { if (!inflight.has(d)) write(d, OutboundState.Queued, d.packetId ?? 0) })
    }
    return {sessions, messages}
  }

  private restoreSession(state: StoredSessionState, now: number): void {
    const {broker} = this
    const s = state.session
    const session = new Session(s.clientId, clientInfo(s), broker)
    session.journal = this
    session.expiryInterval = s.expiryInterval
    broker.sessions.set(s.clientId, session)
    for (const [filter, options] of state.subscriptions) broker.router.subscribe(session, filter, {...options})
    for (const id of state.inboundQos2) session.holdInbound(id)
    for (const o of state.outbound) {
      const d: Delivery = {
        message: o.message, qos: o.qos, retain: o.retain,
        subscriptionIds: o.subscriptionIds === undefined ? undefined : [...o.subscriptionIds], sharedGroup: o.sharedGroup,
      }
      this.ids.set(d, o.id)
      const flight = o.state === OutboundState.Queued ? undefined
        : o.state === OutboundState.Pubrel ? Flight.WaitPubcomp : o.qos === 1 ? Flight.WaitPuback : Flight.WaitPubrec
      session.restore(d, o.packetId, flight)
    }
    // a session whose client was connected when the broker stopped starts its expiry now
    const expiresAt = s.expiresAt ?? (s.expiryInterval === NEVER_EXPIRES ? undefined : now + s.expiryInterval * 1000)
    const will = s.will === undefined ? undefined : willMessage(s.will)
    this.records.set(s.clientId, s)
    if (expiresAt !== s.expiresAt) this.record(session, expiresAt, s.will)
    if (expiresAt !== undefined) broker.scheduleExpiry(session, Math.max(0, expiresAt - now))
    if (will !== undefined) {
      session.pendingWill = will
      if (s.will!.publishAt !== undefined) broker.scheduleWill(session, will, Math.max(0, s.will!.publishAt - now))
    }
  }
}

function clientInfo(s: StoredSession): ClientInfo {
  return {clientId: s.clientId, username: s.username, protocolVersion: s.protocolVersion}
}

function storedWill(will: WillMessage, publishAt: number | undefined): StoredWill {
  return {
    topic: will.topic, payload: Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload),
    qos: will.qos ?? 0, retain: will.retain ?? false,
    ...(will.properties === undefined ? {} : {properties: will.properties}),
    ...(publishAt === undefined ? {} : {publishAt}),
  }
}

function willMessage(w: StoredWill): WillMessage {
  return {topic: w.topic, payload: w.payload, qos: w.qos, retain: w.retain, ...(w.properties === undefined ? {} : {properties: w.properties})}
}
