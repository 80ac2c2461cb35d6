// What a bench run is asked to do (BenchConfig, built by the CLI or a Node program) and the defaults
// for everything a caller leaves out.
import {availableParallelism} from 'node:os'
import type {ClientOptions} from '../client/index.js'
import type {QoS} from '../codec/index.js'
import type {ClockName} from './clock.js'
import type {BenchMode} from './result.js'

export interface BenchConfig {
  mode: BenchMode
  /** Where and how to connect (host, port, TLS, version, credentials, keepalive...); clientId is set per client. */
  client: ClientOptions
  /** For the report. */
  brokerUrl: string
  embedded?: boolean
  /** Client id template: %i index, %r role (pub, sub, conn). */
  clientId: string
  publishers: number
  subscribers: number
  /** `bench conn`: idle connections. */
  connections: number
  /** Publishers' topic template: %i index, %c client id. */
  topic: string
  /** Subscribers' filter templates. */
  subscribeTopics: string[]
  qos: QoS
  retain: boolean
  payloadSize: number
  /** The bytes of every payload (a payload file), payloadSize long; the bench header replaces the first 20. */
  payload?: Uint8Array
  /** Total open-loop rate in msg/s (0: none). */
  rate: number
  /** Open loop per publisher: milliseconds between messages (0: none). Ignored when rate is set. */
  intervalMs: number
  /** Total messages to send (`bench sub`: to receive); 0 = no limit. */
  limit: number
  inflight: number
  /** Seconds of measurement after the warm-up (0: until the limit or the signal). */
  duration: number
  warmup: number
  /** Longest wait for outstanding deliveries and acks after publishing stops, in seconds. */
  drain: number
  /** Worker threads (0: run in this thread). */
  workers: number
  /** Connections in progress at once (whole run). */
  concurrency: number
  connectIntervalMs: number
  connectTimeoutMs: number
  /** Closed loop: deliveries sent but not yet received at most (undefined: from the QoS, payload and subscribers; 0: open loop). */
  maxOutstanding?: number
  /** Open loop without a rate: publishers send as fast as their sockets take, never waiting for deliveries (overload). */
  openLoop?: boolean
  clock: ClockName
  /** Added to %i and to the header's stream ids (several bench processes against one broker). */
  startNumber: number
  /** Close with TCP RST (no TIME_WAIT); default for `bench conn`. */
  reset: boolean
  brokerPid?: number
}

export const DEFAULT_CONFIG: Omit<BenchConfig, 'mode' | 'client' | 'brokerUrl'> = {
  clientId: 'midge-bench-%r-%i', publishers: 10, subscribers: 1, connections: 1000, topic: 'bench/%i', subscribeTopics: ['bench/#'],
  qos: 0, retain: false, payloadSize: 256, rate: 0, intervalMs: 0, limit: 0, inflight: 10, duration: 10, warmup: 2, drain: 10,
  workers: availableParallelism(), concurrency: 100, connectIntervalMs: 0, connectTimeoutMs: 30_000,
  clock: 'mono', startNumber: 0, reset: false,
}
