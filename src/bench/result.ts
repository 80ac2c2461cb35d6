// The result of a bench run: what `--json` prints (one document), what the summary table shows, what
// gates and `--baseline` read. Latencies are in microseconds, durations in seconds, rates per second.
import type {LatencySummary} from './histogram.js'

export type BenchMode = 'e2e' | 'conn' | 'pub' | 'sub'

export const RESULT_SCHEMA = 1

export interface BenchResult {
  tool: 'midge bench'
  schema: typeof RESULT_SCHEMA
  mode: BenchMode
  broker: {url: string; protocolVersion: '3.1' | '3.1.1' | '5'; embedded: boolean}
  parameters: BenchParameters
  startedAt: string
  /** Stopped by SIGINT/SIGTERM: the counts are those of the run so far. */
  interrupted: boolean
  durations: {connect: number; warmup: number; measure: number; drain: number; total: number}
  connections: {
    attempted: number
    connected: number
    failed: number
    /** Connections that ended during the run without our asking. */
    lost: number
    /** Reason -> count, for failed and lost connections. */
    failures: Record<string, number>
    /** Connections per second, from the first attempt to the last CONNACK. */
    rate: number
    /** Refused connections by CONNACK code (v3 return code or v5 reason code). */
    connackCodes: Record<string, number>
  }
  messages: {
    /** PUBLISHes written by the publishers. */
    sent: number
    /** QoS 1/2 publishes acknowledged with success. */
    acked: number
    /** QoS 1/2 publishes refused (PUBACK/PUBREC reason >= 0x80). */
    refused: number
    /** Still unacknowledged at the end. */
    unacked: number
    /** Deliveries the subscribers should get: sent x matching subscribers (end-to-end runs). */
    expected: number
    /** Deliveries received (duplicates included). */
    received: number
    duplicates: number
    reordered: number
    /** Expected deliveries never received (end-to-end), or sequence gaps (`bench sub`). */
    lost: number
    /** lost / expected x 100 (sequence gaps: lost / (unique + lost) x 100). */
    lossPercent: number
    /** Received without a bench header (payload < 20 bytes, or not sent by midge bench). */
    untracked: number
  }
  /** Why deliveries were lost (empty when none were). */
  loss: {
    /** One sentence per cause: lost connections, the broker's drops by reason, the loop that ran. */
    causes: string[]
    /** The broker's own drop counts by reason over the run (--embedded: from its /metrics), else null. */
    brokerDrops: Record<string, number> | null
  }
  /** Inside the measurement window (after the warm-up). */
  window: {seconds: number; sent: number; received: number; acked: number}
  rates: {sent: number; received: number; acked: number}
  latency: {
    unit: 'us'
    /** Publish (intended) time to delivery, for messages sent inside the window. */
    endToEnd: LatencySummary | null
    /** QoS 1/2: publish to PUBACK/PUBCOMP. */
    publishToAck: LatencySummary | null
    /** Transport open + CONNECT to CONNACK. */
    connect: LatencySummary | null
    /** Open-loop runs: how late the bench itself sent, after the intended time. */
    sendLag: LatencySummary | null
    /** End-to-end (or, without it, publish-to-ack) latency at fixed percentiles: [percentile, µs] pairs. */
    distribution: {of: 'endToEnd' | 'publishToAck'; points: Array<[number, number]>} | null
  }
  /** Every error by reason (connect, subscribe, publish, connection lost). */
  errors: Record<string, number>
  cpu: {
    /** The bench process, all threads, over the window (`bench conn`: over the connect phase): cores = CPU seconds / seconds. */
    bench: {user: number; system: number; cores: number}
    broker: {pid: number; seconds: number; cores: number} | null
  }
  gates: GateOutcome[]
  baseline: {file: string; rate: number; ratio: number} | null
  /** The exit code and, when non-zero, why. */
  exitCode: number
  failure: string | null
}

export interface BenchParameters {
  publishers: number
  subscribers: number
  /** `bench conn`: idle connections. */
  connections: number
  qos: 0 | 1 | 2
  payloadSize: number
  topic: string | null
  subscribeTopic: string | null
  /**
   * How the publishers were paced: closed (they wait while maxOutstanding deliveries are on their
   * way: capacity) or open (on their schedule, or as fast as their sockets take: overload); null
   * without publishers.
   */
  loop: 'closed' | 'open' | null
  /** Total open-loop rate in msg/s, or 0 for as fast as the broker (closed) or the sockets (open) take. */
  rate: number
  limit: number
  inflight: number
  duration: number
  warmup: number
  workers: number
  /** Closed loop: deliveries sent but not yet received at most (0: open loop). */
  maxOutstanding: number
}

export interface GateOutcome {
  condition: string
  passed: boolean
  actual: number | null
  threshold: number
  message: string
}
