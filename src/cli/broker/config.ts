import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import {PROTOCOL_MAX_PACKET_SIZE} from '../../codec/index.js'
import {SqliteStore, StoreError, type BrokerOptions} from '../../index.js'
import type {QoS} from '../../codec/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

/** The parsed flags of `broker start` (see cli/broker/flags.ts). */
export interface BrokerFlagValues {
  host?: string
  port?: number
  'allow-anonymous'?: boolean
  'max-packet-size'?: number
  'max-queued-messages'?: number
  'max-queued-bytes'?: number
  'max-inflight-messages'?: number
  'max-inflight-bytes'?: number
  'upgrade-outgoing-qos'?: boolean
  'receive-maximum'?: number
  'max-qos'?: number
  'retain-available'?: boolean
  'topic-alias-maximum'?: number
  'outbound-topic-aliases': boolean
  'max-keepalive'?: number
  'max-session-expiry'?: number
  'persistent-client-expiration'?: number
  'response-information'?: string
  'no-wildcard-subscriptions': boolean
  'no-subscription-identifiers': boolean
  'no-shared-subscriptions': boolean
}

/** Engine options from flags; unset flags leave the engine's (Mosquitto-like) defaults. */
export function brokerOptionsFromFlags(f: BrokerFlagValues): Partial<BrokerOptions> {
  return {
    maxPacketSize: packetSize(f['max-packet-size']),
    maxQueuedMessages: f['max-queued-messages'],
    maxQueuedBytes: f['max-queued-bytes'],
    maxInflightMessages: f['max-inflight-messages'],
    maxInflightBytes: f['max-inflight-bytes'],
    upgradeOutgoingQos: f['upgrade-outgoing-qos'],
    receiveMaximum: f['receive-maximum'],
    maxQos: f['max-qos'] as QoS | undefined,
    retainAvailable: f['retain-available'],
    topicAliasMaximum: f['topic-alias-maximum'],
    outboundTopicAliases: f['outbound-topic-aliases'] || undefined,
    maxKeepalive: f['max-keepalive'],
    maxSessionExpiry: f['max-session-expiry'],
    persistentClientExpiration: f['persistent-client-expiration'],
    responseInformation: f['response-information'],
    wildcardSubscriptionAvailable: f['no-wildcard-subscriptions'] ? false : undefined,
    subscriptionIdentifiersAvailable: f['no-subscription-identifiers'] ? false : undefined,
    sharedSubscriptionAvailable: f['no-shared-subscriptions'] ? false : undefined,
  }
}

/** --max-packet-size: 0 is no limit beyond the protocol's; below 20 bytes no client could work. */
function packetSize(n: number | undefined): number | undefined {
  if (n === 0) return PROTOCOL_MAX_PACKET_SIZE
  if (n !== undefined && n < 20) throw new CliError(`--max-packet-size ${n} is below the minimum of 20 (0: no limit)`, ExitCode.Usage)
  return n
}

/**
 * Opens the store of --persistence (DIR/FILE, FILE midge.db unless persistence_file names another; DIR
 * created if missing), or nothing. A damaged, foreign (Mosquitto's own mosquitto.db among them), newer
 * or unwritable database stops the start (exit 17); the file is never overwritten.
 */
export async function openBrokerStore(f: {persistence?: string; file?: string; 'persistence-sync'?: 'full' | 'normal'}): Promise<SqliteStore | undefined> {
  const dir = f.persistence
  if (dir === undefined) return undefined
  try {
    await mkdir(dir, {recursive: true, mode: 0o700})
  } catch (error) {
    throw new CliError(`cannot create the persistence folder ${dir}: ${(error as Error).message}`, ExitCode.BrokerStartFailed)
  }
  try {
    return await SqliteStore.open({file: join(dir, f.file ?? 'midge.db'), sync: f['persistence-sync']})
  } catch (error) {
    if (error instanceof StoreError) throw new CliError(error.message, ExitCode.BrokerStartFailed)
    throw error
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/**
 * Secure by default, like Mosquitto 2: anonymous clients are fine on loopback only. Binding anywhere
 * else without authentication needs an explicit --allow-anonymous.
 */
export function checkExposure(host: string, allowAnonymous: boolean, authConfigured: boolean): void {
  if (isLoopback(host) || allowAnonymous || authConfigured) return
  throw new CliError(`refusing to listen on ${host} without authentication: add --password-file, or --allow-anonymous to accept anyone`,
    ExitCode.BrokerStartFailed)
}
