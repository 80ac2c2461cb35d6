import type {QoS} from '../codec/index.js'
import type {AuthHooks} from './auth/hooks.js'
import type {Authenticator} from './auth/authenticator.js'
import type {Logger} from './logger.js'
import type {Timers} from './timers.js'
import type {BrokerStore} from './store/types.js'
import type {SessionDirectory} from './session-directory.js'

/** Everything the engine can be told. The CLI resolves flags/env/file into one of these. */
export interface BrokerOptions {
  /**
   * Largest packet accepted, fixed header included (Mosquitto: max_packet_size). Default 2,000,000 as
   * in Mosquitto 2.1; PROTOCOL_MAX_PACKET_SIZE for no limit beyond the protocol's.
   */
  maxPacketSize: number
  /** Close sockets that have not sent CONNECT within this many ms. */
  connectTimeoutMs: number
  /** Per-session queue limits for messages waiting to be sent (Mosquitto: max_queued_messages / _bytes; 0 = no limit). */
  maxQueuedMessages: number
  maxQueuedBytes: number
  /** Outbound QoS 1/2 messages in flight per client (Mosquitto: max_inflight_messages), further capped by a v5 client's Receive Maximum. */
  maxInflightMessages: number
  /**
   * Bytes of outbound QoS 1/2 payload in flight per client: another message is sent while fewer are
   * (so one larger message still goes, alone). 0 = no limit (Mosquitto: max_inflight_bytes).
   */
  maxInflightBytes: number
  /** Deliver at the subscription's QoS even when the message's is lower (Mosquitto: upgrade_outgoing_qos; not MQTT-compliant). */
  upgradeOutgoingQos: boolean
  /** Inbound QoS 2 messages a client may have unreleased: announced as Receive Maximum to v5 clients. */
  receiveMaximum: number
  maxQos: QoS
  retainAvailable: boolean
  /** Largest topic alias a v5 client may send us (0 = aliases not accepted). */
  topicAliasMaximum: number
  /** Send topic aliases to v5 clients that accept them. */
  outboundTopicAliases: boolean
  /** Largest keepalive accepted from v5 clients; a larger (or 0) one is lowered and announced (Server Keep Alive). */
  maxKeepalive: number
  /** Cap on a v5 client's Session Expiry Interval, in seconds (undefined = no cap). */
  maxSessionExpiry?: number
  /** Expire persistent v3 sessions after this many seconds offline (Mosquitto: persistent_client_expiration; undefined = never). */
  persistentClientExpiration?: number
  wildcardSubscriptionAvailable: boolean
  subscriptionIdentifiersAvailable: boolean
  sharedSubscriptionAvailable: boolean
  /**
   * Response Information returned to v5 clients that ask for it (Request Response Information 1): a
   * topic prefix for their responses, where `%c` stands for the client id, e.g. `responses/%c/`
   * (undefined = not offered).
   */
  responseInformation?: string
  /** A connection whose unsent output exceeds this many bytes is a slow reader: QoS 0 is dropped, QoS 1/2 queued. */
  maxOutboundBufferBytes: number
  /**
   * Unsent output of all connections together: past it, every connection whose socket is backed up (the
   * kernel refused some of its bytes) is a slow reader until its socket drains; those the kernel keeps
   * up with are not held back. See write-batch.ts.
   */
  maxOutboundBufferBytesTotal: number
  /** Accept an empty client id (with clean session) and assign one. */
  allowZeroLengthClientId: boolean
  /** Prefix of assigned client ids (Mosquitto: auto_id_prefix). */
  autoIdPrefix: string
  /** Largest PUBLISH payload accepted, in bytes (Mosquitto: message_size_limit; 0 = no limit). A larger one is refused: v5 0x83, QoS 0 dropped. */
  messageSizeLimit: number
  /** Seconds between $SYS/broker/... updates, from the first listen() on (Mosquitto: sys_interval; 0 = none). */
  sysInterval: number
  /** The version $SYS/broker/version announces. */
  version: string
  logger: Logger
  timers: Timers
  auth: AuthHooks
  /** MQTT 5 enhanced authentication methods (AUTH exchanges), e.g. scramSha256({users}). */
  authenticators?: readonly Authenticator[]
  /**
   * Durable state (Mosquitto: persistence): sessions that outlive their connection and retained
   * messages are written to it, QoS 1/2 acknowledgements wait until they are durable, and
   * Broker.restore() loads it back. The caller opens and closes it.
   */
  store?: BrokerStore
  /**
   * Sessions shared with other brokers (a cluster, src/cluster): asked on every CONNECT before the
   * session is attached. Needs a store, which the sessions are loaded from and written to.
   */
  sessions?: SessionDirectory
}

/** Defaults follow Mosquitto 2's wherever Mosquitto has one. */
export const DEFAULT_OPTIONS: Readonly<Omit<BrokerOptions, 'logger' | 'timers' | 'auth'>> = Object.freeze({
  // Mosquitto 2.1's default: one client cannot make the broker hold hundreds of megabytes per packet
  maxPacketSize: 2_000_000,
  connectTimeoutMs: 10_000,
  maxQueuedMessages: 1000,
  maxQueuedBytes: 0,
  maxInflightMessages: 20,
  maxInflightBytes: 0,
  upgradeOutgoingQos: false,
  receiveMaximum: 20,
  maxQos: 2,
  retainAvailable: true,
  topicAliasMaximum: 10,
  outboundTopicAliases: false,
  maxKeepalive: 65_535,
  wildcardSubscriptionAvailable: true,
  subscriptionIdentifiersAvailable: true,
  sharedSubscriptionAvailable: true,
  // large enough for a fast subscriber behind a burst (the perf scenarios keep 50,000 deliveries of
  // 111 bytes outstanding), small enough that a stuck reader cannot grow the broker without limit
  maxOutboundBufferBytes: 16 * 1024 * 1024,
  // four stuck readers at their own limit; past it, queued QoS 1/2 deliveries share one copy of each message
  maxOutboundBufferBytesTotal: 64 * 1024 * 1024,
  allowZeroLengthClientId: true,
  autoIdPrefix: 'auto-',
  messageSizeLimit: 0,
  sysInterval: 0,
  version: 'unknown',
})
