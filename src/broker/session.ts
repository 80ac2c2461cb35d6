import {PacketIdAllocator, type QoS, type WillMessage} from '../codec/index.js'
import type {ClientInfo} from './auth/hooks.js'
import {isExpired, messageBytes, type Message} from './message.js'

/** One message on its way to one session, at the QoS and retain flag it is delivered with. */
export interface Delivery {
  readonly message: Message
  readonly qos: QoS
  readonly retain: boolean
  /** v5 Subscription Identifiers of the subscriptions it matched. */
  readonly subscriptionIds?: number[]
  /** The shared subscription (`$share/{group}/{filter}`) it was sent through, if any: for redelivery to another member. */
  readonly sharedGroup?: string
  /**
   * The packet id a queued QoS 1/2 message was given when it was queued (as Mosquitto does), kept
   * through a restart and used when it is sent.
   */
  packetId?: number
  /** With persistence on: how it is to be stored while its write is deferred (Persistence's own; see DeferredDeliveries). */
  deferral?: unknown
}

/** Where an outbound QoS 1/2 message is in its flow. */
export const Flight = {WaitPuback: 1, WaitPubrec: 2, WaitPubcomp: 3} as const
export type Flight = (typeof Flight)[keyof typeof Flight]

export interface InflightEntry {
  readonly delivery: Delivery
  readonly packetId: number
  state: Flight
}

export interface SubscriptionOptions {
  qos: QoS
  noLocal: boolean
  retainAsPublished: boolean
  retainHandling: 0 | 1 | 2
  subscriptionId?: number
}

/** What a session needs from the live connection it is attached to. */
export interface SessionLink {
  /** Whether the socket can take more right now (false: slow reader). */
  readonly writable: boolean
  /** Largest number of QoS 1/2 messages in flight (the peer's Receive Maximum and ours). */
  readonly inflightWindow: number
  sendPublish(delivery: Delivery, packetId: number, dup: boolean): void
  sendPubrel(packetId: number): void
}

export interface SessionLimits {
  maxQueuedMessages: number
  maxQueuedBytes: number
  /** Payload bytes in flight (0 = no limit): see BrokerOptions.maxInflightBytes. */
  maxInflightBytes: number
}

/** What every session shares (the broker): its limits, the clock, and where drops are counted. */
export interface SessionHost {
  readonly options: SessionLimits
  now(): number
  dropped(session: Session, delivery: Delivery, reason: DropReason): void
  /**
   * Whether the session's client may still read a message that waited (queued, or in flight across a
   * reconnect): read access is checked again when it is sent, as Mosquitto does, so an ACL reload
   * also covers what was already queued.
   */
  mayDeliver(session: Session, delivery: Delivery): boolean
  /** Whether the session's client may read a message offered now (the same check; an exception is the caller's). */
  mayRead(session: Session, delivery: Delivery): boolean
  /** An exception while offering a delivery: reported, and the delivery counted as failed. */
  deliveryFailed(session: Session, delivery: Delivery, error: unknown): void
}

const NO_SUBSCRIPTIONS: ReadonlyMap<string, SubscriptionOptions> = new Map()
const NOTHING_IN_FLIGHT: ReadonlyMap<number, InflightEntry> = new Map()
const NO_IDS: ReadonlySet<number> = new Set()
const NO_QUEUE: Delivery[] = []

/** A timer that re-arms itself past setTimeout's limit; `t` is the current handle. */
export interface LongTimer {
  t: unknown
}

/**
 * Told of every change to a session's durable state: its outbound messages, subscriptions and inbound
 * QoS 2 ids (persistence.ts keeps a store in step with it).
 */
export interface SessionJournal {
  queued(session: Session, d: Delivery): void
  /** Sent (or resent) with a packet id, or moved on to PUBREL (WaitPubcomp). */
  inflight(session: Session, d: Delivery, packetId: number, state: Flight): void
  /** Acknowledged, dropped or handed to another session. */
  done(session: Session, d: Delivery): void
  /** Subscribed (options) or unsubscribed (undefined). */
  subscribed(session: Session, filter: string, options: SubscriptionOptions | undefined): void
  /** An inbound QoS 2 packet id held until PUBREL, or released. */
  inbound(session: Session, packetId: number, held: boolean): void
}

