// `midge bench`'s loops and outputs as a user runs them: closed loop by default (nothing lost), open
// loop on request, loss explained, --json-stream and --report. The built binary against midge brokers
// in their own processes; assertions on counts, modes, shapes and files, never on timings.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {XMLValidator} from 'fast-xml-parser'
import {benchJson, SMALL_RUN} from '../helpers/bench.js'
import {runMidge} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'

const tmp = mkdtempSync(join(tmpdir(), 'midge-bench-modes-'))
after(() => rmSync(tmp, {recursive: true, force: true}))


describe('bench loops and outputs', () => {
  let broker: MidgeBroker
  let at: string[]
  before(async () => {
    broker = await startMidgeBroker()
    at = ['-h', '127.0.0.1', '-p', String(broker.port)]
  })
  after(async () => { await broker.stop() })

  test('the default is closed loop: nothing lost at QoS 0, the broker dropped nothing, the summary says so', async () => {
    const file = join(tmp, 'closed.json')
    const r = await runMidge(['bench', '--embedded', '--duration', '1.5', '--warmup', '0.5', '--workers', '1', '--out', file])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^midge bench +end-to-end · 10 publishers → 1 subscriber · QoS 0 · 256 B · closed loop ≤ 5,000 outstanding\n/)
    assert.match(r.stdout, /lost +0 +0\.000%/)
    assert.doesNotMatch(r.stdout, /why lost/)
    const doc = benchJson(readFileSync(file, 'utf8'))
    assert.deepEqual({loop: doc.parameters.loop, maxOutstanding: doc.parameters.maxOutstanding}, {loop: 'closed', maxOutstanding: 5000})
    assert.ok(doc.messages.sent > 0)
    assert.equal(doc.messages.received, doc.messages.expected)
    assert.equal(doc.messages.lost, 0)
    assert.deepEqual(doc.loss, {causes: [], brokerDrops: {}}, "the embedded broker's /metrics was read: no drop of any kind")
  })

  test('--open-loop: publishers that never wait, named in the summary; --max-outstanding with it is bad usage', async () => {
    const r = await runMidge(['bench', '--embedded', ...SMALL_RUN, '--open-loop', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const doc = benchJson(r.stdout)
    assert.deepEqual({loop: doc.parameters.loop, rate: doc.parameters.rate, maxOutstanding: doc.parameters.maxOutstanding}, {loop: 'open', rate: 0, maxOutstanding: 0})
    assert.equal(doc.messages.sent, 400)
    const human = await runMidge(['bench', ...at, ...SMALL_RUN, '--open-loop'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /· 64 B · open loop, as fast as the sockets take\n/)
    const bad = await runMidge(['bench', ...at, ...SMALL_RUN, '--open-loop', '--max-outstanding', '10'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--max-outstanding|--open-loop/)
  })

  test('--json-stream: NDJSON on stdout, a status record per second with its latency, then the result; people\'s lines on stderr', async () => {
    const file = join(tmp, 'stream.json')
    const r = await runMidge(['bench', '--embedded', '-c', '2', '-q', '1', '--duration', '3', '--warmup', '0.5', '-s', '64', '--workers', '1',
      '--json-stream', '--out', file])
    assert.equal(r.code, 0, r.stderr)
    const records = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, any>)
    const status = records.slice(0, -1)
    const last = records.at(-1)!
    assert.ok(status.length >= 2, `a status record a second: ${r.stdout}`)
    for (const s of status) {
      assert.equal(s.type, 'status')
      assert.deepEqual(Object.keys(s), ['type', 't', 'phase', 'sent', 'received', 'acked', 'rates', 'latency', 'connections', 'errors'])
      assert.deepEqual(Object.keys(s.rates), ['sent', 'received', 'acked'])
      assert.equal(s.latency.unit, 'us')
      assert.equal(s.errors, 0)
    }
    assert.ok(status.every((s, i) => i === 0 || s.t > status[i - 1].t && s.sent >= status[i - 1].sent), 'in time order, totals growing')
    const measured = status.filter((s) => s.latency.endToEnd !== null)
    assert.ok(measured.length > 0, 'the seconds with deliveries carry their latency')
    for (const s of measured) {
      for (const k of ['count', 'p50', 'p90', 'p99', 'p999', 'max']) assert.equal(typeof s.latency.endToEnd[k], 'number')
      assert.ok(s.latency.endToEnd.p50 <= s.latency.endToEnd.p99 && s.latency.endToEnd.p99 <= s.latency.endToEnd.max)
    }
    assert.ok(status.some((s) => s.latency.publishToAck !== null), 'QoS 1: publish-to-ack latency too')
    assert.equal(last.type, 'result')
    assert.equal(last.tool, 'midge bench')
    assert.equal(last.exitCode, 0)
    const {type: _type, ...doc} = last
    assert.deepEqual(benchJson(readFileSync(file, 'utf8')), doc, '--out writes the same final document')
    assert.match(r.stderr, /^\[ +1s\] /m, 'the status lines for people stay on stderr')
    const both = await runMidge(['bench', '--embedded', ...SMALL_RUN, '--json', '--json-stream'])
    assert.equal(both.code, 2)
    assert.match(both.stderr, /--json/)
  })

  test('--report FILE: one self-contained HTML page with the run\'s numbers and charts; an unwritable FILE exits 1', async () => {
    const file = join(tmp, 'report.html')
    const out = join(tmp, 'report.json')
    const r = await runMidge(['bench', '--embedded', '-c', '2', '--duration', '2', '--warmup', '0.5', '-s', '64', '--workers', '1', '--report', file, '--out', out])
    assert.equal(r.code, 0, r.stderr)
    const page = readFileSync(file, 'utf8')
    const doc = benchJson(readFileSync(out, 'utf8'))
    assert.equal(XMLValidator.validate(page), true)
    assert.doesNotMatch(page, /<script|<link|<img|src=|href=/)
    assert.ok(page.includes(`<div class="v">${doc.rates.received.toLocaleString('en-US')}/s</div><div class="k">delivered</div>`), 'the delivered rate')
    assert.ok(page.includes(`<div class="k">end-to-end p99</div>`))
    assert.ok(page.includes(doc.broker.url))
    assert.equal(page.match(/<svg /g)?.length, 3)
    assert.ok((page.match(/<polyline /g)?.length ?? 0) >= 3, 'rates, latencies over time and the distribution are drawn')
    const bad = await runMidge(['bench', '--embedded', ...SMALL_RUN, '--report', join(tmp, 'missing', 'report.html')])
    assert.equal(bad.code, 2, 'found before the run')
    assert.match(bad.stderr, /^midge bench: --report: cannot write '.+report\.html': ENOENT\n$/)
  })
})

describe('bench loss', () => {
  test('loss, explained: open loop past a broker whose queues hold 2 messages (MQTT 3.1.1: dropped; 5: refused)', async () => {
    const broker = await startMidgeBroker(['--max-queued-messages', '2', '--max-inflight-messages', '1'])
    try {
      const run = ['bench', '-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '--open-loop', '-c', '10', '-L', '2000', '--duration', '0',
        '--warmup', '0', '--workers', '1', '-s', '64', '--json']
      const v3 = await runMidge([...run, '-V', '311'])
      assert.equal(v3.code, 0, v3.stderr)
      const doc = benchJson(v3.stdout)
      assert.equal(doc.parameters.loop, 'open')
      assert.ok(doc.messages.lost > 0, 'ten publishers with ten QoS 1 messages in flight each overflow a queue of 2')
      assert.equal(doc.messages.received + doc.messages.lost, 2000)
      assert.equal(doc.loss.brokerDrops, null, 'not an embedded broker: its counts are not known')
      assert.match(doc.loss.causes[0], /^the broker dropped deliveries beyond a session's queue limit/)
      assert.match(doc.loss.causes[1], /^open loop: /)
      const v5 = await runMidge([...run, '-V', '5'])
      assert.equal(v5.code, 13, 'MQTT 5: the broker refuses what it cannot queue (PUBACK 0x97)')
      const doc5 = benchJson(v5.stdout)
      assert.ok(doc5.messages.refused > 0)
      assert.match(doc5.loss.causes[0], /^the broker refused [\d,]+ publishes \(PUBACK: quota exceeded \(0x97\)\): they were never delivered$/)
    } finally {
      await broker.stop()
    }
  })
})
