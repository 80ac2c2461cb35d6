// How a run is paced (closed loop by default, open loop when asked) and how its loss is explained.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {DEFAULT_CONFIG, type BenchConfig} from '../../src/bench/config.js'
import {defaultOutstanding, OUTSTANDING_BYTES, pacing} from '../../src/bench/loop.js'
import {explainLoss, parseDropMetrics} from '../../src/bench/loss.js'
import {formatSummary} from '../../src/bench/report.js'
import {resultRecord, statusRecord} from '../../src/bench/stream.js'
import {fakeResult} from './bench-fixtures.js'

const config = (over: Partial<BenchConfig> = {}): BenchConfig =>
  ({...DEFAULT_CONFIG, mode: 'e2e', client: {}, brokerUrl: 'mqtt://127.0.0.1:1883', ...over})

describe('bench pacing', () => {
  test('closed loop by default, its bound from the QoS, the payload and the subscribers', () => {
    assert.deepEqual(pacing(config()), {loop: 'closed', rate: 0, maxOutstanding: 5000})
    assert.equal(pacing(config({subscribers: 4})).maxOutstanding, 20_000)
    assert.equal(pacing(config({subscribers: 1000})).maxOutstanding, 29_959, 'at most 8 MiB of 280-byte packets (256 B payload, 8-byte topic, 16 B of header)')
    assert.equal(pacing(config({subscribers: 1000, payloadSize: 10})).maxOutstanding, 50_000, 'at most 50,000 in all')
    assert.equal(pacing(config({qos: 1, subscribers: 100})).maxOutstanding, 1000, 'QoS 1/2: the default queue limit, in all')
    const big = defaultOutstanding({qos: 0, payloadSize: 1024 * 1024, topic: 'bench/%i', subscribers: 1})
    assert.equal(big, Math.floor(OUTSTANDING_BYTES / (1024 * 1024 + 24)))
    assert.equal(defaultOutstanding({qos: 0, payloadSize: 64 * 1024 * 1024, topic: 't', subscribers: 1}), 1, 'never 0 (that would be open loop)')
  })

  test('an explicit bound wins; 0, --open-loop, --rate and -I are open loop', () => {
    assert.deepEqual(pacing(config({maxOutstanding: 123})), {loop: 'closed', rate: 0, maxOutstanding: 123})
    assert.deepEqual(pacing(config({maxOutstanding: 0})), {loop: 'open', rate: 0, maxOutstanding: 0})
    assert.deepEqual(pacing(config({openLoop: true})), {loop: 'open', rate: 0, maxOutstanding: 0})
    assert.deepEqual(pacing(config({rate: 10_000})), {loop: 'open', rate: 10_000, maxOutstanding: 0})
    assert.deepEqual(pacing(config({intervalMs: 100})), {loop: 'open', rate: 100, maxOutstanding: 0}, '10 publishers, one message per 100 ms each')
  })

  test('bench pub sees no deliveries: closed by its acks at QoS 1/2, open at QoS 0', () => {
    assert.deepEqual(pacing(config({mode: 'pub', qos: 1})), {loop: 'closed', rate: 0, maxOutstanding: 0})
    assert.deepEqual(pacing(config({mode: 'pub'})), {loop: 'open', rate: 0, maxOutstanding: 0})
  })
})

