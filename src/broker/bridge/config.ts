// A bridge's settings, with Mosquitto 2.0's defaults (src/conf.c, `connection`). The engine takes
// them resolved: TLS material already read, passwords as values. The mosquitto.conf reader and the
// `--bridge` flag build one of these.
import {hostname} from 'node:os'
import type {ConnectionOptions as TlsOptions} from 'node:tls'
import type {BridgeTopic} from './topics.js'

export interface BridgeAddress {
  host: string
  port: number
}

export type BridgeStartType = 'automatic' | 'lazy' | 'once'

export interface BridgeConfig {
  /** `connection NAME`. */
  name: string
  /** `address`: tried in order (see roundRobin). */
  addresses: BridgeAddress[]
  topics: BridgeTopic[]
  /** `bridge_protocol_version`: 3 (mqttv31), 4 (mqttv311, the default) or 5 (mqttv50). */
  protocolVersion: 3 | 4 | 5
  /** `remote_clientid` (default `HOSTNAME.NAME`). */
  remoteClientId: string
  /** `local_clientid` (default `local.REMOTE_CLIENTID`). */
  localClientId: string
  remoteUsername?: string
  remotePassword?: string
  localUsername?: string
  localPassword?: string
  /** `cleansession` (default false: the remote keeps the bridge's subscriptions and queued messages). */
  cleanSession: boolean
  /** `local_cleansession` (default: cleanSession): false keeps the local session, and the messages queued in it, across restarts. */
  localCleanSession: boolean
  /** `keepalive_interval`, seconds (default 60, at least 5). */
  keepalive: number
  /** `restart_timeout`: a constant delay in seconds, or the base and cap of a jittered backoff (default 5 and 30). */
  restartTimeout: {base: number; cap?: number}
  startType: BridgeStartType
  /** `idle_timeout`, seconds: a lazy bridge with no traffic for this long is stopped (default 60). */
  idleTimeout: number
  /** `threshold`: messages queued before a lazy bridge starts (default 10). */
  threshold: number
  /** `round_robin` (default false: the first address is the primary, retried while on another). */
  roundRobin: boolean
  /** `try_private` (default true): the bridge bit on a v3 CONNECT. */
  tryPrivate: boolean
  /** `notifications` (default true). */
  notifications: boolean
  /** `notification_topic` (default `$SYS/broker/connection/REMOTE_CLIENTID/state`). */
  notificationTopic: string
  notificationsLocalOnly: boolean
  /** `bridge_attempt_unsubscribe` (default true): UNSUBSCRIBE the remote topics of `out` lines. */
  attemptUnsubscribe: boolean
  /** `bridge_outgoing_retain` (default true): false clears the retain flag of messages sent to the remote. */
  outgoingRetain: boolean
  /** `bridge_max_packet_size` (0: no limit beyond the remote's). */
  maxPacketSize: number
  /** `bridge_bind_address`. */
  bindAddress?: string
  /** TLS to the remote (set when any bridge_cafile/capath/certfile/... is). */
  tls?: TlsOptions
}

/** What a caller must give; everything else takes Mosquitto's default. */
export type BridgeInput = Pick<BridgeConfig, 'name' | 'addresses' | 'topics'> & Partial<Omit<BridgeConfig, 'name' | 'addresses' | 'topics'>>

/** Fills in Mosquitto's defaults (client ids from the host name, the notification topic from the remote id). */
export function resolveBridge(input: BridgeInput, host = hostname()): BridgeConfig {
  if (input.addresses.length === 0) throw new TypeError(`bridge ${input.name}: no address`)
  if (input.topics.length === 0) throw new TypeError(`bridge ${input.name}: no topic`)
  const remoteClientId = input.remoteClientId ?? `${host}.${input.name}`
  const cleanSession = input.cleanSession ?? false
  return {
    ...input,
    protocolVersion: input.protocolVersion ?? 4,
    remoteClientId,
    localClientId: input.localClientId ?? `local.${remoteClientId}`,
    cleanSession,
    localCleanSession: input.localCleanSession ?? cleanSession,
    keepalive: Math.max(5, input.keepalive ?? 60),
    restartTimeout: input.restartTimeout ?? {base: 5, cap: 30},
    startType: input.startType ?? 'automatic',
    idleTimeout: input.idleTimeout ?? 60,
    threshold: Math.max(1, input.threshold ?? 10),
    roundRobin: input.roundRobin ?? false,
    tryPrivate: input.tryPrivate ?? true,
    notifications: input.notifications ?? true,
    notificationTopic: input.notificationTopic ?? `$SYS/broker/connection/${remoteClientId}/state`,
    notificationsLocalOnly: input.notificationsLocalOnly ?? false,
    attemptUnsubscribe: input.attemptUnsubscribe ?? true,
    outgoingRetain: input.outgoingRetain ?? true,
    maxPacketSize: input.maxPacketSize ?? 0,
  }
}

/**
 * The delay before the next connection attempt, in ms. A constant restart_timeout is used as is; a
 * base and cap give Mosquitto's "decorrelated jitter": a random delay between the base and three
 * times the previous one, at most the cap.
 */
export function nextRestartDelay(timeout: BridgeConfig['restartTimeout'], previousMs: number, random = Math.random): number {
  const base = timeout.base * 1000
  if (timeout.cap === undefined) return base
  const high = Math.max(previousMs * 3, base + 1)
  return Math.min(timeout.cap * 1000, Math.floor(base + random() * (high - base)))
}
