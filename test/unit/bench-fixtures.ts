// A BenchResult to test gates, verdicts and reports with (not a test file itself).
import type {BenchResult} from '../../src/bench/result.js'

const latency = (p50: number, p99: number) => ({count: 1000, min: 1, mean: p50, p50, p90: p50, p99, p999: p99, max: p99 * 2})

export function fakeResult(over: Partial<BenchResult> = {}): BenchResult {
  return {
    tool: 'midge bench', schema: 1, mode: 'e2e', broker: {url: 'mqtt://127.0.0.1:1883', protocolVersion: '5', embedded: false},
    parameters: {publishers: 10, subscribers: 1, connections: 0, qos: 0, payloadSize: 100, topic: 'bench/%i', subscribeTopic: 'bench/#',
      loop: 'closed', rate: 0, limit: 0, inflight: 10, duration: 10, warmup: 2, workers: 2, maxOutstanding: 50000},
    startedAt: '2026-01-01T00:00:00.000Z', interrupted: false,
    durations: {connect: 0.1, warmup: 2, measure: 10, drain: 0.2, total: 12.3},
    connections: {attempted: 11, connected: 11, failed: 0, lost: 0, failures: {}, rate: 500, connackCodes: {}},
    messages: {sent: 1_000_000, acked: 0, refused: 0, unacked: 0, expected: 1_000_000, received: 999_000, duplicates: 10, reordered: 20,
      lost: 1000, lossPercent: 0.1, untracked: 0},
    loss: {causes: [], brokerDrops: null},
    window: {seconds: 10, sent: 800_000, received: 800_000, acked: 0},
    rates: {sent: 80_000, received: 80_000, acked: 0},
    latency: {unit: 'us', endToEnd: latency(500, 15_000), publishToAck: null, connect: latency(2000, 9000), sendLag: null,
      distribution: {of: 'endToEnd', points: [[0, 1], [50, 500], [90, 900], [99, 15_000], [99.9, 15_000], [100, 30_000]]}},
    errors: {}, cpu: {bench: {user: 1, system: 1, cores: 0.2}, broker: null},
    gates: [], baseline: null, exitCode: 0, failure: null,
    ...over,
  }
}