export type DropReason = 'queue-full' | 'slow-reader' | 'expired' | 'offline-qos0' | 'too-large' | 'no-packet-id' | 'session-ended' |
  'delivery-failed' | 'not-authorized'

/**
 * What survives reconnects: subscriptions, the outbound inflight window and queue, inbound QoS 2
 * packet ids awaiting PUBREL, the will and the expiry interval. [MQTT-4.1.0-1]
 */
export class Session {
  link: SessionLink | undefined
  // made on first use: an idle client's session holds none of them
  private subs: Map<string, SubscriptionOptions> | undefined
  private flights: Map<number, InflightEntry> | undefined
  private inboundIds: Set<number> | undefined
  private ids: PacketIdAllocator | undefined
  private queue: Delivery[] = NO_QUEUE
  private queueHead = 0
  queuedBytes = 0
  /** Payload bytes of the outbound QoS 1/2 messages in flight (for maxInflightBytes). */
  inflightBytes = 0
  /** Seconds the session outlives its connection (0xFFFFFFFF: never expires). */
  expiryInterval = 0
  /** A will waiting for its delay or for the session to end. */
  pendingWill: WillMessage | undefined
  willTimer: LongTimer | undefined
  expiryTimer: LongTimer | undefined
  /** Where changes of durable state are reported (persistence on). */
  journal: SessionJournal | undefined

  constructor(
    readonly clientId: string,
    /** Who owns the session (for wills and per-message authorization); updated on every connect. */
    public client: ClientInfo,
    private readonly host: SessionHost,
  ) {}

  get queued(): number { return this.queue.length - this.queueHead }

  /** Topic filter -> options (change them through the Router). */
  get subscriptions(): ReadonlyMap<string, SubscriptionOptions> { return this.subs ?? NO_SUBSCRIPTIONS }

  /** Sets a subscription; true if the filter is new to the session. */
  setSubscription(filter: string, options: SubscriptionOptions): boolean {
    const subs = (this.subs ??= new Map())
    const isNew = !subs.has(filter)
    subs.set(filter, options)
    return isNew
  }

  /** Removes a subscription; false if there was none. */
  deleteSubscription(filter: string): boolean {
    return this.subs?.delete(filter) ?? false
  }

  /** Outbound QoS 1/2 messages by packet id, in the order sent. */
  get inflight(): ReadonlyMap<number, InflightEntry> { return this.flights ?? NOTHING_IN_FLIGHT }

  /** Inbound QoS 2 packet ids received and not yet released by PUBREL. */
  get inboundQos2(): ReadonlySet<number> { return this.inboundIds ?? NO_IDS }

  /** Holds an inbound QoS 2 packet id until PUBREL. */
  holdInbound(packetId: number): void { (this.inboundIds ??= new Set()).add(packetId) }

  /** Releases an inbound QoS 2 packet id; false if it was not held. */
  releaseInbound(packetId: number): boolean { return this.inboundIds?.delete(packetId) ?? false }

  /** Outbound packet ids. */
  get packetIds(): PacketIdAllocator { return (this.ids ??= new PacketIdAllocator()) }

  private now(): number { return this.host.now() }

  /** The queue, made on the first message (the shared empty one is never written to). */
  private queueForPush(): Delivery[] {
    if (this.queue === NO_QUEUE) this.queue = []
    return this.queue
  }

  private onDrop(d: Delivery, reason: DropReason): void { this.host.dropped(this, d, reason) }