describe('why deliveries were lost', () => {
  test("midge's /metrics: the drop counts by reason, without zeros and offline QoS 0", () => {
    const text = [
      '# HELP midge_messages_dropped_total Messages not delivered to a subscriber, by reason.',
      '# TYPE midge_messages_dropped_total counter',
      'midge_messages_dropped_total{reason="queue-full"} 0',
      'midge_messages_dropped_total{reason="slow-reader"} 19618',
      'midge_messages_dropped_total{reason="offline-qos0"} 5',
      'midge_messages_dropped_total{reason="expired"} 2',
      'midge_messages_received_total 100',
    ].join('\n')
    assert.deepEqual(parseDropMetrics(text), {'slow-reader': 19_618, expired: 2})
    assert.deepEqual(parseDropMetrics(''), {})
  })

  test('nothing lost: no cause', () => {
    assert.deepEqual(explainLoss(fakeResult({messages: {...fakeResult().messages, lost: 0, lossPercent: 0}}), {'slow-reader': 3}), [])
  })

  test("the broker's reasons, largest first, and the loop that ran", () => {
    const r = fakeResult()
    r.parameters.loop = 'open'
    const causes = explainLoss(r, {'queue-full': 10, 'slow-reader': 990})
    assert.equal(causes.length, 3)
    assert.match(causes[0], /^the broker dropped 990 \(slow-reader\): a subscriber's unsent output passed the broker's bound/)
    assert.match(causes[1], /^the broker dropped 10 \(queue-full\): a session's queue was at its limit/)
    assert.match(causes[2], /^open loop: the publishers sent as fast as their sockets took/)
  })

  test('without the broker\'s word: lost connections, or the QoS says which bound it likely was', () => {
    const lostConnections = fakeResult({connections: {...fakeResult().connections, lost: 2}})
    assert.match(explainLoss(lostConnections, null)[0], /^2 connections were lost during the run/)
    const qos0 = explainLoss(fakeResult(), null)
    assert.match(qos0[0], /QoS 0 deliveries it could not write or queue/)
    assert.match(qos0[1], /^closed loop with up to 50,000 deliveries outstanding: .* a lower --max-outstanding/)
    const qos1 = fakeResult()
    qos1.parameters.qos = 1
    qos1.parameters.loop = 'open'
    qos1.parameters.rate = 20_000
    const causes = explainLoss(qos1, null)
    assert.match(causes[0], /queue limit \(Mosquitto: max_queued_messages/)
    assert.match(causes[1], /^open loop at 20,000 msg\/s/)
  })

  test('the summary names the loop and says why deliveries were lost', () => {
    const r = fakeResult()
    r.parameters.loop = 'open'
    r.parameters.rate = 0
    r.loss = {causes: explainLoss(r, {'slow-reader': 1000}), brokerDrops: {'slow-reader': 1000}}
    const text = formatSummary(r)
    assert.match(text, /^midge bench +end-to-end · 10 publishers → 1 subscriber · QoS 0 · 100 B · open loop, as fast as the sockets take\n/)
    assert.match(text, /reordered +20\n {2}why lost: the broker dropped 1,000 \(slow-reader\): .*\n {2}why lost: open loop: /)
    r.parameters.rate = 2000
    assert.match(formatSummary(r), /· open loop 2,000 msg\/s\n/)
  })
})

describe('--json-stream records', () => {
  test('a status: the counts, rates rounded, the interval latency without min and mean', () => {
    const latency = {count: 10, min: 1, mean: 5.5, p50: 5, p90: 9, p99: 10, p999: 10, max: 10}
    const record = statusRecord({
      phase: 'measuring', elapsed: 4.2004, progress: 0.5, runElapsed: 3, runLength: 12, clients: 3, attempted: 3, connected: 3, failed: 0, lost: 0,
      sent: 100, received: 99, acked: 0, errors: 1, sentRate: 33.4, receivedRate: 33.6, ackedRate: 0, connectRate: 0,
      latency: {endToEnd: latency, publishToAck: null},
    })
    assert.deepEqual(record, {
      type: 'status', t: 4.2, phase: 'measuring', sent: 100, received: 99, acked: 0, rates: {sent: 33, received: 34, acked: 0},
      latency: {unit: 'us', endToEnd: {count: 10, p50: 5, p90: 9, p99: 10, p999: 10, max: 10}, publishToAck: null},
      connections: {connected: 3, failed: 0, lost: 0}, errors: 1,
    })
  })

  test('the result: the --json document, typed', () => {
    const r = fakeResult()
    const record = resultRecord(r)
    assert.equal(record.type, 'result')
    assert.deepEqual(Object.keys(record).slice(0, 3), ['type', 'tool', 'schema'])
    assert.equal(record.messages, r.messages)
  })
})
