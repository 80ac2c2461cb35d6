// The runner against an in-process midge broker: small runs, assertions on counts and shapes only.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {createBroker, type Broker} from '../../src/index.js'
import {DEFAULT_CONFIG, type BenchConfig} from '../../src/bench/config.js'
import {runBench} from '../../src/bench/runner.js'
import type {BenchStatus} from '../../src/bench/status.js'

describe('bench runner (in-process broker)', () => {
  let broker: Broker
  let port: number
  before(async () => {
    broker = createBroker()
    port = (await broker.listen({host: '127.0.0.1', port: 0})).port
  })
  after(() => broker.close())

  const config = (over: Partial<BenchConfig>): BenchConfig => ({
    ...DEFAULT_CONFIG, mode: 'e2e', client: {host: '127.0.0.1', port, protocolVersion: 5}, brokerUrl: `mqtt://127.0.0.1:${port}`,
    clientId: `runner-${Math.random().toString(36).slice(2, 8)}-%r-%i`, workers: 0, duration: 0.4, warmup: 0.1, payloadSize: 64,
    publishers: 2, subscribers: 1, ...over,
  })

  for (const version of [4, 5] as const) {
    test(`end to end with -L (MQTT ${version === 5 ? '5' : '3.1.1'}): every message delivered once, in order, with latency`, async () => {
      const r = await runBench(config({client: {host: '127.0.0.1', port, protocolVersion: version}, limit: 2000, duration: 0}))
      assert.equal(r.mode, 'e2e')
      assert.equal(r.broker.protocolVersion, version === 5 ? '5' : '3.1.1')
      assert.equal(r.connections.connected, 3)
      assert.equal(r.messages.sent, 2000)
      assert.equal(r.messages.expected, 2000)
      assert.equal(r.messages.received, 2000)
      assert.equal(r.messages.lost, 0)
      assert.equal(r.messages.duplicates, 0)
      assert.equal(r.messages.reordered, 0)
      assert.ok(r.latency.endToEnd && r.latency.endToEnd.count > 0)
      assert.equal(r.latency.connect!.count, 3)
      assert.equal(r.interrupted, false)
    })
  }

  test('fan-out: each message counts once per subscriber', async () => {
    const r = await runBench(config({publishers: 1, subscribers: 5, topic: 'fan/out', subscribeTopics: ['fan/out'], limit: 300, duration: 0}))
    assert.equal(r.messages.sent, 300)
    assert.equal(r.messages.expected, 1500)
    assert.equal(r.messages.received, 1500)
    assert.equal(r.messages.lost, 0)
  })

  test('QoS 1 and 2: every publish acknowledged, publish-to-ack latency measured', async () => {
    for (const qos of [1, 2] as const) {
      const r = await runBench(config({qos, limit: 500, duration: 0, inflight: 5}))
      assert.equal(r.messages.sent, 500)
      assert.equal(r.messages.acked, 500)
      assert.equal(r.messages.unacked, 0)
      assert.equal(r.messages.received, 500)
      assert.ok(r.latency.publishToAck!.count > 0)
    }
  })

  test('open loop at a rate: about the rate, send lag measured', async () => {
    const r = await runBench(config({rate: 500, duration: 0.6, warmup: 0.2}))
    assert.ok(r.messages.sent > 0)
    assert.equal(r.messages.lost, 0)
    assert.equal(r.parameters.rate, 500)
    assert.ok(r.latency.sendLag && r.latency.sendLag.count > 0)
    // the schedule over the time the run took (a busy machine makes the warm-up and window run long)
    const allowed = 500 * (r.durations.warmup + r.durations.measure) + 10
    assert.ok(r.messages.sent <= allowed, `no more than the schedule allows: ${r.messages.sent} > ${allowed}`)
  })

  test('payloads under 20 bytes are counted, not tracked', async () => {
    const r = await runBench(config({payloadSize: 8, limit: 100, duration: 0}))
    assert.equal(r.messages.received, 100)
    assert.equal(r.messages.untracked, 100)
    assert.equal(r.latency.endToEnd, null)
  })

  test('conn mode opens, holds and closes the connections', async () => {
    const r = await runBench(config({mode: 'conn', connections: 40, duration: 0.2, reset: true}))
    assert.equal(r.connections.attempted, 40)
    assert.equal(r.connections.connected, 40)
    assert.equal(r.latency.connect!.count, 40)
    assert.ok(r.connections.rate > 0)
    assert.equal(r.messages.sent, 0)
  })

  test('bench sub and bench pub as two runs: no gaps, counts agree', async () => {
    // the publisher starts once the subscriber run is past connecting, i.e. subscribed (no fixed wait)
    let running: () => void = () => {}
    const subscribed = new Promise<void>((resolve) => { running = resolve })
    const sub = runBench(config({mode: 'sub', subscribers: 2, subscribeTopics: ['split/#'], duration: 0, limit: 1200, warmup: 0}),
      {statusInterval: 20, onStatus: (st) => { if (st.phase !== 'connecting') running() }})
    await Promise.race([subscribed, sub.then(() => { throw new Error('the subscriber run ended before subscribing') })])
    const pub = await runBench(config({mode: 'pub', publishers: 3, topic: 'split/%i', limit: 600, duration: 0}))
    const s = await sub
    assert.equal(pub.messages.sent, 600)
    assert.equal(s.messages.received, 1200)
    assert.equal(s.messages.lost, 0)
    assert.equal(s.messages.duplicates, 0)
  })

  test('worker threads: the same counts', async () => {
    const r = await runBench(config({workers: 2, publishers: 4, limit: 2000, duration: 0}))
    assert.equal(r.parameters.workers, 2)
    assert.equal(r.messages.sent, 2000)
    assert.equal(r.messages.received, 2000)
    assert.equal(r.messages.lost, 0)
  })

  test('an unreachable broker ends at once with every connection failed, by reason', async () => {
    const r = await runBench(config({client: {host: '127.0.0.1', port: 1, protocolVersion: 5}}))
    assert.equal(r.connections.connected, 0)
    assert.equal(r.connections.failed, 3)
    assert.deepEqual(r.connections.failures, {'connect: connection refused': 3})
    assert.equal(r.messages.sent, 0)
  })

  test('aborting ends the run with the results so far, marked interrupted', async () => {
    const controller = new AbortController()
    const statuses: BenchStatus[] = []
    // aborted once a status shows messages sent in the window, however long connecting took
    const run = runBench(config({duration: 30, warmup: 0}), {signal: controller.signal, statusInterval: 50, onStatus: (s) => {
      statuses.push(s)
      if (s.phase === 'measuring' && s.sent > 0) controller.abort()
    }})
    const r = await run
    assert.equal(r.interrupted, true)
    assert.ok(r.messages.sent > 0)
    assert.ok(r.durations.total < 10)
    assert.ok(statuses.some((s) => s.phase === 'measuring'))
  })
})
