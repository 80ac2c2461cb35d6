// The --report page: well-formed (XHTML-compatible), self-contained, and holding the run's numbers.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {XMLValidator} from 'fast-xml-parser'
import {htmlReport} from '../../src/bench/html-report.js'
import type {StatusRecord} from '../../src/bench/stream.js'
import {escapeXml, lineChart, logTicks, niceTicks} from '../../src/bench/svg-chart.js'
import {fakeResult} from './bench-fixtures.js'

const second = (t: number, rate: number, p99: number | null): StatusRecord => ({
  type: 'status', t, phase: t < 2 ? 'warmup' : 'measuring', sent: rate * t, received: rate * t, acked: 0,
  rates: {sent: rate, received: rate, acked: 0},
  latency: {unit: 'us', endToEnd: p99 === null ? null : {count: 100, p50: p99 / 10, p90: p99 / 2, p99, p999: p99, max: p99 * 2}, publishToAck: null},
  connections: {connected: 11, failed: 0, lost: 0}, errors: 0,
})

describe('bench HTML report', () => {
  test('ticks: round numbers over the range; powers of ten on a log axis', () => {
    assert.deepEqual(niceTicks(0, 100), [0, 20, 40, 60, 80, 100])
    assert.deepEqual(niceTicks(0, 7, 8), [0, 1, 2, 3, 4, 5, 6, 7])
    assert.deepEqual(logTicks(100, 1_000_000), [100, 1000, 10_000, 100_000, 1_000_000])
    assert.deepEqual(logTicks(10, 1000), [10, 20, 50, 100, 200, 500, 1000])
    assert.equal(escapeXml(`<a href="x">&'`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;')
  })

  test('a chart without samples says so; one with samples draws a line per series', () => {
    const empty = lineChart([{name: 'a', color: '#000', points: []}], {title: 'T', xLabel: 'x', yLabel: 'y'})
    assert.equal(XMLValidator.validate(empty), true)
    assert.match(empty, /no samples/)
    const chart = lineChart([{name: 'a', color: '#111', points: [[0, 1], [1, 2]]}, {name: 'b', color: '#222', points: [[0, 3], [1, 4]]}],
      {title: 'T', xLabel: 'x', yLabel: 'y', logY: true})
    assert.equal(XMLValidator.validate(chart), true)
    assert.equal(chart.match(/<polyline /g)?.length, 2)
  })

  test('one well-formed page, no script or external asset, with the run\'s figures, charts and causes', () => {
    const r = fakeResult()
    r.loss.causes = ['the broker dropped 1,000 (slow-reader): <a reason>']
    const page = htmlReport(r, [second(1, 50_000, null), second(2, 80_000, 12_000), second(3, 80_000, 15_000)])
    assert.equal(XMLValidator.validate(page), true)
    assert.match(page, /^<!DOCTYPE html>\n<html xmlns="http:\/\/www.w3.org\/1999\/xhtml" lang="en">/)
    assert.doesNotMatch(page, /<script|<link|<img|src=|href=|url\(/)
    assert.match(page, /<title>midge bench · end-to-end · 10 publishers → 1 subscriber · QoS 0 · 100 B · closed loop ≤ 50,000 outstanding<\/title>/)
    assert.match(page, /<div class="v">80,000\/s<\/div><div class="k">delivered<\/div>/)
    assert.match(page, /<div class="v">500µs<\/div><div class="k">end-to-end p50<\/div>/)
    assert.match(page, /<div class="v">15.0ms<\/div><div class="k">end-to-end p99<\/div>/)
    assert.match(page, /<div class="card bad"><div class="v">1,000 \(0.100%\)<\/div><div class="k">lost<\/div>/)
    assert.match(page, /<li>the broker dropped 1,000 \(slow-reader\): &lt;a reason&gt;<\/li>/)
    assert.equal(page.match(/<svg /g)?.length, 3, 'throughput, latency over time, distribution')
    assert.match(page, /aria-label="Throughput over time"/)
    assert.match(page, /aria-label="Latency over time \(each second&#39;s samples\)"/)
    assert.match(page, /aria-label="End-to-end latency distribution \(measurement window\)"/)
    assert.match(page, /measurement window<\/text>/, 'the window is shaded')
    assert.match(page, /<pre>midge bench +end-to-end/, 'the summary table too')
  })

  test('a connections run: no message charts', () => {
    const r = fakeResult({mode: 'conn'})
    r.latency.distribution = null
    const page = htmlReport(r, [])
    assert.equal(XMLValidator.validate(page), true)
    assert.equal(page.match(/<svg /g), null)
    assert.match(page, /<div class="v">500\/s<\/div><div class="k">connections<\/div>/)
  })
})
