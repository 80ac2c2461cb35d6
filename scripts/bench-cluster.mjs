// npm run bench:cluster: throughput of fan-in, fan-out to 100 and QoS 1 against one midge without
// --cluster and against clusters of 1, 2 and 3 midge nodes on one Redis (all on this machine), with
// clients spread over the nodes so that, from 2 nodes on, most traffic crosses nodes. Each figure is
// the delivered rate (msg/s) summed over the `midge bench sub` processes; `midge bench pub` processes
// keep publishing through the subscribers' whole measurement window. The peer: Aedes clustered its own
// way (mqemitter-redis, aedes-persistence-redis; scripts/bench-aedes-server.mjs --redis) with 1, 2 and
// 3 nodes, the same clients spread the same way. Every setup gets a Redis of its own. MQTT 3.1.1
// throughout (Aedes has no MQTT 5).
// Usage: node scripts/bench-cluster.mjs [--duration S] [--nodes 0,1,2,3] [--aedes 1,2,3] [--out docs/bench-cluster.json]
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const BIN = new URL('../bin/run.js', import.meta.url).pathname
const args = process.argv.slice(2)
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt }
const DURATION = Number(opt('--duration', '5'))
const WARMUP = 2
const OUT = opt('--out', undefined)

const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })

async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-redis-'))
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { out += d; if (out.includes('Ready to accept')) resolve() })
    child.once('exit', (c) => reject(new Error(`redis-server exited ${c}: ${out}`)))
  })
  return {url: `redis://127.0.0.1:${port}`, async stop() { child.kill('SIGKILL'); await once(child, 'exit').catch(() => {}); rmSync(dir, {recursive: true, force: true}) }}
}

async function startNode(extra) {
  const child = spawn(process.execPath, [BIN, 'broker', 'start', '--port', '0', '--json', '--log-level', 'warn', '--max-queued-messages', '0', '--max-inflight-messages', '1000', ...extra], {stdio: ['ignore', 'pipe', 'inherit']})
  let out = ''
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { out += d; const line = out.split('\n').find((l) => l.startsWith('{')); if (line) resolve(JSON.parse(line).port) })
    child.once('exit', (c) => reject(new Error(`broker exited ${c}`)))
  })
  return {port, async stop() { child.kill('SIGTERM'); await once(child, 'exit') }}
}

async function startAedes(redisUrl) {
  const child = spawn(process.execPath, [new URL('./bench-aedes-server.mjs', import.meta.url).pathname, '0', '--redis', redisUrl], {stdio: ['ignore', 'pipe', 'inherit']})
  let out = ''
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { out += d; const line = out.split('\n').find((l) => l.startsWith('{')); if (line) resolve(JSON.parse(line).port) })
    child.once('exit', (c) => reject(new Error(`aedes exited ${c}`)))
  })
  return {port, async stop() { child.kill('SIGKILL'); await once(child, 'exit') }}
}

function bench(mode, port, flags) {
  const child = spawn(process.execPath, [BIN, 'bench', mode, '-p', String(port), '-V', '311', '--workers', '1', '--json', '--quiet', ...flags], {stdio: ['ignore', 'pipe', 'ignore']})
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  const done = once(child, 'exit').then(() => JSON.parse(out))
  return {done, stop: () => { child.kill('SIGINT'); return done.catch(() => undefined) }}
}

/** Splits n clients into one block per node: [start, count] of %i. */
const blocks = (n, nodes) => Array.from({length: nodes}, (_, k) => [Math.floor(k * n / nodes), Math.floor((k + 1) * n / nodes) - Math.floor(k * n / nodes)])

const SCENARIOS = {
  'fan-in (9 pub -> 1 sub, QoS 0)': (ports) => ({
    subs: [[ports[0], ['-c', '1', '-t', 'fanin/#']]],
    pubs: blocks(9, ports.length).map(([s, c], k) => [ports[k], ['-c', String(c), '-n', String(s), '-t', 'fanin/%i']]).filter(([, f]) => f[1] !== '0'),
  }),
  'fan-out (1 pub at 500/s -> 100 subs, QoS 0)': (ports) => ({
    subs: blocks(100, ports.length).map(([s, c], k) => [ports[k], ['-c', String(c), '-n', String(s), '-t', 'fanout/t']]),
    pubs: [[ports[0], ['-c', '1', '-t', 'fanout/t', '--rate', '500']]],
  }),
  'QoS 1 (10 pub -> 10 sub, pairs on different nodes)': (ports) => ({
    subs: blocks(10, ports.length).map(([s, c], k) => [ports[(k + 1) % ports.length], ['-c', String(c), '-n', String(s), '-q', '1', '-t', 'q1/%i']]),
    pubs: blocks(10, ports.length).map(([s, c], k) => [ports[k], ['-c', String(c), '-n', String(s), '-q', '1', '-t', 'q1/%i']]),
  }),
}

async function run(ports, scenario) {
  const {subs, pubs} = scenario(ports)
  const subRuns = subs.map(([port, f]) => bench('sub', port, [...f, '--duration', String(DURATION), '--warmup', String(WARMUP)]))
  // publishers run until every subscriber's measurement is over (however long connecting took)
  const pubRuns = pubs.map(([port, f]) => bench('pub', port, [...f, '--duration', '0', '--warmup', '0']))
  const results = await Promise.all(subRuns.map((r) => r.done))
  await Promise.all(pubRuns.map((r) => r.stop()))
  return Math.round(results.reduce((sum, r) => sum + r.rates.received, 0))
}

const table = {}
const SETUPS = [['single midge', 0, 'midge'], ['cluster, 1 node', 1, 'midge'], ['cluster, 2 nodes', 2, 'midge'], ['cluster, 3 nodes', 3, 'midge'],
  ['aedes + redis, 1 node', 1, 'aedes'], ['aedes + redis, 2 nodes', 2, 'aedes'], ['aedes + redis, 3 nodes', 3, 'aedes']]
const only = opt('--nodes', undefined)?.split(',').map(Number)
const onlyAedes = opt('--aedes', '1,2,3').split(',').filter(Boolean).map(Number)
for (const [label, nodes, kind] of SETUPS.filter(([, n, k]) => k === 'aedes' ? onlyAedes.includes(n) : only === undefined || only.includes(n))) {
  const redis = await startRedis()
  const started = []
  try {
    for (let i = 0; i < Math.max(1, nodes); i++) {
      started.push(kind === 'aedes' ? await startAedes(redis.url) : await startNode(nodes === 0 ? [] : ['--cluster', redis.url, '--node-id', `bench-${i}`]))
    }
    // let every node learn the others (the heartbeat scan runs every second)
    await new Promise((r) => setTimeout(r, 1500))
    table[label] = {}
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      table[label][name] = await run(started.map((n) => n.port), scenario)
      process.stderr.write(`${label} / ${name}: ${table[label][name]} msg/s\n`)
    }
  } finally {
    for (const n of started) await n.stop()
    await redis.stop()
  }
}
const names = Object.keys(SCENARIOS)
const base = table['single midge'] ?? Object.values(table)[0]
let md = `| setup | ${names.join(' | ')} |\n|---|${names.map(() => '---|').join('')}\n`
for (const [label, row] of Object.entries(table)) md += `| ${label} | ${names.map((n) => `${row[n]} (${(row[n] / base[n]).toFixed(2)}x)`).join(' | ')} |\n`
console.log(md)
if (OUT) writeFileSync(OUT, JSON.stringify({duration: DURATION, table}, null, 2) + '\n')
