// What the runner and a shard say to each other: the plan a shard is built from (its clients and how
// to drive them), the commands it is sent, and what it answers (connect outcomes, its final report).
import type {ClientOptions} from '../client/index.js'
import type {QoS} from '../codec/index.js'
import type {ClockName} from './clock.js'

export type Role = 'pub' | 'sub' | 'idle'

export interface ClientPlan {
  role: Role
  /** Index within its role (the `%i` of its templates, before --start-number). */
  index: number
  clientId: string
  /** Publishers: the topic. */
  topic?: string
  /** Subscribers: the filters. */
  filters?: string[]
  /** Publishers: messages to send (0 = no limit). */
  limit?: number
  /** Publishers: the bench header's stream id. */
  stream?: number
}

export interface ShardPlan {
  shard: number
  shards: number
  client: ClientOptions
  connectTimeoutMs: number
  clients: ClientPlan[]
  qos: QoS
  retain: boolean
  payloadSize: number
  /** A payload file's bytes (payloadSize of them), the bench header over the first 20. */
  payload?: Uint8Array
  /** QoS 1/2 publishes in flight per publisher (the broker's Receive Maximum caps it). */
  inflight: number
  /** Open loop: microseconds between two messages of one publisher; 0 = as fast as the broker takes. */
  intervalUs: number
  /** Connections in progress at once, in this shard. */
  concurrency: number
  /** Microseconds between two connection attempts of the whole run (0 = no pacing). */
  connectIntervalUs: number
  /** Closed loop: pause while more deliveries than this are sent but not yet received (0 = no limit). */
  maxOutstanding: number
  clock: ClockName
  /** Record end-to-end latency for messages sent (or, `bench sub`, received) inside the window. */
  latencyBy: 'send' | 'receive'
  /** Close connections with a TCP reset instead of DISCONNECT (10k-connection runs: no TIME_WAIT). */
  reset: boolean
  keepalive: number
  /** Also keep latency histograms per status interval (--json-stream, --report), read with `interval`. */
  intervalLatency: boolean
  stats: SharedArrayBuffer
  statSlots: number
}

export interface StartArgs {
  t0: number
  windowStart: number
  windowEnd: number
  /** Per publisher of this shard (in plan order): how many subscribers get each of its messages. */
  fanout: number[]
}

export interface ConnectOutcome {
  attempted: number
  connected: number
  /** Plan indexes (within the role) of subscribers whose every filter was granted. */
  subscribed: number[]
}

export interface ShardReport {
  sent: number
  acked: number
  refused: number
  unacked: number
  expected: number
  received: number
  duplicates: number
  reordered: number
  untracked: number
  gaps: number
  unique: number
  attempted: number
  connected: number
  failed: number
  lost: number
  failures: Record<string, number>
  connackCodes: Record<string, number>
  errors: Record<string, number>
  firstAttempt: number
  lastConnack: number
  histograms: Record<'endToEnd' | 'publishToAck' | 'connect' | 'sendLag' | 'warmupEndToEnd' | 'warmupPublishToAck', {data: string; negative: number}>
}

/** The latency samples of one status interval (`interval` command; empty histograms when not kept). */
export type IntervalReport = Record<'endToEnd' | 'publishToAck', {data: string; negative: number}>

export type ShardCommand =
  | {cmd: 'connect'; role: Role; startAt: number}
  | {cmd: 'start'; args: StartArgs}
  | {cmd: 'stop'}
  | {cmd: 'report'}
  | {cmd: 'interval'}
  | {cmd: 'close'}
  | {cmd: 'abort'}
