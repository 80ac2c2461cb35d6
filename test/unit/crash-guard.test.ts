// broker start's process-wide last line of defence (src/cli/broker/crash-guard.ts), in a child process so
// that its uncaught exceptions are real ones.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {test} from 'node:test'
import {collect, ROOT} from '../helpers/cli.js'

function run(body: string) {
  const script = `
    import pino from 'pino'
    import {guardProcess} from './src/cli/broker/crash-guard.ts'
    import {StoreError} from './src/broker/store/index.ts'
    const log = pino(pino.destination({dest: 2, sync: true}))
    guardProcess(log)
    ${body}`
  return collect(spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {cwd: ROOT, stdio: 'pipe'}))
}

test('an exception nothing caught is logged with its stack and the process goes on', async () => {
  const r = await run(`
    setTimeout(() => { throw new Error('bug in a callback') }, 0)
    setTimeout(() => Promise.reject(new Error('a rejection')), 0)
    setTimeout(() => { console.log('still serving'); process.exit(0) }, 50)`)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /still serving/)
  assert.match(r.stderr, /bug in a callback/)
  assert.match(r.stderr, /a rejection/)
  assert.match(r.stderr, /internal error outside any connection; the broker goes on/)
})

test('a store failure stops the process with exit 1 and says why', async () => {
  const r = await run(`
    setTimeout(() => { throw new StoreError('failed', 'disk full') }, 0)
    setTimeout(() => { console.log('still serving'); process.exit(0) }, 2000)`)
  assert.equal(r.code, 1)
  assert.doesNotMatch(r.stdout, /still serving/)
  assert.match(r.stderr, /the store failed \(disk full\); stopping/)
})
