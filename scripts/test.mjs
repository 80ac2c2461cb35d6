// Runs every test file under test/ with node's test runner (TypeScript through tsx), one process per
// file, TEST_CONCURRENCY (default 2) at a time. Each file's output is printed whole when it ends, with
// its wall-clock time; at the end, the slowest files (every file with TEST_TIMES=all) and the failures.
// A file that runs longer than TEST_FILE_TIMEOUT_MS (default 120 s) is killed and counts as failed.
// Usage: npm test [-- FILTER...]  (a filter keeps only the files whose path contains it)
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

function find(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [])
}

const filters = process.argv.slice(2)
const files = find('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort()
const concurrency = Math.max(1, Number(process.env.TEST_CONCURRENCY ?? '2'))
const fileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT_MS ?? '120000')
const SLOW_S = 20
// GNU time, when there, also reports each file's CPU seconds (its processes and theirs): on a shared,
// busy machine the wall-clock time says more about the neighbours than about the file
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
const timesDir = mkdtempSync(join(tmpdir(), 'midge-test-times-'))
process.on('exit', () => rmSync(timesDir, {recursive: true, force: true}))
let fileNo = 0

const children = new Set()

/** Runs one file; resolves with its outcome once it has exited. */
function runFile(file) {
  const started = performance.now()
  // a test that hangs times out (and is named in the output) before its file is killed
  const command = [process.execPath, '--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${Math.max(1000, fileTimeoutMs - 15_000)}`, file]
  const timeFile = join(timesDir, `${++fileNo}.txt`)
  const [exe, ...args] = TIME ? [TIME, '-f', '%U %S', '-o', timeFile, ...command] : command
  const child = spawn(exe, args, {stdio: ['ignore', 'pipe', 'pipe'], detached: true})
  const chunks = []
  child.stdout.on('data', (d) => chunks.push(d))
  child.stderr.on('data', (d) => chunks.push(d))
  children.add(child)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    try { process.kill(-child.pid, 'SIGKILL') } catch { child.kill('SIGKILL') }
  }, fileTimeoutMs)
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      const seconds = (performance.now() - started) / 1000
      resolve({file, seconds, cpu: cpuSeconds(timeFile), ok: code === 0 && !timedOut, code, signal, timedOut, output: Buffer.concat(chunks)})
    })
  })
}

/** user + system seconds from GNU time's output file, if any. */
function cpuSeconds(timeFile) {
  try {
    const [user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number)
    return Number.isFinite(user + system) ? user + system : undefined
  } catch {
    return undefined
  }
}

const cpu = (r) => (r.cpu === undefined ? '' : `, ${r.cpu.toFixed(1)} s CPU`)

const queue = [...files]
const results = []
async function worker() {
  while (queue.length > 0) {
    const file = queue.shift()
    const r = await runFile(file)
    results.push(r)
    process.stdout.write(r.output)
    const how = r.ok ? 'ok' : r.timedOut ? `KILLED after ${fileTimeoutMs / 1000} s` : `FAILED (exit ${r.code ?? r.signal})`
    process.stdout.write(`# file ${r.file}: ${how}, ${r.seconds.toFixed(1)} s${cpu(r)} [${results.length}/${files.length}]\n\n`)
  }
}

// Ctrl-C or a CI timeout: take the running files' process groups down too.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of children) try { process.kill(-c.pid, 'SIGKILL') } catch {}
    process.exit(130)
  })
}

const wallStart = performance.now()
await Promise.all(Array.from({length: Math.min(concurrency, files.length)}, worker))
const wall = (performance.now() - wallStart) / 1000

const byTime = [...results].sort((a, b) => b.seconds - a.seconds)
const shown = process.env.TEST_TIMES === 'all' ? byTime : byTime.filter((r) => r.seconds >= SLOW_S)
if (shown.length > 0) {
  console.log(process.env.TEST_TIMES === 'all' ? '# time per file:' : `# files that took ${SLOW_S} s or more:`)
  for (const r of shown) console.log(`#   ${r.seconds.toFixed(1).padStart(6)} s${r.cpu === undefined ? '' : ` ${r.cpu.toFixed(1).padStart(6)} s CPU`}  ${r.file}`)
}
const failed = results.filter((r) => !r.ok)
console.log(`# ${files.length} files, ${files.length - failed.length} passed, ${failed.length} failed, ${wall.toFixed(0)} s (concurrency ${concurrency})`)
for (const r of failed) console.log(`# FAILED ${r.file}${r.timedOut ? ' (killed at the file time limit)' : ''}`)
process.exit(failed.length === 0 ? 0 : 1)
