import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {capYoungGeneration, youngGenerationBytes, youngGenerationCapSupported} from '../../src/cli/broker/young-generation.js'

const MB = 1024 * 1024
const V8_MAX = 32 * MB // 2 x the default 16 MB semi-space of 64-bit Node

/** What a burst of connections does to the heap: many small objects that all survive, in many turns. */
async function burstOfSurvivors(keep: object[], megabytes: number): Promise<void> {
  for (let turn = 0; turn < megabytes * 4; turn++) {
    for (let i = 0; i < 2000; i++) keep.push({id: turn * 2000 + i, tags: [turn, i], name: `c${i}`})
    await new Promise((resolve) => setImmediate(resolve))
  }
}

test('the young generation stops growing at the cap, and grows again once uncapped', async () => {
  const start = youngGenerationBytes()
  assert.ok(start > 0 && start < V8_MAX, `new space at start: ${start}`)
  const cap = Math.max(start, 2 * MB)
  const keep: object[] = []
  const uncap = capYoungGeneration(cap)
  await burstOfSurvivors(keep, 60)
  if (youngGenerationCapSupported()) assert.ok(youngGenerationBytes() <= cap, `capped at ${cap}, grew to ${youngGenerationBytes()}`)
  else assert.ok(youngGenerationBytes() > cap, `Node ${process.versions.node} is not one the cap was checked on: it must do nothing`)
  uncap()
  await burstOfSurvivors(keep, 60)
  assert.ok(youngGenerationBytes() > cap, `uncapped, stayed at ${youngGenerationBytes()} (cap ${cap})`)
  assert.ok(keep.length > 0)
})

test('a young generation sized by the user (NODE_OPTIONS) is left alone', () => {
  const module = fileURLToPath(new URL('../../src/cli/broker/young-generation.ts', import.meta.url))
  const script = `
    const {capYoungGeneration, youngGenerationBytes} = await import(${JSON.stringify(module)})
    const start = youngGenerationBytes()
    capYoungGeneration(start)
    const keep = []
    for (let turn = 0; turn < 200; turn++) {
      for (let i = 0; i < 2000; i++) keep.push({id: i, tags: [turn, i]})
      await new Promise((resolve) => setImmediate(resolve))
    }
    console.log(JSON.stringify({start, end: youngGenerationBytes()}))`
  const run = (nodeOptions: string): {start: number; end: number} => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
      {encoding: 'utf8', env: {...process.env, NODE_OPTIONS: nodeOptions}})
    assert.equal(r.status, 0, r.stderr)
    return JSON.parse(r.stdout) as {start: number; end: number}
  }
  const capped = run('')
  if (youngGenerationCapSupported()) assert.equal(capped.end, capped.start, 'without the option, the young generation stays at the cap')
  const own = run('--max-semi-space-size=16')
  assert.ok(own.end > own.start, `with the option, V8 grows the young generation as it likes (${own.start} -> ${own.end})`)
})
