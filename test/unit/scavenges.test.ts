import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'
import {serialScavengesSupported} from '../../src/cli/broker/scavenges.js'

const module = fileURLToPath(new URL('../../src/cli/broker/scavenges.ts', import.meta.url))

/** Scavenges with survivors (what V8 would share with its helper threads), then a marker line. */
const script = (call: boolean) => `
  const {serialScavenges} = await import(${JSON.stringify(module)})
  ${call ? 'serialScavenges()' : ''}
  console.log('--- measured from here')
  const keep = []
  for (let turn = 0; turn < 300; turn++) {
    const garbage = []
    for (let i = 0; i < 5000; i++) garbage.push({id: i, tags: [turn, i]})
    keep.push(garbage.filter((_, i) => i % 20 === 0))
    if (keep.length > 50) keep.shift()
    await new Promise((resolve) => setImmediate(resolve))
  }
  console.log('--- done', keep.length)`

/** The scavenges V8 traced (--trace-gc-nvp) after the marker: the time its helper threads spent in each. */
function helperTimes(call: boolean): number[] {
  const r = spawnSync(process.execPath, ['--trace-gc-nvp', '--import', 'tsx', '--input-type=module', '-e', script(call)],
    {encoding: 'utf8', env: {...process.env, NODE_OPTIONS: ''}, maxBuffer: 1 << 26})
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.split('\n')
  const from = lines.indexOf('--- measured from here')
  assert.ok(from >= 0 && lines.some((l) => l.startsWith('--- done')), r.stdout.slice(-500))
  return lines.slice(from).filter((l) => / gc=s /.test(l)).map((l) => {
    const m = / background\.scavenge\.parallel=([\d.]+)/.exec(l)
    assert.ok(m, `no helper time in ${l}`)
    return Number(m[1])
  })
}

test('after serialScavenges() no scavenge hands work to V8\'s helper threads', () => {
  const times = helperTimes(true)
  assert.ok(times.length >= 10, `only ${times.length} scavenges`)
  // on a Node major it was not checked on, it does nothing (and V8 shares the work as it likes)
  if (serialScavengesSupported()) assert.deepEqual(times.filter((t) => t > 0), [], 'helper time in a scavenge')
})
