#!/usr/bin/env node
// Connection storm with passwords: N clients with passwords connect at once while already-connected
// clients keep exchanging messages; prints the storm's duration and the exchange's latency before,
// during and after it (and the broker's event-loop delay). Numbers only: nothing here asserts.
//
//   npx tsc -p tsconfig.json && node scripts/bench-auth-storm.mjs [--clients 1000] [--hash argon2id|pbkdf2]
//     [--concurrency N|unlimited] [--rate 200] [--pairs 5] [--baseline-ms 3000] [--json]
//
// Three processes: the broker (the library from dist/, wired as `midge broker start --password-file`
// wires it, so that its event loop is measured on its own), the storm's clients, and this one, which
// runs the background exchange and measures it. Every storm user
// has the same password and so the same hash line: verification costs the same as with distinct
// salts, and the file is made in one hash instead of N. --concurrency sets the limit on verifications
// running at once (default: the broker's own); "unlimited" shows what happens without the limiter.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {monitorEventLoopDelay} from 'node:perf_hooks'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const DIST = new URL('../dist/', import.meta.url)
const {createBroker, createFileAuth, loadPasswordFile} = await import(new URL('index.js', DIST).href)

if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4])
else if (process.argv[2] === '--storm') await storm(JSON.parse(process.argv[3]))
else await main()

/**
 * The storm, in a process of its own (so that opening N connections at once does not stall the
 * background exchange being measured): connects everyone at once, prints the result, then waits for
 * stdin to close to disconnect them.
 */
async function storm({options, clients}) {
  const {connect} = await import(new URL('client/index.js', DIST).href)
  const start = performance.now()
  const connectMs = []
  const failures = {}
  const connected = await Promise.all(Array.from({length: clients}, (_, i) =>
    connect({...options, clientId: `storm-${i}`, username: `storm-${i}`}).then((c) => {
      connectMs.push(performance.now() - start)
      return c
    }, (error) => {
      const why = error.message.replace(/\d+/g, 'N')
      failures[why] = (failures[why] ?? 0) + 1
    })))
  process.stdout.write(`${JSON.stringify({durationMs: performance.now() - start, connectMs, failures})}\n`)
  for await (const _ of process.stdin) { /* until the parent is done */ }
  await Promise.all(connected.filter(Boolean).map((c) => c.disconnect().catch(() => undefined)))
  process.exit(0)
}

/** The broker child: listens on a free port, prints it, then event-loop delay per phase on request. */
async function serve(file, concurrency) {
  const passwords = await loadPasswordFile(file)
  const auth = createFileAuth({passwords, maxConcurrentVerifications: concurrency === 'default' ? undefined : concurrency === 'unlimited' ? 1e9 : Number(concurrency)})
  const broker = createBroker({auth})
  const {port} = await broker.listen({port: 0})
  let delay = monitorEventLoopDelay({resolution: 1})
  delay.enable()
  process.stdout.write(`${JSON.stringify({port})}\n`)
  for await (const line of createInterface({input: process.stdin})) {
    if (line === 'quit') break
    delay.disable()
    const ms = (ns) => Math.round(ns / 1e4) / 100
    process.stdout.write(`${JSON.stringify({p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max)})}\n`)
    delay = monitorEventLoopDelay({resolution: 1})
    delay.enable()
  }
  await broker.close()
  process.exit(0)
}