  /**
   * Offers one message to this session: sent now, queued, or dropped (and counted). Returns false only
   * when it was dropped for the session's quota (a full queue). Read access is decided here first
   * (SessionHost.mayRead); a hook or delivery that throws costs this one delivery, never the others.
   */
  deliver(d: Delivery): boolean {
    try {
      return this.host.mayRead(this, d) ? this.offer(d) : true
    } catch (error) {
      this.host.deliveryFailed(this, d, error)
      return true
    }
  }

  private offer(d: Delivery): boolean {
    const link = this.link
    if (d.qos === 0) {
      // QoS 0 is never queued for offline clients (Mosquitto's queue_qos0_messages false) nor for slow readers
      if (link === undefined) this.onDrop(d, 'offline-qos0')
      else if (!link.writable) this.onDrop(d, 'slow-reader')
      else link.sendPublish(d, 0, false)
      return true
    }
    if (link !== undefined && this.queued === 0 && link.writable && this.hasRoomInFlight(link)) {
      this.sendInflight(link, d)
      return true
    }
    return this.enqueue(d)
  }

  private enqueue(d: Delivery): boolean {
    const bytes = messageBytes(d.message)
    // expired messages make room before anything new is refused
    if (this.isFull(bytes) && (this.dropExpired() === 0 || this.isFull(bytes))) {
      this.onDrop(d, 'queue-full')
      return false
    }
    if (d.qos > 0) d.packetId = this.packetIds.allocate() // none left: one is taken when it is sent
    this.queueForPush().push(d)
    this.queuedBytes += bytes
    this.journal?.queued(this, d)
    return true
  }

  /** A queued delivery leaves without being sent: its packet id is free again. */
  private unqueued(d: Delivery): void {
    if (d.packetId !== undefined) this.ids?.release(d.packetId)
  }

  private isFull(bytes: number): boolean {
    const {maxQueuedMessages, maxQueuedBytes} = this.host.options
    return (maxQueuedMessages > 0 && this.queued >= maxQueuedMessages) ||
      (maxQueuedBytes > 0 && this.queuedBytes + bytes > maxQueuedBytes)
  }

