// What the packet handlers see: the connection (HandlerContext, ConnectedContext once a session is
// attached) and, through it, the engine (ConnectionHost). Interfaces only, as Session reaches its owner
// only through SessionHost/SessionLink: the handlers import neither Connection nor Broker, so the
// import graph has no cycle through them.
import type {InboundAliases, Packet, ProtocolVersion, SharedParsers, WillMessage} from '../../codec/index.js'
import type {ClientInfo, ControlHandler} from '../auth/hooks.js'
import type {ConnState, PeerLimits} from '../conn-state.js'
import type {EnhancedAuth} from '../enhanced-auth.js'
import type {BrokerEvents, TypedEmitter} from '../events.js'
import type {ListenerLink} from '../listeners/link.js'
import type {Message} from '../message.js'
import type {Metrics} from '../metrics.js'
import type {BrokerOptions} from '../options.js'
import type {RouteResult, Router} from '../router.js'
import type {Delivery, DropReason, Session, SessionLink, SubscriptionOptions} from '../session.js'
import type {Persistence} from '../persistence.js'
import type {OutboundAliases} from '../topic-alias.js'
import type {Watchdog} from '../watchdog.js'
import type {WriteBatch} from '../write-batch.js'

/** The engine as connections and handlers reach it (Broker implements it). */
export interface ConnectionHost {
  readonly options: BrokerOptions
  readonly metrics: Metrics
  readonly events: TypedEmitter<BrokerEvents>
  readonly router: Router
  /** Handlers of `$CONTROL/...` topics. */
  readonly control: ReadonlyMap<string, ControlHandler>
  readonly enhancedAuth: EnhancedAuth
  readonly persistence: Persistence | undefined
  readonly watchdog: Watchdog
  readonly writes: WriteBatch
  /** The mqtt-packet parsers every connection's decoder shares (codec/decoder.ts). */
  readonly parsers: SharedParsers
  publish(message: Message, result?: RouteResult): number
  sendRetained(session: Session, filter: string, options: SubscriptionOptions): void
  capSessionExpiry(seconds: number): number
  /** Takes over any live connection of the client, then resumes or creates its session (the caller then calls becomeConnected). */
  attach(conn: HandlerContext, clientId: string, cleanStart: boolean, expiry: number): {session: Session; present: boolean}
  /** In a cluster (options.sessions): takes the client's session from wherever it is, before attach. */
  claimSession(conn: HandlerContext, cleanStart: boolean, expiry: number, will: WillMessage | undefined): Promise<void>
  connected(conn: HandlerContext, sessionPresent: boolean, keepalive: number, cleanStart: boolean): void
  detach(conn: HandlerContext, wasConnected: boolean, sendWill: boolean, reason: string): void
  dropped(session: Session | undefined, d: Delivery, reason: DropReason): void
  internalError(error: unknown, context: {clientId?: string; packet?: string; during: string}): void
}

/** What CONNECT settles once it is accepted (Connection.becomeConnected). */
export interface Accepted {
  session: Session
  will: WillMessage | undefined
  outboundAliases: OutboundAliases | undefined
}

/**
 * A connection as its handlers see it. Its fields are read-only here: the connection changes its own
 * state through the named transitions below, and nothing else writes to it.
 */
export interface HandlerContext extends SessionLink {
  readonly broker: ConnectionHost
  readonly state: ConnState
  readonly version: ProtocolVersion
  readonly isBridge: boolean
  readonly clientId: string
  readonly username: string | undefined
  readonly session: Session | undefined
  readonly will: WillMessage | undefined
  readonly peer: PeerLimits
  readonly authMethod: string | undefined
  readonly certifiedUsername: string | undefined
  readonly certificateSubject: string | undefined
  readonly internal: boolean
  readonly listener: ListenerLink | undefined
  readonly remoteAddress: string | undefined
  readonly clientInfo: ClientInfo
  readonly closedSignal: AbortSignal

  // --- transitions (the connection's own state, see ARCHITECTURE.md's state diagram) ---
  /** CONNECT named the protocol level (and, v3, the bridge bit): packets are parsed and encoded with it from now on. */
  setVersion(version: ProtocolVersion, isBridge?: boolean): void
  /** The maximum packet size we announce to this client. */
  setMaxPacketSize(bytes: number): void
  /** What the client announced about itself in CONNECT. */
  setPeer(peer: PeerLimits): void
  /** AwaitingConnect -> Authenticating: an enhanced authentication exchange with this method. */
  beginAuthentication(method: string): void
  /** The client's identity, once authenticated (before its session is attached). */
  identify(clientId: string, username: string | undefined): void
  /** A re-authentication named another user. */
  reauthenticated(username: string): void
  /** -> Connected, with its session attached. */
  becomeConnected(accepted: Accepted): void
  /** Hands over the will for publication at close, once: the connection no longer holds it. */
  takeWill(): WillMessage | undefined
  /** The client's inbound topic aliases (v5), created on first use. */
  inboundAliasTable(): InboundAliases
  /** CONNECT arrived: the connect timeout no longer applies. */
  connectReceived(): void
  startKeepalive(seconds: number): void

  // --- output and ending ---
  /** Writes encoded bytes (held to the end of the iteration unless `hold` is false); never changes them. */
  write(bytes: Buffer, hold?: boolean): void
  send(packet: Packet, hold?: boolean): void
  sendAck(packet: Packet, message?: Message): void
  problem(reason: string): {reasonString: string} | undefined
  disconnect(reasonCode: number, reason: string, sendWill?: boolean): void
  close(sendWill: boolean, reason: string): void
}

/** A connection in state Connected: its session is attached. */
export interface ConnectedContext extends HandlerContext {
  readonly session: Session
}
