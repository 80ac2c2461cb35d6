import assert from 'node:assert/strict'
import {Writable} from 'node:stream'
import {describe, test} from 'node:test'
import {ProgressDisplay, progressBar, statusLine} from '../../src/bench/progress.js'
import {formatSummary} from '../../src/bench/report.js'
import type {BenchStatus} from '../../src/bench/status.js'
import {fakeResult} from './bench-fixtures.js'

const status = (over: Partial<BenchStatus> = {}): BenchStatus => ({
  phase: 'measuring', elapsed: 4.2, progress: 0.5, runElapsed: 6, runLength: 12, clients: 11, attempted: 11, connected: 11, failed: 0, lost: 0,
  sent: 500_000, received: 499_000, acked: 0, errors: 0, sentRate: 98_200, receivedRate: 98_100, ackedRate: 0, connectRate: 0, ...over,
})

function sink(): {out: Writable; text: () => string} {
  let text = ''
  return {out: new Writable({write(chunk, _e, done) { text += chunk; done() }}), text: () => text}
}

describe('bench status and summary', () => {
  test('a plain status line', () => {
    assert.equal(statusLine(status()), '[  4s] measuring   sent 98.2k/s  recv 98.1k/s  total 500k  conns 11/11')
    assert.equal(statusLine(status({phase: 'connecting', connected: 5, connectRate: 250, failed: 2, errors: 2})),
      '[  4s] connecting  conns 5/11  250/s  failed 2  errors 2')
  })

  test('progress bars', () => {
    assert.equal(progressBar(0, 10), '░░░░░░░░░░   0%')
    assert.equal(progressBar(0.5, 10), '█████░░░░░  50%')
    assert.equal(progressBar(2, 10), '██████████ 100%')
  })

  test('not a terminal: one line per status; a terminal: one live line, rewritten, cleared at the end', () => {
    const plain = sink()
    const p = new ProgressDisplay(plain.out, {tty: false, color: false})
    p.update(status())
    p.update(status({elapsed: 5.2}))
    p.done()
    assert.equal(plain.text().split('\n').length, 3)
    assert.doesNotMatch(plain.text(), /\r|\x1b/)
    const tty = sink()
    const live = new ProgressDisplay(tty.out, {tty: true, color: false, columns: 60})
    live.update(status())
    live.done()
    assert.match(tty.text(), /^\r\x1b\[2K██████████░░░░░░░░░░ {2}50% 6\/12s {2}\[ {2}4s\] measuring/)
    assert.ok(tty.text().split('\r\x1b[2K')[1].length <= 59, 'cut to the terminal width')
    assert.ok(tty.text().endsWith('\r\x1b[2K'))
  })

  test('the summary names the run, the counts, the latencies, errors and gates', () => {
    const text = formatSummary(fakeResult({
      errors: {'connect: connection refused': 2},
      gates: [{condition: 'p99>20ms', passed: true, actual: 15_000, threshold: 20_000, message: 'p99>20ms passed: p99 = 15.0ms'}],
    }))
    assert.match(text, /^midge bench +end-to-end · 10 publishers → 1 subscriber · QoS 0 · 100 B · closed loop ≤ 50,000 outstanding\n/)
    assert.match(text, /published +1,000,000 +800,000 +80,000\/s/)
    assert.match(text, /lost +1,000 +0\.100%/)
    assert.match(text, /end-to-end +500µs +500µs +15\.0ms +15\.0ms +30\.0ms +1,000/)
    assert.match(text, /errors +2 +connect: connection refused/)
    assert.match(text, /gates +✔ p99>20ms passed/)
    assert.doesNotMatch(text, /\x1b/)
  })

  test('no message table when nothing connected; interrupted runs say so', () => {
    const none = formatSummary(fakeResult({connections: {attempted: 3, connected: 0, failed: 3, lost: 0, failures: {}, rate: 0, connackCodes: {}}, interrupted: true}))
    assert.doesNotMatch(none, /published/)
    assert.match(none, /interrupted: results so far/)
    assert.match(none, /0 of 3 connected · 3 failed/)
  })
})
