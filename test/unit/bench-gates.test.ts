import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {baselineMismatches, evaluateGates, metricValue, parseBaseline, parseGate, parseGates, primaryRate} from '../../src/bench/gates.js'
import {fakeResult} from './bench-fixtures.js'
import {formatMicros, parseDuration, parseLatency, parseQuantity, parseSize} from '../../src/bench/units.js'

describe('bench units', () => {
  test('durations', () => {
    assert.equal(parseDuration('10'), 10)
    assert.equal(parseDuration('10s'), 10)
    assert.equal(parseDuration('500ms'), 0.5)
    assert.equal(parseDuration('2m'), 120)
    assert.equal(parseDuration('1.5h'), 5400)
    assert.throws(() => parseDuration('ten'), /not a duration/)
  })
  test('quantities, sizes and latencies', () => {
    assert.equal(parseQuantity('50k'), 50_000)
    assert.equal(parseQuantity('1.5M'), 1_500_000)
    assert.equal(parseQuantity('10k/s'), 10_000)
    assert.throws(() => parseQuantity('fast'), /not a number/)
    assert.equal(parseSize('256'), 256)
    assert.equal(parseSize('1KB'), 1024)
    assert.equal(parseSize('2MiB'), 2 * 1024 * 1024)
    assert.equal(parseLatency('20ms'), 20_000)
    assert.equal(parseLatency('500us'), 500)
    assert.equal(parseLatency('500µs'), 500)
    assert.equal(parseLatency('2s'), 2_000_000)
    assert.equal(parseLatency('1500ns'), 1.5)
    assert.throws(() => parseLatency('20'), /with a unit/)
  })
  test('microseconds are shown in the unit that reads best', () => {
    assert.equal(formatMicros(181), '181µs')
    assert.equal(formatMicros(3900), '3.90ms')
    assert.equal(formatMicros(34_200), '34.2ms')
    assert.equal(formatMicros(1_230_000), '1.23s')
    assert.equal(formatMicros(undefined), '-')
  })
})

describe('bench gate parsing', () => {
  test('latency gates take a unit, and a prefix picks the histogram', () => {
    assert.deepEqual(parseGate('p99>20ms'), {text: 'p99>20ms', metric: 'p99', kind: 'latency', op: '>', value: 20_000, unit: 'absolute'})
    assert.equal(parseGate('p99.9 >= 1s').value, 1_000_000)
    assert.equal(parseGate('p999>1s').metric, 'p99.9')
    assert.equal(parseGate('ack.p99<5ms').metric, 'ack.p99')
    assert.equal(parseGate('connect.max>100ms').metric, 'connect.max')
    assert.throws(() => parseGate('p99>20'), /with a unit/)
  })
  test('rates and counts take k/M; = is ==; loss is lost', () => {
    assert.deepEqual(parseGate('rate<50k'), {text: 'rate<50k', metric: 'rate', kind: 'rate', op: '<', value: 50_000, unit: 'absolute'})
    assert.deepEqual(parseGate('loss>0'), {text: 'loss>0', metric: 'lost', kind: 'count', op: '>', value: 0, unit: 'absolute'})
    assert.equal(parseGate('errors=0').op, '==')
    assert.equal(parseGate('dups!=0').metric, 'duplicates')
  })
  test('percentages for lost/duplicates/reordered, and baseline factors', () => {
    assert.deepEqual(parseGate('loss>0.1%'), {text: 'loss>0.1%', metric: 'lost', kind: 'count', op: '>', value: 0.1, unit: 'percent'})
    assert.deepEqual(parseGate('rate<0.9x'), {text: 'rate<0.9x', metric: 'rate', kind: 'rate', op: '<', value: 0.9, unit: 'baseline'})
    assert.throws(() => parseGate('p99>5%'), /percentage/)
  })
  test('several per flag, comma separated; bad ones are named', () => {
    assert.equal(parseGates(['p99>20ms,loss>0', 'rate<1k']).length, 3)
    assert.throws(() => parseGates(['p99>20ms', 'speed<3']), /'speed<3': unknown metric 'speed'/)
    assert.throws(() => parseGate('p99 twenty'), /not a condition/)
  })
})

describe('bench gate evaluation', () => {
  const r = fakeResult()
  test('metric values come from the right parts of the result', () => {
    assert.equal(metricValue(r, parseGate('p99>1ms')), 15_000)
    assert.equal(metricValue(r, parseGate('connect.p50>1ms')), 2000)
    assert.equal(metricValue(r, parseGate('ack.p99>1ms')), undefined)
    assert.equal(metricValue(r, parseGate('rate<1')), 80_000)
    assert.equal(metricValue(r, parseGate('loss>0')), 1000)
    assert.equal(metricValue(r, parseGate('loss>0%')), 0.1)
    assert.equal(metricValue(r, parseGate('dups>0%')), (10 / 999_000) * 100)
    assert.equal(metricValue(r, parseGate('conn-failed>0')), 0)
  })
  test('a condition that holds fails the gate, and says so with both values', () => {
    const [p99, loss, rate] = evaluateGates(parseGates(['p99>20ms', 'loss>0', 'rate<50k']), r)
    assert.equal(p99.passed, true)
    assert.equal(loss.passed, false)
    assert.equal(loss.message, 'loss>0 failed: lost = 1,000, > 0')
    assert.equal(rate.passed, true)
    assert.equal(p99.message, 'p99>20ms passed: p99 = 15.0ms')
  })
  test('a metric the run did not measure fails the gate', () => {
    const [g] = evaluateGates(parseGates(['ack.p99>1s']), r)
    assert.equal(g.passed, false)
    assert.match(g.message, /not measured/)
  })
  test('relative to a baseline: 0.9x of its throughput, 1.5x of its p99', () => {
    const baseline = fakeResult({rates: {sent: 100_000, received: 100_000, acked: 0}})
    const [rate, p99] = evaluateGates(parseGates(['rate<0.9x', 'p99>1.5x']), r, baseline)
    assert.equal(rate.passed, false)
    assert.equal(rate.threshold, 90_000)
    assert.match(rate.message, /rate = 80\.0k\/s, < 90\.0k\/s \(0\.9x baseline\)/)
    assert.equal(p99.passed, true)
    assert.equal(evaluateGates(parseGates(['rate<0.9x']), r, fakeResult({rates: {sent: 85_000, received: 85_000, acked: 0}}))[0].passed, true)
  })
  test('the primary rate follows the mode', () => {
    assert.equal(primaryRate(fakeResult({mode: 'pub', rates: {sent: 7, received: 0, acked: 0}})), 7)
    assert.equal(primaryRate(fakeResult({mode: 'conn'})), 500)
    assert.equal(primaryRate(fakeResult({mode: 'sub'})), 80_000)
  })
})

describe('bench baselines', () => {
  test('a --json result is accepted; anything else is refused with the file named', () => {
    assert.equal(parseBaseline(JSON.stringify(fakeResult()), 'b.json').rates.received, 80_000)
    assert.throws(() => parseBaseline('not json', 'b.json'), /--baseline b.json: not JSON/)
    assert.throws(() => parseBaseline('{"tool":"mqbench"}', 'b.json'), /not a midge bench --json result/)
  })
  test('differences in shape are listed', () => {
    const base = fakeResult()
    assert.deepEqual(baselineMismatches(fakeResult(), base), [])
    const changed = fakeResult({parameters: {...base.parameters, qos: 1, payloadSize: 200}})
    assert.deepEqual(baselineMismatches(changed, base), ['qos 0 -> 1', 'payloadSize 100 -> 200'])
  })
})
