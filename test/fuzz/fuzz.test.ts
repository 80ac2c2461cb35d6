// The fuzzer inside npm test: a short seeded run against the real broker (a few thousand packets),
// every saved finding replayed, and the checks themselves shown to catch a broker that dies.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {basename} from 'node:path'
import {loadFindings, replay, toScripts} from './findings.js'
import {fuzz} from './fuzzer.js'
import {Target} from './target.js'

const SEED = 20_261_202

test(`a short fuzz run (seed ${SEED}, 5,000 packets): the broker stays up, the side client's QoS 1 round trip and every subscriber keep working`, async () => {
  const lines: string[] = []
  const s = await fuzz({seed: SEED, packets: 5000, connections: 100, mutationRate: 0.3, restartEvery: 0, persistence: false, auth: false,
    minimize: false, savePerKind: 0, log: (l) => lines.push(l)})
  assert.equal(s.crashes, 0, lines.join('\n'))
  assert.deepEqual(s.failures, {}, lines.join('\n'))
  assert.ok(s.packets >= 5000)
  // the run got deep: CONNECTs accepted, messages routed to the subscribers, and the mutations that
  // matter here were applied
  assert.ok(s.accepted > 0, `accepted ${s.accepted}`)
  assert.ok(s.subscriberMessages > 0, `subscriber messages ${s.subscriberMessages}`)
  for (const m of ['cut-prop', 'disallowed-prop', 'duplicate-prop', 'bad-utf8', 'packet-id-0', 'qos-3', 'truncate', 'huge-length', 'topic-alias', 'subscription-id']) {
    assert.ok((s.mutations[m] ?? 0) > 0, `mutation ${m} applied`)
  }
})

test('a short fuzz run with --persistence (restarted after every batch) and authentication (2,000 packets)', async () => {
  const lines: string[] = []
  const s = await fuzz({seed: SEED + 1, packets: 2000, connections: 100, mutationRate: 0.3, restartEvery: 1, persistence: true, auth: true,
    minimize: false, savePerKind: 0, log: (l) => lines.push(l)})
  assert.deepEqual(s.failures, {}, lines.join('\n'))
  assert.ok(s.accepted > 0, `accepted ${s.accepted}`)
  // the broker was restarted on its store after the first batch, and passed the checks again
  assert.ok(s.plannedRestarts >= 1, `planned restarts ${s.plannedRestarts}`)
})

for (const {file, finding} of loadFindings()) {
  test(`finding ${basename(file)} (${finding.kind}) no longer fails`, async () => {
    const failures = await replay(finding.setup, toScripts(finding))
    assert.deepEqual(failures, [], failures.map((f) => `${f.kind}: ${f.detail}`).join('\n'))
  })
}

test('the checks see a broker that died (SIGKILL between batches is reported as a crash)', async () => {
  const target = await Target.start({persistence: false, auth: false})
  try {
    assert.deepEqual(await target.check(), [])
    target.broker.child.kill('SIGKILL')
    await new Promise((resolve) => target.broker.child.once('exit', resolve))
    const failures = await target.check()
    assert.deepEqual(failures.map((f) => f.kind), ['crash'])
    assert.match(failures[0].detail, /signal SIGKILL/)
    // and the broker is brought back for the next batch
    await target.repair()
    assert.deepEqual(await target.check(), [])
  } finally {
    await target.stop()
  }
})
