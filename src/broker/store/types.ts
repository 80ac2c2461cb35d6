/*
 * What a durable broker keeps: retained messages, and per session its record (expiry, will),
 * subscriptions, outbound QoS 1/2 messages (queued and in flight) and inbound QoS 2 packet ids
 * awaiting PUBREL.
 *
 * Writes are synchronous and only buffered; nothing is durable until a flush commits them, all
 * together, as one transaction (at the latest 100 ms after the first of them, when nobody asked for a
 * commit earlier). The engine writes as it goes through an event-loop turn and acknowledges a QoS 1/2
 * PUBLISH once `durable()` resolves: every write of the turn then shares one commit. Reads (load, expiry sweeps) are async so a networked store can implement them.
 *
 * Times are absolute deadlines in ms since the epoch (the engine's clock), so expiry keeps counting
 * across a restart.
 */
import type {ProtocolVersion, QoS, WillMessage} from '../../codec/index.js'
import type {Message} from '../message.js'

/** A message as stored: the engine's Message without its cached encodings. */
export type StoredMessage = Omit<Message, 'encoded' | 'ack'>

export type WillProperties = NonNullable<WillMessage['properties']>

/** A will kept with its session: pending past the connection (Will Delay Interval, or at session end). */
export interface StoredWill {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: QoS
  readonly retain: boolean
  readonly properties?: WillProperties
  /** Absolute deadline (ms) at which a delayed will is published; undefined: at session end. */
  readonly publishAt?: number
}

export interface StoredSession {
  readonly clientId: string
  readonly protocolVersion: ProtocolVersion
  readonly username?: string
  /** Session Expiry Interval in seconds (0xFFFFFFFF: never). */
  readonly expiryInterval: number
  /** Absolute deadline (ms) after which the session is gone; undefined while connected or if it never expires. */
  readonly expiresAt?: number
  readonly will?: StoredWill
}

export interface StoredSubscriptionOptions {
  readonly qos: QoS
  readonly noLocal: boolean
  readonly retainAsPublished: boolean
  readonly retainHandling: 0 | 1 | 2
  readonly subscriptionId?: number
}

/** Where an outbound message is: waiting to be sent, sent and awaiting PUBACK/PUBREC, or PUBREL sent awaiting PUBCOMP. */
export const OutboundState = {Queued: 0, Publish: 1, Pubrel: 2} as const
export type OutboundState = (typeof OutboundState)[keyof typeof OutboundState]

/** One message on its way to one session. */
export interface OutboundRecord {
  /** Shared by every session it goes to: stores keep one copy per message object. */
  readonly message: StoredMessage
  /** QoS and retain flag it is delivered with. */
  readonly qos: QoS
  readonly retain: boolean
  readonly state: OutboundState
  /** 0 while queued. */
  readonly packetId: number
  readonly dup: boolean
  readonly subscriptionIds?: readonly number[]
  readonly sharedGroup?: string
}

export interface StoredOutbound extends OutboundRecord {
  /** Assigned by the store at enqueue; ascending in enqueue order. */
  readonly id: number
}

export type OutboundChange = Partial<Pick<OutboundRecord, 'state' | 'packetId' | 'dup'>>

/** Everything a session had, as loaded at start-up. */
export interface StoredSessionState {
  readonly session: StoredSession
  readonly subscriptions: ReadonlyMap<string, StoredSubscriptionOptions>
  /** In enqueue order (in-flight ones first, as they were sent first). */
  readonly outbound: readonly StoredOutbound[]
  readonly inboundQos2: readonly number[]
}

/** Buffered writes and their commit. */
export interface Transactional {
  /** Writes buffered since the last commit. */
  readonly pending: number
  /** Commits every buffered write as one transaction; resolves once it is durable. */
  flush(): Promise<void>
  /**
   * Resolves once every write made so far is durable. The commit happens at the end of the current
   * event-loop turn (setImmediate), shared by all callers of the turn.
   */
  durable(): Promise<void>
  /** Flushes (unless `discard`: buffered writes are dropped, as in a crash) and closes. */
  close(options?: {discard?: boolean}): Promise<void>
  /** The commit that failed, after which nothing more is committed (until a cluster node's recovery). */
  readonly failure?: Error
}

export interface SessionStore extends Transactional {
  /** Creates or replaces a session record (its subscriptions and messages are kept). */
  upsertSession(session: StoredSession): void
  /** Removes a session with its subscriptions, messages and inbound ids. */
  deleteSession(clientId: string): void
  /** Adds or replaces a subscription. */
  addSubscription(clientId: string, filter: string, options: StoredSubscriptionOptions): void
  removeSubscription(clientId: string, filter: string): void
  /** Appends a message to a session's outbound list; returns its id. */
  enqueue(clientId: string, record: OutboundRecord): number
  /** Moves an outbound message along its flow (unknown ids are ignored). */
  updateOutbound(id: number, change: OutboundChange): void
  /** Removes an outbound message (unknown ids are ignored). */
  removeOutbound(id: number): void
  addInboundQos2(clientId: string, packetId: number): void
  removeInboundQos2(clientId: string, packetId: number): void
  /** Every stored session with its state. */
  loadSessions(): Promise<StoredSessionState[]>
  /** Removes (and commits the removal of) the sessions whose deadline is at or before `now`; returns them, for their wills. */
  expireSessions(now: number): Promise<StoredSession[]>
  /** Removes queued (never sent) messages whose expiry deadline is at or before `now` [MQTT-3.3.2-5]; returns how many. */
  expireMessages(now: number): Promise<number>
}

export interface RetainedStore extends Transactional {
  /** Stores the retained message of its topic (replacing any). */
  setRetained(message: StoredMessage): void
  deleteRetained(topic: string): void
  loadRetained(): Promise<StoredMessage[]>
  /** Removes retained messages whose expiry deadline is at or before `now`; returns how many. */
  expireRetained(now: number): Promise<number>
}

/** Both, sharing one transaction per flush. */
export interface BrokerStore extends SessionStore, RetainedStore {}
