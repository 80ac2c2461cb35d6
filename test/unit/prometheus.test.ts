import assert from 'node:assert/strict'
import {test} from 'node:test'
import {renderPrometheus} from '../../src/broker/metrics-http.js'
import {parsePrometheus, sample} from '../helpers/prometheus.js'

test('the text format escapes label values and HELP, and writes special values', () => {
  const text = renderPrometheus([
    {name: 'a_total', help: 'back\\slash\nnewline', type: 'counter', samples: [{labels: {l: 'q"uote\\back\nline'}, value: 3}, {labels: {l: 'x'}, value: 0}]},
    {name: 'b', help: 'gauge', type: 'gauge', samples: [{value: NaN}, {labels: {k: 'inf'}, value: Infinity}, {labels: {k: 'neg'}, value: -Infinity}, {labels: {k: 'f'}, value: 0.25}]},
  ])
  const m = parsePrometheus(text)
  assert.equal(m.get('a_total')!.help, 'back\\slash\nnewline')
  assert.equal(sample(m, 'a_total', {l: 'q"uote\\back\nline'}), 3)
  assert.ok(Number.isNaN(m.get('b')!.samples[0].value))
  assert.equal(sample(m, 'b', {k: 'inf'}), Infinity)
  assert.equal(sample(m, 'b', {k: 'neg'}), -Infinity)
  assert.equal(sample(m, 'b', {k: 'f'}), 0.25)
})

test('the strict parser refuses what Prometheus would', () => {
  const bad = [
    'a 1', // no newline at the end
    '# TYPE a counter\na -1\n', // negative counter
    '# TYPE a gauge\na{l="x} 1\n', // unterminated label
    '# TYPE a gauge\na{l="\\x"} 1\n', // bad escape
    '# TYPE a gauge\na 1\na 2\n', // duplicate series
    '# TYPE a gauge\n# TYPE b gauge\na 1\n', // families interleaved
    '# TYPE a gauge\na one\n', // bad value
    '# TYPE a gauge\na{l="1",l="2"} 1\n', // repeated label
  ]
  for (const text of bad) assert.throws(() => parsePrometheus(text.endsWith('\n') || text === 'a 1' ? text : text + '\n'), text)
})