  /** Removes the queued messages whose Message Expiry Interval has passed [MQTT-3.3.2-5]; returns how many. */
  private dropExpired(): number {
    const now = this.now()
    const kept: Delivery[] = []
    let dropped = 0
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const d = this.queue[i]!
      if (!isExpired(d.message, now)) { kept.push(d); continue }
      this.queuedBytes -= messageBytes(d.message)
      this.unqueued(d)
      this.journal?.done(this, d)
      this.onDrop(d, 'expired')
      dropped++
    }
    if (dropped > 0) {
      this.queue = kept
      this.queueHead = 0
    }
    return dropped
  }

  /** The in-flight window (messages, and bytes when limited) has room for one more. */
  private hasRoomInFlight(link: SessionLink): boolean {
    if (this.inflight.size >= link.inflightWindow) return false
    const maxBytes = this.host.options.maxInflightBytes
    return maxBytes === 0 || this.inflightBytes < maxBytes
  }

  private sendInflight(link: SessionLink, d: Delivery): void {
    const expired = isExpired(d.message, this.now())
    if (expired) this.unqueued(d)
    const packetId = expired ? -1 : d.packetId ?? this.packetIds.allocate()
    if (packetId === undefined || packetId < 0) {
      this.journal?.done(this, d)
      return this.onDrop(d, packetId === undefined ? 'no-packet-id' : 'expired')
    }
    const state = d.qos === 1 ? Flight.WaitPuback : Flight.WaitPubrec
    ;(this.flights ??= new Map()).set(packetId, {delivery: d, packetId, state})
    this.inflightBytes += d.message.payload.length
    this.journal?.inflight(this, d, packetId, state)
    link.sendPublish(d, packetId, false)
  }

  /** Puts back a message loaded from a store: queued (no state), or in flight with its packet id. */
  restore(d: Delivery, packetId: number, state: Flight | undefined): void {
    if (state !== undefined && packetId > 0 && this.packetIds.register(packetId)) {
      ;(this.flights ??= new Map()).set(packetId, {delivery: d, packetId, state})
      this.inflightBytes += d.message.payload.length
      return
    }
    // a queued message keeps the id it was given, unless another restored message holds it
    if (state === undefined && packetId > 0 && this.packetIds.register(packetId)) d.packetId = packetId
    this.queueForPush().push(d)
    this.queuedBytes += messageBytes(d.message)
  }

  /** Sends queued messages while the window and the socket allow. */
  pump(): void {
    const link = this.link
    if (link === undefined) return
    while (this.queueHead < this.queue.length && link.writable && this.hasRoomInFlight(link)) {
      const d = this.queue[this.queueHead]!
      this.queue[this.queueHead++] = undefined as unknown as Delivery
      this.queuedBytes -= messageBytes(d.message)
      if (this.host.mayDeliver(this, d)) this.sendInflight(link, d)
      else {
        this.unqueued(d)
        this.journal?.done(this, d)
        this.onDrop(d, 'not-authorized')
      }
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead)
      this.queueHead = 0
    }
    if (this.queueHead === this.queue.length && this.queueHead > 0) {
      this.queue.length = 0
      this.queueHead = 0
    }
  }

  /** On resume: resend unacknowledged PUBLISHes with DUP and PUBRELs, in order [MQTT-4.4.0-1]. */
  resend(): void {
    const link = this.link
    if (link === undefined) return
    for (const entry of this.inflight.values()) {
      if (entry.state === Flight.WaitPubcomp) link.sendPubrel(entry.packetId)
      else if (this.host.mayDeliver(this, entry.delivery)) link.sendPublish(entry.delivery, entry.packetId, true)
      else {
        this.complete(entry.packetId) // the flow ends here: no longer readable
        this.onDrop(entry.delivery, 'not-authorized')
      }
    }
  }

  /** Completes an outbound flow and frees its packet id; returns the entry if it was known. */
  complete(packetId: number): InflightEntry | undefined {
    const entry = this.flights?.get(packetId)
    if (entry === undefined) return undefined
    this.flights!.delete(packetId)
    this.inflightBytes -= entry.delivery.message.payload.length
    this.ids?.release(packetId)
    this.journal?.done(this, entry.delivery)
    return entry
  }

  /**
   * Offers this session's shared-subscription messages to another member of their group (see
   * Router.redeliver for the policy): queued ones of any QoS, and QoS 1 ones sent but not acknowledged.
   * A QoS 2 message already sent stays: it is completed with this client [MQTT-4.8.2-4] and never
   * sent to another [MQTT-4.8.2-5]. Each one the offer accepts leaves this session.
   */
  handOffShared(offer: (d: Delivery) => boolean): void {
    for (const [id, e] of this.inflight) {
      if (e.delivery.sharedGroup === undefined || e.state !== Flight.WaitPuback) continue
      if (offer(e.delivery)) this.complete(id)
    }
    let kept: Delivery[] | undefined
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const d = this.queue[i]!
      if (d.sharedGroup !== undefined && offer(d)) {
        kept ??= this.queue.slice(this.queueHead, i)
        this.queuedBytes -= messageBytes(d.message)
        this.unqueued(d)
        this.journal?.done(this, d)
      } else {
        kept?.push(d)
      }
    }
    if (kept !== undefined) {
      this.queue = kept
      this.queueHead = 0
    }
  }

  /** Every message not yet delivered (queued, or sent and not acknowledged). */
  forEachUndelivered(visit: (d: Delivery) => void): void {
    for (const e of this.inflight.values()) if (e.state !== Flight.WaitPubcomp) visit(e.delivery)
    for (let i = this.queueHead; i < this.queue.length; i++) visit(this.queue[i]!)
  }

  /** Drops the whole outbound state (clean start, session end). */
  clearOutbound(): void {
    this.flights?.clear()
    this.inflightBytes = 0
    this.ids?.clear()
    this.queue = NO_QUEUE
    this.queueHead = 0
    this.queuedBytes = 0
    this.inboundIds?.clear()
  }
}