async function main() {
  const {values: o} = parseArgs({options: {
    clients: {type: 'string', default: '1000'}, hash: {type: 'string', default: 'argon2id'}, concurrency: {type: 'string', default: 'default'},
    rate: {type: 'string', default: '200'}, pairs: {type: 'string', default: '5'}, 'baseline-ms': {type: 'string', default: '3000'},
    json: {type: 'boolean', default: false},
  }})
  const {connect} = await import(new URL('client/index.js', DIST).href)
  const {hashPassword} = await import(new URL('passwd/index.js', DIST).href)
  const clients = Number(o.clients)
  const pairs = Number(o.pairs)
  const intervalMs = (1000 * pairs) / Number(o.rate)

  const dir = mkdtempSync(join(tmpdir(), 'midge-storm-'))
  const file = join(dir, 'passwd')
  const t0 = performance.now()
  const hash = await hashPassword('storm-pw', {algorithm: o.hash})
  writeFileSync(file, ['bg', ...Array.from({length: clients}, (_, i) => `storm-${i}`)].map((u) => `${u}:${hash.text}\n`).join(''))
  const oneHashMs = performance.now() - t0

  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', file, o.concurrency], {stdio: ['pipe', 'pipe', 'inherit']})
  const lines = createInterface({input: child.stdout})[Symbol.asyncIterator]()
  const next = async () => JSON.parse((await lines.next()).value)
  const {port} = await next()
  const phaseDelay = async () => { child.stdin.write('phase\n'); return next() }
  const options = {host: '127.0.0.1', port, protocolVersion: 4, username: 'bg', password: 'storm-pw', connectTimeout: 120_000, keepalive: 0}

  try {
    // the background exchange: `pairs` publishers, each with its own subscriber
    const samples = {baseline: [], storm: [], after: []}
    let phase = 'baseline'
    const subs = []
    const pubs = []
    for (let i = 0; i < pairs; i++) {
      const sub = await connect({...options, clientId: `bg-sub-${i}`})
      await sub.subscribe([{topic: `bg/${i}`, qos: 0}])
      sub.onMessage((m) => samples[phase].push(performance.now() - Number(m.payload.toString())))
      subs.push(sub)
      pubs.push(await connect({...options, clientId: `bg-pub-${i}`}))
    }
    for (const c of [...subs, ...pubs]) void c.closed.then((why) => { if (why) console.error(`${c.clientId}: ${why.message}`) })
    const timers = pubs.map((pub, i) => setTimeout(() => {
      timers[i] = setInterval(() => pub.publish(`bg/${i}`, String(performance.now()), {qos: 0}).catch(() => undefined), intervalMs)
    }, (intervalMs * i) / pairs))
    await sleep(Number(o['baseline-ms']))
    const baselineDelay = await phaseDelay()

    // the storm
    phase = 'storm'
    const stormer = spawn(process.execPath, [fileURLToPath(import.meta.url), '--storm', JSON.stringify({options, clients})], {stdio: ['pipe', 'pipe', 'inherit']})
    const stormResult = JSON.parse((await createInterface({input: stormer.stdout})[Symbol.asyncIterator]().next()).value)
    const stormMs = stormResult.durationMs
    const connectMs = stormResult.connectMs
    const failures = new Map(Object.entries(stormResult.failures))
    const stormDelay = await phaseDelay()

    phase = 'after'
    await sleep(Math.min(Number(o['baseline-ms']), 2000))
    const afterDelay = await phaseDelay()
    for (const t of timers) clearInterval(t)
    stormer.stdin.end()
    await new Promise((resolve) => stormer.once('exit', resolve))
    await Promise.all([...subs, ...pubs].map((c) => c.disconnect().catch(() => undefined)))

    const report = {
      clients, hash: o.hash, concurrency: o.concurrency, oneHashMs: round(oneHashMs), cpus: (await import('node:os')).availableParallelism(),
      storm: {durationMs: round(stormMs), connected: connectMs.length, failed: Object.fromEntries(failures),
        connackMs: stats(connectMs), perSecond: round((connectMs.length / stormMs) * 1000)},
      latencyMs: {baseline: stats(samples.baseline), storm: stats(samples.storm), after: stats(samples.after)},
      brokerEventLoopDelayMs: {baseline: baselineDelay, storm: stormDelay, after: afterDelay},
    }
    if (o.json) console.log(JSON.stringify(report))
    else print(report)
  } finally {
    child.stdin.end('quit\n')
    await new Promise((resolve) => child.once('exit', resolve))
    rmSync(dir, {recursive: true, force: true})
  }
}

function print(r) {
  const row = (name, s) => `  ${name.padEnd(9)} n=${String(s.n).padStart(6)}  p50 ${fmt(s.p50)}  p99 ${fmt(s.p99)}  max ${fmt(s.max)} ms`
  console.log(`auth storm: ${r.clients} clients, ${r.hash} (one hash ${r.oneHashMs} ms), verification concurrency ${r.concurrency}, ${r.cpus} CPUs`)
  console.log(`storm: ${r.storm.connected} connected in ${r.storm.durationMs} ms (${r.storm.perSecond}/s), CONNACK p50 ${r.storm.connackMs.p50} ms, p99 ${r.storm.connackMs.p99} ms` +
    (Object.keys(r.storm.failed).length ? `; failed: ${JSON.stringify(r.storm.failed)}` : ''))
  console.log('background pub -> sub latency:')
  for (const k of ['baseline', 'storm', 'after']) console.log(row(k, r.latencyMs[k]))
  console.log('broker event-loop delay:')
  for (const k of ['baseline', 'storm', 'after']) {
    const d = r.brokerEventLoopDelayMs[k]
    console.log(`  ${k.padEnd(9)} p50 ${fmt(d.p50)}  p99 ${fmt(d.p99)}  max ${fmt(d.max)} ms`)
  }
}

function stats(xs) {
  if (xs.length === 0) return {n: 0, p50: NaN, p99: NaN, max: NaN}
  const s = [...xs].sort((a, b) => a - b)
  const at = (q) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))])
  return {n: s.length, p50: at(0.5), p99: at(0.99), max: round(s.at(-1))}
}

function round(x) { return Math.round(x * 100) / 100 }
function fmt(x) { return String(x).padStart(8) }
function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)) }
