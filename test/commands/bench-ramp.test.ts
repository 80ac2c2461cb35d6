// `midge bench --ramp FROM..TO/s over DURATION --p99-limit MS`: the rate rises step by step, the answer
// is one number (summary line, JSON maxRate) with the steps in the JSON. Small rates against the embedded
// broker; the limits are far on either side of any machine's latency (10 s, 1 µs), never a timing bet.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {parseRamp, rampRates, rampResult, type RampStep} from '../../src/bench/ramp.js'
import {runMidge} from '../helpers/cli.js'

const SMALL = ['--embedded', '--workers', '1', '-c', '2', '-s', '64']

describe('bench --ramp', () => {
  test('the steps: equal rises from above FROM to TO, at most 10, one a second when the ramp is short', () => {
    assert.deepEqual(parseRamp('0..50000/s over 60s'), {from: 0, to: 50_000, over: 60, steps: 10})
    assert.deepEqual(rampRates(parseRamp('0..50k/s over 60s')), [5000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000])
    assert.deepEqual(rampRates(parseRamp('100..400 over 3s')), [200, 300, 400])
    assert.equal(parseRamp('1k..2k').over, 60)
    for (const bad of ['50000', '5..1 over 10s', '0..10 over 0.5s', '0..x over 10s', '0..10 over soon']) assert.throws(() => parseRamp(bad), TypeError, bad)
    const step = (rate: number, passed: boolean): RampStep => ({rate, achieved: rate, sent: rate, received: rate, lost: 0, p50: 1, p99: 2, passed})
    assert.equal(rampResult([step(1, true), step(2, true), step(3, false)]), 2)
    assert.equal(rampResult([step(1, false)]), null)
  })

  test('a limit every step keeps: the end rate is the answer, every step in the JSON', async () => {
    const r = await runMidge(['bench', ...SMALL, '--ramp', '0..300/s over 3s', '--p99-limit', '10000', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const doc = JSON.parse(r.stdout) as Record<string, any>
    assert.deepEqual({mode: doc.mode, maxRate: doc.maxRate, exitCode: doc.exitCode, failure: doc.failure, embedded: doc.broker.embedded},
      {mode: 'ramp', maxRate: 300, exitCode: 0, failure: null, embedded: true})
    assert.deepEqual(doc.ramp, {from: 0, to: 300, over: 3, steps: 3, stepSeconds: 1, p99LimitUs: 10_000_000})
    assert.deepEqual(doc.steps.map((s: any) => [s.rate, s.lost, s.passed]), [[100, 0, true], [200, 0, true], [300, 0, true]])
    for (const s of doc.steps) {
      assert.deepEqual(Object.keys(s), ['rate', 'achieved', 'sent', 'received', 'lost', 'p50', 'p99', 'passed'])
      assert.ok(s.sent > 0 && s.received === s.sent, JSON.stringify(s))
      assert.ok(s.p99 > 0 && s.p99 <= 10_000_000)
    }
    assert.match(r.stderr, /ramp step 1\/3: 100 msg\/s for 1\.0 s/)
  })

  test('the summary: the one number first, a row per step', async () => {
    const r = await runMidge(['bench', ...SMALL, '--ramp', '100..200/s over 2s', '--p99-limit', '10s'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.equal(lines[0], 'midge bench ramp: max rate with p99 ≤ 10.00s: 200 msg/s')
    assert.match(lines[1], /^broker mqtt:\/\/127\.0\.0\.1:\d+, embedded · 2 of 2 steps of 1\.0 s$/)
    assert.match(lines[3], /^step +rate +delivered\/s +sent +lost +p50 +p99$/)
    assert.match(lines[4], /^ +1 +150 +\S+ +\S+ +0 +\S+ +\S+ +ok$/)
    assert.match(lines[5], /^ +2 +200 +\S+ +\S+ +0 +\S+ +\S+ +ok$/)
  })

  test('a limit no step can keep: stops after the first step, no rate, exit 15 with one line', async () => {
    const r = await runMidge(['bench', ...SMALL, '--ramp', '0..300/s over 3s', '--p99-limit', '1us', '--json'])
    assert.equal(r.code, 15, r.stderr)
    const doc = JSON.parse(r.stdout) as Record<string, any>
    assert.equal(doc.maxRate, null)
    assert.deepEqual(doc.steps.map((s: any) => [s.rate, s.passed]), [[100, false]])
    assert.match(r.stderr, /^midge bench: no step stayed under p99 1µs with nothing lost \(the first, 100 msg\/s, did not\)$/m)
  })

  test('bad usage exits 2 with one line', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--ramp', '0..100 over 2s'], /--p99-limit/],
      [['--ramp', 'fast', '--p99-limit', '20'], /--ramp: 'fast' is not a ramp/],
      [['--ramp', '0..100 over 2s', '--p99-limit', 'soon'], /--ramp: 'soon' is not a latency/],
      [['--ramp', '0..100 over 2s', '--p99-limit', '20', '--rate', '50'], /--rate|--ramp/],
      [['--p99-limit', '20'], /--ramp/],
    ]
    for (const [args, message] of cases) {
      const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', '1', ...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message, args.join(' '))
    }
  })
})
