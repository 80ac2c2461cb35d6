import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {LatencyHistogram} from '../../src/bench/histogram.js'

/** Within HdrHistogram's 3 significant digits. */
function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) <= Math.max(1, expected * 0.001), `${actual} is not ${expected} within 0.1%`)
}

describe('bench latency histograms', () => {
  test('an empty histogram has no summary', () => {
    assert.equal(new LatencyHistogram().summary(), undefined)
  })

  test('percentiles of 1..10000 µs', () => {
    const h = new LatencyHistogram()
    for (let v = 1; v <= 10_000; v++) h.record(v)
    const s = h.summary()!
    assert.equal(s.count, 10_000)
    near(s.min, 1)
    near(s.p50, 5000)
    near(s.p90, 9000)
    near(s.p99, 9900)
    near(s.p999, 9990)
    near(s.max, 10_000)
    near(s.mean, 5000.5)
  })

  test('a single outlier shows at the max and the top percentiles only', () => {
    const h = new LatencyHistogram()
    for (let i = 0; i < 999; i++) h.record(100)
    h.record(1_000_000)
    const s = h.summary()!
    near(s.p50, 100)
    near(s.p99, 100)
    assert.ok(s.p999 <= s.max)
    near(s.max, 1_000_000)
  })

  test('fractions round to whole microseconds; negative samples count as 0 and are counted apart', () => {
    const h = new LatencyHistogram()
    h.record(10.4)
    h.record(-5)
    assert.equal(h.count, 2)
    assert.equal(h.negative, 1)
    assert.equal(h.summary()!.min, 0)
    near(h.summary()!.max, 10)
  })

  test('values beyond an hour are clamped, not lost', () => {
    const h = new LatencyHistogram()
    h.record(1e13)
    assert.equal(h.count, 1)
    assert.ok(h.summary()!.max >= 3_599_000_000)
  })

  test('histograms merge through their encoding (worker threads send them so)', () => {
    const a = new LatencyHistogram()
    const b = new LatencyHistogram()
    for (let v = 1; v <= 500; v++) a.record(v)
    for (let v = 501; v <= 1000; v++) b.record(v)
    b.record(-1)
    const merged = new LatencyHistogram()
    merged.add(LatencyHistogram.decode(a.encode()))
    merged.add(LatencyHistogram.decode(b.encode()))
    merged.add(LatencyHistogram.decode(new LatencyHistogram().encode()))
    const s = merged.summary()!
    assert.equal(s.count, 1001)
    assert.equal(merged.negative, 1)
    near(s.p50, 500)
    near(s.max, 1000)
  })
})
