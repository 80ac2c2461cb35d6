// The library's public surface as an embedder sees it: the declarations in dist/ (what `import ... from
// 'midge'` type-checks against) expose the Broker members the README documents and nothing of the
// engine behind it; the topic helpers exported for embedders behave as documented.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {before, describe, test} from 'node:test'
import ts from 'typescript'
import {createBroker, PROTOCOL_MAX_PACKET_SIZE, serveOps, topicMatches, validateTopicFilter, validateTopicName} from '../../src/index.js'

const dist = resolve('dist/index.d.ts')
const pkg = JSON.stringify(resolve('dist/index.js'))

const DOCUMENTED = `
export async function use(stream: import('node:stream').Duplex): Promise<number> {
  const broker: Broker = createBroker({maxQueuedMessages: 10})
  broker.events.on('clientConnected', (e) => void e.clientId)
  const {port} = await broker.listen({host: '127.0.0.1', port: 0})
  broker.handle(stream, '127.0.0.1', {username: 'device'})
  await broker.restore()
  const names = broker.listBridges().map((b) => b.stats)
  void broker.address()?.port
  await broker.close()
  return port + broker.connectionCount + names.length
}`
const INTERNAL = ['router', 'sessions', 'retained', 'persistence', 'control', 'listeners', 'sys', 'bridges', 'metrics', 'options',
  'watchdog', 'writes', 'enhancedAuth', 'publish', 'joinCluster', 'attach', 'internalError', 'engine']

/**
 * Type-checks one embedder's module importing the built package: the documented usage, then one line
 * per internal member, then an import of engineOf. Returns each error's message by its line.
 */
function embedderErrors(): Map<number, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'midge-embedder-'))
  try {
    const file = join(dir, 'embedder.ts')
    const lines = [
      `import {createBroker, type Broker} from ${pkg}`,
      ...DOCUMENTED.split('\n'),
      ...INTERNAL.map((m) => `export const peek_${m} = (broker: Broker): unknown => broker.${m}`),
      `import {engineOf} from ${pkg}`,
      'export const e = engineOf',
    ]
    writeFileSync(file, lines.join('\n'))
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: ['node'],
      typeRoots: [resolve('node_modules/@types')],
    })
    const sf = program.getSourceFile(file)!
    const byLine = new Map<number, string[]>()
    for (const d of ts.getPreEmitDiagnostics(program, sf)) {
      const line = sf.getLineAndCharacterOfPosition(d.start ?? 0).line + 1
      byLine.set(line, [...(byLine.get(line) ?? []), ts.flattenDiagnosticMessageText(d.messageText, '\n')])
    }
    return byLine
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

describe('the library surface (dist/index.d.ts)', () => {
  let errors: Map<number, string[]> = new Map()
  const documentedLines = DOCUMENTED.split('\n').length
  const internalLine = (i: number) => 1 + documentedLines + i + 1
  before(() => {
    assert.ok(existsSync(dist), `${dist} is missing: run npm run build first`)
    errors = embedderErrors()
  })

  test('every documented Broker member type-checks for an embedder', () => {
    const inDocumented = [...errors].filter(([line]) => line <= 1 + documentedLines)
    assert.deepEqual(inDocumented, [])
  })

  for (const [i, member] of INTERNAL.entries()) {
    test(`broker.${member} is not reachable`, () => {
      const found = errors.get(internalLine(i)) ?? []
      assert.equal(found.length, 1, `line ${internalLine(i)}: ${found.join('; ')}`)
      assert.match(found[0]!, new RegExp(`Property '${member}' (is private|does not exist)`))
    })
  }

  test('engineOf is not exported', () => {
    const found = errors.get(internalLine(INTERNAL.length)) ?? []
    assert.ok(found.some((e) => e.includes("has no exported member 'engineOf'")), found.join('; '))
  })
})

describe('serveOps for an embedder', () => {
  test('without a listeners function, /healthz and /metrics report the broker\'s own listeners', async (t) => {
    const broker = createBroker()
    t.after(() => broker.close())
    const {port} = await broker.listen({port: 0})
    const ops = await serveOps({broker}, {port: 0})
    t.after(() => ops.close())
    const base = `http://127.0.0.1:${ops.address().port}`
    const res = await fetch(`${base}/healthz`)
    assert.equal(res.status, 200)
    const health = await res.json() as {status: string; listeners: Array<{url: string; accepting: boolean}>}
    assert.equal(health.status, 'ok')
    assert.deepEqual(health.listeners, [{url: `mqtt://127.0.0.1:${port}`, accepting: true}])
    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.match(metrics, new RegExp(`listener="mqtt://127.0.0.1:${port}"`))
  })
})

describe('topic helpers exported for embedders', () => {
  test('validateTopicName: undefined when valid, else why not', () => {
    assert.equal(validateTopicName('sensors/kitchen/temp'), undefined)
    assert.match(validateTopicName('sensors/+/temp') ?? '', /cannot contain \+ or #/)
    assert.match(validateTopicName('') ?? '', /empty/)
  })

  test('validateTopicFilter: wildcards as whole levels, # last', () => {
    assert.equal(validateTopicFilter('sensors/+/temp'), undefined)
    assert.equal(validateTopicFilter('$share/g/sensors/#'), undefined)
    assert.match(validateTopicFilter('sensors/#/temp') ?? '', /'#' must be a whole level, and the last/)
    assert.notEqual(validateTopicFilter('sensors/a+'), undefined)
  })

  test('topicMatches: MQTT matching, $ topics not under a leading wildcard, $share prefix ignored', () => {
    assert.equal(topicMatches('sensors/+/temp', 'sensors/kitchen/temp'), true)
    assert.equal(topicMatches('sensors/#', 'sensors'), true)
    assert.equal(topicMatches('sensors/+', 'sensors/a/b'), false)
    assert.equal(topicMatches('#', '$SYS/broker/uptime'), false)
    assert.equal(topicMatches('$SYS/#', '$SYS/broker/uptime'), true)
    assert.equal(topicMatches('$share/g/a/+', 'a/b'), true)
  })

  test('PROTOCOL_MAX_PACKET_SIZE: one fixed header byte, four length bytes, 268,435,455 of body', () => {
    assert.equal(PROTOCOL_MAX_PACKET_SIZE, 1 + 4 + 268_435_455)
  })
})
