// `midge bench` as a user runs it: the built binary against a midge broker in its own process (and
// Debian's mosquitto where a case needs a broker that refuses or drops). Small runs; assertions on
// exit codes, counts and the shape of the output, never on timings. The gate, baseline and usage cases
// run the command in this process (cli-in-process.ts).
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {once} from 'node:events'
import {collect, runMidge, spawnMidge} from '../helpers/cli.js'
import {benchJson, SMALL_RUN} from '../helpers/bench.js'
import {runMidgeInProcess} from '../helpers/cli-in-process.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {freePort, hasMosquitto, startMosquitto} from '../helpers/mosquitto.js'

const tmp = mkdtempSync(join(tmpdir(), 'midge-bench-'))
after(() => rmSync(tmp, {recursive: true, force: true}))


describe('bench against a midge broker in its own process', () => {
  let broker: MidgeBroker
  let at: string[]
  before(async () => {
    broker = await startMidgeBroker()
    at = ['-h', '127.0.0.1', '-p', String(broker.port)]
  })
  after(async () => { await broker.stop() })

  test('--json: one JSON document on stdout and nothing else; exit 0', async () => {
    const r = await runMidge(['bench', ...at, ...SMALL_RUN, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const doc = benchJson(r.stdout)
    assert.equal(doc.tool, 'midge bench')
    assert.equal(doc.mode, 'e2e')
    assert.equal(doc.broker.url, `mqtt://127.0.0.1:${broker.port}`)
    assert.deepEqual(Object.keys(doc), ['tool', 'schema', 'mode', 'broker', 'parameters', 'startedAt', 'interrupted', 'durations',
      'connections', 'messages', 'loss', 'window', 'rates', 'latency', 'errors', 'cpu', 'gates', 'baseline', 'exitCode', 'failure'])
    assert.deepEqual({sent: doc.messages.sent, received: doc.messages.received, lost: doc.messages.lost, duplicates: doc.messages.duplicates},
      {sent: 400, received: 400, lost: 0, duplicates: 0})
    assert.equal(doc.connections.connected, 3)
    assert.equal(doc.latency.unit, 'us')
    for (const k of ['count', 'p50', 'p90', 'p99', 'p999', 'max']) assert.equal(typeof doc.latency.endToEnd[k], 'number')
    assert.equal(typeof doc.cpu.bench.cores, 'number')
    assert.equal(doc.exitCode, 0)
  })

  test('the summary table on stdout, status lines on stderr', async () => {
    const r = await runMidge(['bench', ...at, '-c', '2', '--duration', '1.2', '--warmup', '0.3', '--rate', '2000', '-s', '64'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^midge bench +end-to-end · 2 publishers → 1 subscriber · QoS 0 · 64 B · open loop 2,000 msg\/s/)
    assert.match(r.stdout, /published +[\d,]+ +[\d,]+ +[\d,]+\/s/)
    assert.match(r.stdout, /end-to-end +\S+ +\S+ +\S+ +\S+ +\S+ +[\d,]+/)
    assert.match(r.stdout, /errors +none/)
    // a status line a second; which phase the first one shows depends on how fast the machine connects
    assert.match(r.stderr, /^\[ +\d+s\] (connecting +conns \d+\/\d+|(warmup|measuring|draining) +sent [\d.k]+\/s +recv)/m)
    assert.doesNotMatch(r.stderr, /\r|\x1b\[/, 'plain lines when stderr is not a terminal')
  })

  test('a failing --fail-if exits 15 and names the condition; the others are reported too', async () => {
    const r = await runMidgeInProcess(['bench', ...at, ...SMALL_RUN, '--fail-if', 'sent<1M', '--fail-if', 'loss>0,errors>0'])
    assert.equal(r.code, 15)
    assert.match(r.stderr, /midge bench: sent<1M failed: sent = 400, < 1,000,000/)
    assert.match(r.stdout, /✘ sent<1M failed/)
    assert.match(r.stdout, /✔ loss>0 passed/)
  })

  test('gates in the JSON document; a passing set exits 0', async () => {
    const r = await runMidgeInProcess(['bench', ...at, ...SMALL_RUN, '--json', '--fail-if', 'loss>0', '--fail-if', 'p99>10s'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(benchJson(r.stdout).gates.map((g: {condition: string; passed: boolean}) => [g.condition, g.passed]), [['loss>0', true], ['p99>10s', true]])
  })

  test('--baseline: below 0.9x of its throughput exits 15; an unreadable one exits 10', async () => {
    const first = benchJson((await runMidgeInProcess(['bench', ...at, ...SMALL_RUN, '--json'])).stdout)
    first.rates.received = 1e12
    const file = join(tmp, 'baseline.json')
    writeFileSync(file, JSON.stringify(first))
    const r = await runMidgeInProcess(['bench', ...at, ...SMALL_RUN, '--baseline', file, '--json'])
    assert.equal(r.code, 15)
    const doc = benchJson(r.stdout)
    assert.equal(doc.baseline.file, file)
    assert.ok(doc.baseline.ratio < 0.9)
    assert.match(doc.failure, /^rate<0.9x failed: rate = .*\(0.9x baseline\)$/)
    const missing = await runMidgeInProcess(['bench', ...at, ...SMALL_RUN, '--baseline', join(tmp, 'nope.json')])
    assert.equal(missing.code, 10)
    assert.match(missing.stderr, /cannot read --baseline/)
  })

  test('bad usage exits 2 with a one-line reason', async () => {
    for (const [args, message] of [
      [['--fail-if', 'speed>3'], /unknown metric 'speed'/],
      [['--scenario', 'builtin', '--fail-if', 'speed>3'], /unknown metric 'speed'/],
      [['--fail-if', 'rate<0.9x'], /needs --baseline/],
      [['--client-id', 'same'], /has no %i/],
      [['--duration', 'soon'], /not a duration/],
    ] as const) {
      const r = await runMidgeInProcess(['bench', ...at, ...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
    }
  })

  test('bench conn: opens, holds and closes the connections', async () => {
    const r = await runMidge(['bench', 'conn', ...at, '-c', '60', '--duration', '0.3', '--json', '--fail-if', 'connected<60'])
    assert.equal(r.code, 0, r.stderr)
    const doc = benchJson(r.stdout)
    assert.equal(doc.mode, 'conn')
    assert.equal(doc.connections.connected, 60)
    assert.equal(doc.latency.connect.count, 60)
    assert.equal(doc.latency.endToEnd, null)
  })

  test('bench sub and bench pub in two processes: the subscriber sees every message of the publisher', async () => {
    const sub = spawnMidge(['bench', 'sub', ...at, '-c', '2', '-t', 'split/#', '-L', '600', '--duration', '0', '--warmup', '0', '--json', '--workers', '1'])
    const done = collect(sub, 60_000)
    await stderrMatches(sub, /conns 2\/2/)
    const pub = await runMidge(['bench', 'pub', ...at, '-c', '3', '-t', 'split/%i', '-L', '300', '--duration', '0', '--warmup', '0', '-q', '1', '--json'])
    assert.equal(pub.code, 0, pub.stderr)
    assert.equal(benchJson(pub.stdout).messages.acked, 300)
    const s = await done
    assert.equal(s.code, 0, s.stderr)
    const doc = benchJson(s.stdout)
    assert.deepEqual([doc.messages.received, doc.messages.lost, doc.messages.duplicates], [600, 0, 0])
  })

  test('Ctrl-C (SIGINT) prints the summary so far', async () => {
    const child = spawnMidge(['bench', ...at, '-c', '2', '--duration', '60', '--warmup', '0', '--rate', '1000', '-s', '64'])
    const done = collect(child, 60_000)
    await stderrMatches(child, /measuring/)
    child.kill('SIGINT')
    const r = await done
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /interrupted: results so far/)
    assert.match(r.stdout, /published +[1-9][\d,]*/)
  })

  test('--embedded: benches a broker of its own, reports its CPU and stops it', async () => {
    const r = await runMidge(['bench', '--embedded', ...SMALL_RUN, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const doc = benchJson(r.stdout)
    assert.equal(doc.broker.embedded, true)
    assert.equal(doc.messages.received, 400)
    assert.equal(typeof doc.cpu.broker.pid, 'number')
    assert.throws(() => process.kill(doc.cpu.broker.pid, 0), 'the embedded broker is gone')
  })




  test('--out FILE: the --json document in a file, the summary on stdout; an unwritable FILE exits 2 before the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'midge-bench-out-'))
    try {
      const file = join(dir, 'result.json')
      const r = await runMidge(['bench', '--embedded', ...SMALL_RUN, '--out', file])
      assert.equal(r.code, 0, r.stderr)
      assert.throws(() => JSON.parse(r.stdout) as unknown, 'stdout is the summary for people')
      const doc = benchJson(readFileSync(file, 'utf8'))
      assert.equal(doc.messages.received, 400)
      assert.equal(doc.exitCode, 0)
      // found before the run: one error line, exit 2, no status line (nothing ran), no broker started
      const bad = await runMidge(['bench', '--embedded', ...SMALL_RUN, '--out', join(dir, 'missing', 'result.json')])
      assert.equal(bad.code, 2, bad.stderr)
      assert.equal(bad.stdout, '')
      assert.match(bad.stderr, /^midge bench: --out: cannot write '.+result\.json': ENOENT\n$/)
      const folder = await runMidge(['bench', '--embedded', ...SMALL_RUN, '--out', dir])
      assert.equal(folder.code, 2, folder.stderr)
      assert.match(folder.stderr, /^midge bench: --out: cannot write '.+': EISDIR\n$/)
      const ramp = await runMidge(['bench', '--embedded', '--ramp', '0..1000/s over 3s', '--p99-limit', '50', '--out', join(dir, 'missing', 'ramp.json')])
      assert.equal(ramp.code, 2, ramp.stderr)
      assert.match(ramp.stderr, /^midge bench: --out: cannot write '.+ramp\.json': ENOENT\n$/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

})

describe('bench failures', () => {

  test('an unreachable broker: a clear summary and exit 11, at once', async () => {
    const port = await freePort()
    const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', String(port), '--duration', '30'], {timeoutMs: 20_000})
    assert.equal(r.code, 11)
    assert.equal(r.signal, null)
    assert.match(r.stderr, new RegExp(`midge bench: 11 of 11 connections to mqtt://127.0.0.1:${port} failed: 11 × connect: connection refused`))
    assert.match(r.stdout, /0 of 11 connected · 11 failed/)
  })

  test('a broker that accepts nothing but TCP: no CONNACK within --connect-timeout, exit 11', async () => {
    const {createServer} = await import('node:net')
    const silent = createServer((socket) => { socket.on('data', () => undefined) })
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    const port = (silent.address() as {port: number}).port
    try {
      const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', String(port), '-c', '2', '--connect-timeout', '1', '--json'], {timeoutMs: 20_000})
      assert.equal(r.code, 11)
      assert.deepEqual(benchJson(r.stdout).connections.failures, {'connect: no CONNACK within 1s': 3})
    } finally {
      silent.close()
    }
  })

  test('refused connections exit with the CONNACK code (mosquitto, no anonymous access)', {skip: !hasMosquitto()}, async () => {
    const m = await startMosquitto({users: {alice: 'secret'}})
    try {
      const v3 = await runMidge(['bench', 'conn', '-h', m.host, '-p', String(m.port), '-c', '5', '-V', '311'])
      assert.equal(v3.code, 5)
      assert.match(v3.stderr, /5 of 5 connections .* failed: 5 × CONNACK: not authorized \(0x05\)/)
      const v5 = await runMidge(['bench', 'conn', '-h', m.host, '-p', String(m.port), '-c', '5', '--json'])
      assert.equal(v5.code, 135)
      assert.deepEqual(benchJson(v5.stdout).connections.connackCodes, {135: 5})
    } finally {
      await m.stop()
    }
  })

  test('a broker that delivers nothing: loss 100% and exit 15, saying so (mosquitto, ACL without read)', {skip: !hasMosquitto()}, async () => {
    const m = await startMosquitto({acl: 'topic write bench/#\n'})
    try {
      const r = await runMidge(['bench', '-h', m.host, '-p', String(m.port), '-V', '311', ...SMALL_RUN, '--json'])
      assert.equal(r.code, 15)
      const doc = benchJson(r.stdout)
      assert.equal(doc.messages.sent, 400)
      assert.equal(doc.messages.received, 0)
      assert.equal(doc.messages.lossPercent, 100)
      assert.match(r.stderr, /no message was delivered: 400 published, 400 deliveries expected, none received/)
    } finally {
      await m.stop()
    }
  })
})

describe('bench over TLS and WebSocket (mosquitto)', {skip: !hasMosquitto()}, () => {
  test('--cafile: TLS with the certificate checked against the host name; ws://: a WebSocket endpoint', async () => {
    const m = await startMosquitto({tls: true, websocket: true})
    try {
      const tls = await runMidge(['bench', '-h', 'localhost', '-p', String(m.tlsPort), '--cafile', m.caFile!, '-V', '311', ...SMALL_RUN, '--json'])
      assert.equal(tls.code, 0, tls.stderr)
      assert.equal(benchJson(tls.stdout).messages.received, 400)
      const ws = await runMidge(['bench', '--url', `ws://127.0.0.1:${m.wsPort}/mqtt`, '-V', '311', ...SMALL_RUN, '--json'])
      assert.equal(ws.code, 0, ws.stderr)
      assert.equal(benchJson(ws.stdout).messages.received, 400)
      const untrusted = await runMidge(['bench', '-h', 'localhost', '-p', String(m.tlsPort), '--tls-version', 'tlsv1.2', '-V', '311', ...SMALL_RUN])
      assert.equal(untrusted.code, 11)
      assert.match(untrusted.stderr, /failed: 3 × connect: .*certificate/)
    } finally {
      await m.stop()
    }
  })
})

/** Resolves when what `child` printed on stderr so far matches `pattern` (fails if it exits first). */
async function stderrMatches(child: ReturnType<typeof spawnMidge>, pattern: RegExp): Promise<void> {
  let err = ''
  const matched = new Promise<void>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (pattern.test(err)) resolve() })
  })
  const exited = once(child, 'exit').then(() => { throw new Error(`exited before printing ${pattern}: ${err}`) })
  await Promise.race([matched, exited])
}
