// `midge bench --scenario FILE`: several scenarios from one YAML or JSON file run in order against one
// broker, one table row and one JSON entry per scenario; the built-in scenarios file; the one-line
// errors for bad files. The built binary against its embedded broker or a midge broker of the test's;
// assertions on names, counts, shapes and exit codes, never on timings.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import mqtt from 'mqtt'
import {loadScenarios} from '../../src/cli/bench/scenario-file.js'
import {ROOT, runMidge} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'

const tmp = mkdtempSync(join(tmpdir(), 'midge-bench-scenario-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

function write(name: string, text: string): string {
  const file = join(tmp, name)
  writeFileSync(file, text)
  return file
}

const TWO = `# two small scenarios
scenarios:
  - name: fanin-qos0
    publishers: 3
    subscribers: 1
    topic: t/%i
    sub-topic: [t/0, t/2]
    size: 64
    limit: 300
    duration: 0
    warmup: 0
  - name: fanout-qos1
    count: 1
    subs: 2
    qos: 1
    topic: q/%c
    sub-topic: q/b-pub-0
    size: 48B
    limit: 100
    duration: 0s
    warmup: 0
    protocol-version: 5
    property:
      - connect user-property team bench
      - [connect, session-expiry-interval, "0"]
`

describe('bench --scenario', () => {
  let broker: MidgeBroker
  before(async () => { broker = await startMidgeBroker() })
  after(async () => { await broker.stop() })

  test('a YAML file: every scenario in order, one JSON document with each result, the placeholders expanded', async () => {
    const file = write('two.yaml', TWO)
    const out = join(tmp, 'two.json')
    const r = await runMidge(['bench', '--embedded', '--workers', '1', '--client-id', 'b-%r-%i', '--scenario', file, '--json', '--out', out])
    assert.equal(r.code, 0, r.stderr)
    const doc = JSON.parse(r.stdout) as Record<string, any>
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), doc, '--out holds the same document')
    assert.deepEqual({tool: doc.tool, file: doc.scenarioFile, exitCode: doc.exitCode, failure: doc.failure}, {tool: 'midge bench', file, exitCode: 0, failure: null})
    assert.deepEqual(doc.scenarios.map((s: any) => s.scenario), ['fanin-qos0', 'fanout-qos1'])
    const [a, b] = doc.scenarios
    assert.deepEqual([a.parameters.publishers, a.parameters.subscribers, a.parameters.qos, a.parameters.payloadSize], [3, 1, 0, 64])
    assert.deepEqual([b.parameters.publishers, b.parameters.subscribers, b.parameters.qos, b.parameters.payloadSize], [1, 2, 1, 48])
    assert.equal(a.messages.sent, 300)
    assert.equal(a.messages.received, 200, 'the subscriber of t/0 and t/2 gets publishers 0 and 2 (%i)')
    assert.equal(b.messages.sent, 100)
    assert.equal(b.messages.received, 200, 'two subscribers of q/b-pub-0 each get the 100 (%c: the publisher\'s client id)')
    assert.equal(b.messages.acked, 100)
    assert.equal(a.broker.url, b.broker.url, 'one embedded broker for both')
    assert.equal(b.broker.protocolVersion, '5')
    assert.match(r.stderr, /scenario 1\/2 'fanin-qos0'[\s\S]*scenario 2\/2 'fanout-qos1'/)
  })

  test('a JSON file against a broker of ours: one table, a row per scenario in the file\'s order', async () => {
    const file = write('two.json', JSON.stringify([
      {name: 'second-first', count: 2, subs: 1, limit: 50, duration: 0, warmup: 0, size: 32},
      {name: 'then-this', count: 1, subs: 3, topic: 'x/y', 'sub-topic': 'x/+', limit: 40, duration: 0, warmup: 0, qos: 1},
    ]))
    const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', String(broker.port), '--workers', '1', '--scenario', file])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.match(lines[0], new RegExp(`^midge bench +2 scenarios from ${file} · mqtt://127\\.0\\.0\\.1:${broker.port}$`))
    assert.match(lines[2], /^scenario +load +sent +delivered +lost +rate +p50 +p99 +exit$/)
    assert.match(lines[3], /^second-first +2→1 QoS 0 32 B closed loop .* 50 +50 +0 +\S+\/s +\S+ +\S+ +0$/)
    assert.match(lines[4], /^then-this +1→3 QoS 1 256 B closed loop .* 40 +120 +0 +\S+\/s +\S+ +\S+ +0$/)
    assert.equal(lines.length, 5)
  })

  test('the shipped file: the scenarios of bench:compare, runnable by name with the command line\'s limits', async () => {
    const {scenarios} = await loadScenarios('builtin', ROOT)
    assert.deepEqual(scenarios.map((s) => s.name), ['fanin', 'fanout100', 'fanout1000', 'qos1', 'latency', 'qos1-stored'])
    assert.deepEqual(scenarios.find((s) => s.name === 'fanout1000')!.flags, {
      'protocol-version': '311', size: 100, count: 1, subs: 1000, topic: 'bench/fanout', 'sub-topic': ['bench/fanout'], 'max-outstanding': 50_000,
    })
    const r = await runMidge(['bench', '--embedded', '--workers', '1', '--scenario', 'builtin:qos1,fanin', '-L', '200', '--duration', '0', '--warmup', '0', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const doc = JSON.parse(r.stdout) as Record<string, any>
    assert.deepEqual(doc.scenarios.map((s: any) => [s.scenario, s.parameters.publishers, s.parameters.qos, s.parameters.payloadSize, s.messages.sent, s.broker.protocolVersion]),
      [['qos1', 10, 1, 100, 200, '3.1.1'], ['fanin', 10, 0, 100, 200, '3.1.1']])
    assert.match(doc.scenarioFile, /scenarios\/builtin\.yaml$/)
  })

  test('payload-file: the file\'s bytes are the payload (the bench header over the first 20), as another client sees them', async () => {
    const body = Buffer.from(Array.from({length: 300}, (_, i) => (i * 7) % 256))
    writeFileSync(join(tmp, 'body.bin'), body)
    const file = write('payload.yaml', '- {name: from-file, count: 1, topic: pf/%i, sub-topic: pf/#, payload-file: body.bin, limit: 30, duration: 0, warmup: 0}\n')
    const watcher = await mqtt.connectAsync(broker.url, {reconnectPeriod: 0, connectTimeout: 20_000})
    try {
      await watcher.subscribeAsync('pf/#')
      const seen: Buffer[] = []
      watcher.on('message', (_topic, payload) => { seen.push(payload) })
      const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', String(broker.port), '--workers', '1', '--scenario', file, '--json'])
      assert.equal(r.code, 0, r.stderr)
      const doc = JSON.parse(r.stdout) as Record<string, any>
      assert.equal(doc.scenarios[0].parameters.payloadSize, 300)
      assert.equal(doc.scenarios[0].messages.received, 30)
      await new Promise<void>((resolve) => { const check = () => seen.length >= 30 ? resolve() : setTimeout(check, 20); check() })
      for (const p of seen) {
        assert.equal(p.length, 300)
        assert.deepEqual(p.subarray(20), body.subarray(20))
      }
      assert.deepEqual(seen.map((p) => p.readUInt32LE(8)), Array.from({length: 30}, (_, i) => i), 'the header: sequence numbers 0..29')
    } finally {
      await watcher.endAsync()
    }
    const missing = write('nofile.yaml', '- {name: gone, payload-file: nothing-here.bin}\n')
    const r = await runMidge(['bench', '--scenario', missing])
    assert.equal(r.code, 10)
    assert.match(r.stderr, /nofile\.yaml: scenario 'gone': key 'payload-file': cannot read '.*nothing-here\.bin': ENOENT$/m)
  })

  test('--payload-file on the command line: the same bytes as the scenario key; unreadable or empty exits 10', async () => {
    const body = Buffer.from(Array.from({length: 64}, (_, i) => 255 - i))
    writeFileSync(join(tmp, 'flag.bin'), body)
    const watcher = await mqtt.connectAsync(broker.url, {reconnectPeriod: 0, connectTimeout: 20_000})
    try {
      await watcher.subscribeAsync('pff/#')
      const seen: Buffer[] = []
      watcher.on('message', (_topic, payload) => { seen.push(payload) })
      const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', String(broker.port), '--workers', '1', '-c', '1', '-t', 'pff/%i',
        '--sub-topic', 'pff/#', '--payload-file', join(tmp, 'flag.bin'), '-L', '20', '--duration', '0', '--warmup', '0', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const doc = JSON.parse(r.stdout) as Record<string, any>
      assert.equal(doc.parameters.payloadSize, 64)
      assert.equal(doc.messages.received, 20)
      await new Promise<void>((resolve) => { const check = () => seen.length >= 20 ? resolve() : setTimeout(check, 20); check() })
      for (const p of seen) assert.deepEqual(p.subarray(20), body.subarray(20))
    } finally {
      await watcher.endAsync()
    }
    const gone = await runMidge(['bench', '--payload-file', join(tmp, 'not-there.bin')])
    assert.equal(gone.code, 10)
    assert.match(gone.stderr, /^midge bench: cannot read --payload-file '.*not-there\.bin': ENOENT$/m)
    writeFileSync(join(tmp, 'empty.bin'), '')
    const empty = await runMidge(['bench', '--payload-file', join(tmp, 'empty.bin')])
    assert.equal(empty.code, 10)
    assert.match(empty.stderr, /--payload-file '.*empty\.bin' is empty$/m)
    const both = await runMidge(['bench', '--payload-file', join(tmp, 'flag.bin'), '-s', '100'])
    assert.equal(both.code, 2)
  })

  test('--json-stream: every record names its scenario, a result record after each', async () => {
    const file = write('stream.yaml', '- {name: one, count: 1, duration: 1.5, warmup: 0, size: 64}\n- {name: two, count: 1, limit: 10, duration: 0, warmup: 0}\n')
    const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', String(broker.port), '--workers', '1', '--scenario', file, '--json-stream'])
    assert.equal(r.code, 0, r.stderr)
    const records = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, any>)
    assert.ok(records.some((x) => x.type === 'status' && x.scenario === 'one'), r.stdout)
    assert.deepEqual(records.filter((x) => x.type === 'result').map((x) => [x.scenario, x.exitCode]), [['one', 0], ['two', 0]])
    assert.ok(records.findIndex((x) => x.scenario === 'two') > records.findIndex((x) => x.type === 'result'), 'in order')
  })

  test('a failing scenario: the others still run, the exit code and the line are the first failure\'s', async () => {
    const file = write('gate.yaml', 'scenarios:\n  - {name: ok, count: 1, limit: 20, duration: 0, warmup: 0}\n  - {name: wildcard, count: 1, qos: 1, topic: "bad/#", limit: 20, duration: 0, warmup: 0}\n  - {name: after, count: 1, limit: 20, duration: 0, warmup: 0}\n')
    const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', String(broker.port), '--workers', '1', '--scenario', file])
    assert.equal(r.code, 12, r.stderr)
    assert.match(r.stderr, /^midge bench: scenario 'wildcard': 1 connections were lost during the run: .*topic name invalid/m)
    const rows = r.stdout.trimEnd().split('\n').slice(3).map((l) => [l.split(/ +/)[0], l.split(/ +/).at(-1)])
    assert.deepEqual(rows, [['ok', '0'], ['wildcard', '12'], ['after', '0']])
  })

  test('bad files: one line naming the file, the scenario and the key; exit 10 (2 for an unknown built-in)', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['qos.yaml', 'scenarios:\n  - name: a\n    qos: 3\n', /qos\.yaml: scenario 'a': key 'qos': 3 is not 0, 1 or 2$/],
      ['key.json', '[{"name": "b", "clients": 3}]', /key\.json: scenario 'b': unknown key 'clients' \(name, payload-file, publishers, subscribers, count, subs, /],
      ['dup.yaml', '- {name: c, count: 1}\n- {name: c, count: 2}\n', /dup\.yaml: scenario 'c': the name is used twice$/],
      ['noname.yaml', '- {count: 1}\n', /noname\.yaml: scenario 1: key 'name': expected a name/],
      ['prop.yaml', '- name: d\n  property: ["publish content-type text/plain"]\n', /prop\.yaml: scenario 'd': key 'property': bench takes connect properties only/],
      ['size.yaml', '- {name: e, size: lots}\n', /size\.yaml: scenario 'e': key 'size': 'lots' is not a size in bytes/],
      ['twice.yaml', '- {name: f, count: 1, publishers: 2}\n', /twice\.yaml: scenario 'f': key 'publishers': set twice \(publishers and count\)$/],
      ['id.yaml', '- {name: g, count: 2}\n', /id\.yaml: scenario 'g': --client-id 'fixed' has no %i/],
      ['broken.yaml', 'scenarios: [\n', /broken\.yaml: not valid YAML: /],
      ['empty.yaml', 'scenarios: []\n', /empty\.yaml: expected a non-empty list of scenarios/],
    ]
    for (const [name, text, message] of cases) {
      const r = await runMidge(['bench', '-h', '127.0.0.1', '-p', String(broker.port), '--client-id', 'fixed', '--scenario', write(name, text)])
      assert.equal(r.code, 10, `${name}: ${r.stderr}`)
      assert.match(r.stderr.trimEnd(), new RegExp(`^midge bench: ${tmp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/${message.source}`), name)
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${name}: one line`)
      assert.equal(r.stdout, '', `${name}: nothing measured`)
    }
    const missing = await runMidge(['bench', '--scenario', join(tmp, 'none.yaml')])
    assert.equal(missing.code, 10)
    assert.match(missing.stderr, /cannot read --scenario '.*none\.yaml': ENOENT/)
    const unknown = await runMidge(['bench', '--scenario', 'builtin:fanin,nope'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /no built-in scenario 'nope' \(fanin, fanout100, /)
  })
})
