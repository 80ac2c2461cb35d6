// npm run bench:cluster: throughput of fan-in, fan-out to 100 and QoS 1 against one midge without
// --cluster and against clusters of 1, 2 and 3 midge nodes on one Redis (all on this machine), with
// clients spread over the nodes so that, from 2 nodes on, most traffic crosses nodes. Each figure is
// the delivered rate (msg/s) summed over the `midge bench sub` processes; `midge bench pub` processes
// keep publishing through the subscribers' whole measurement window. The peer: Aedes clustered its own
// way (mqemitter-redis, aedes-persistence-redis; scripts/bench-aedes-server.mjs --redis) with 1, 2 and
// 3 nodes, the same clients spread the same way. Every setup gets a Redis of its own. MQTT 3.1.1
// throughout (Aedes has no MQTT 5).
// latency: cross-node latency at a fixed 10,000 msg/s (10 `bench pub` publishers on node A, open loop,
// QoS 0, one `bench sub` on node B; p50/p99 of publish-to-delivery), against the same clients on one
// single midge and on two Aedes nodes; --rounds rounds, the setups interleaved.
// workers: connect rate (mqbench conns, 10,000 connections) and RSS per idle connection (the summed
// VmRSS of the broker's processes at the peak of the hold, minus before, over the connections) of
// `--workers 2` with node:cluster's round-robin (rr) and with the workers accepting themselves (none),
// against one midge process (without and with --cluster) and Mosquitto; and how the connections spread
// over the workers. Broker CPU per connection: the summed utime+stime (/proc/PID/stat) of the broker's
// processes over the mqbench run, divided by the connections. --base DIR adds the --cluster and
// --workers 2 (none) setups of another checkout's build (the "before" of a change), interleaved.
// Usage: node scripts/bench-cluster.mjs [--scenarios throughput,latency,workers] [--duration S] [--rounds N]
//   [--nodes 0,1,2,3] [--aedes 1,2,3] [--cases fan-in,fan-out,qos1] [--base DIR] [--strict] [--links-off] [--conns 10000]
//   [--mqbench PATH] [--out FILE.json] [--write]
// --base DIR: also the clusters of 2 and 3 nodes (those of --nodes) of another built checkout (the build
// before a change: `git worktree add DIR main`, npm run build there), as "(before)" rows of the same
// run (workers: its --cluster and --workers 2 (none) setups); the clients are this checkout's `bench` for every setup. Throughput rows also get the brokers'
// CPU (utime+stime of every broker process, from /proc) per delivered message.
// --write puts the tables of the parts run into docs/benchmarks.md between the bench-cluster markers.
import {spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {cpuTicks, processTree, rssKb, safe, waitConnectable} from './proc-stats.mjs'

const BIN = new URL('../bin/run.js', import.meta.url).pathname
const args = process.argv.slice(2)
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt }
const BASE = opt('--base', undefined)
const BASE_BIN = BASE === undefined ? undefined : join(BASE, 'bin/run.js')
if (BASE_BIN !== undefined && !existsSync(BASE_BIN)) throw new Error(`--base ${BASE}: no bin/run.js there`)
const CASES = opt('--cases', undefined)?.split(',')
const DURATION = Number(opt('--duration', '5'))
const WARMUP = 2
const OUT = opt('--out', undefined)
const ROUNDS = Number(opt('--rounds', '3'))
const CONNS = Number(opt('--conns', '10000'))
const PARTS = opt('--scenarios', 'throughput,latency,workers').split(',')
const defaultMqbench = new URL('../../shared/perf/mqbench', import.meta.url).pathname
const MQBENCH = opt('--mqbench', existsSync(defaultMqbench) ? defaultMqbench : existsSync('/tmp/mqbench') ? '/tmp/mqbench' : undefined)
const log = (line) => process.stderr.write(line + '\n')

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

async function startNode(extra, env = {}, bin = BIN) {
  const child = spawn(process.execPath, [bin, 'broker', 'start', '--port', '0', '--json', '--log-level', 'warn', '--max-queued-messages', '0', '--max-inflight-messages', '1000', ...extra], {stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, ...env}})
  let out = ''
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { out += d; const line = out.split('\n').find((l) => l.startsWith('{')); if (line) resolve(JSON.parse(line).port) })
    child.once('exit', (c) => reject(new Error(`broker exited ${c}`)))
  })
  return {port, pid: child.pid, async stop() { if (child.exitCode === null) { child.kill('SIGTERM'); await once(child, 'exit') } }}
}

async function startAedes(redisUrl) {
  const child = spawn(process.execPath, [new URL('./bench-aedes-server.mjs', import.meta.url).pathname, '0', '--redis', redisUrl], {stdio: ['ignore', 'pipe', 'inherit']})
  let out = ''
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { out += d; const line = out.split('\n').find((l) => l.startsWith('{')); if (line) resolve(JSON.parse(line).port) })
    child.once('exit', (c) => reject(new Error(`aedes exited ${c}`)))
  })
  return {port, pid: child.pid, async stop() { child.kill('SIGKILL'); await once(child, 'exit') }}
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

/** CPU time (utime+stime, all threads) of a process, in seconds. */
function cpuSeconds(pid) { return cpuTicks(pid) / 100 }

/** The delivered rate, and the brokers' CPU per delivered message (µs) from the subscribers' start to their end. */
async function run(ports, scenario, pids = []) {
  const {subs, pubs} = scenario(ports)
  const cpu0 = pids.reduce((a, p) => a + cpuSeconds(p), 0)
  const subRuns = subs.map(([port, f]) => bench('sub', port, [...f, '--duration', String(DURATION), '--warmup', String(WARMUP)]))
  // publishers run until every subscriber's measurement is over (however long connecting took)
  const pubRuns = pubs.map(([port, f]) => bench('pub', port, [...f, '--duration', '0', '--warmup', '0']))
  const results = await Promise.all(subRuns.map((r) => r.done))
  const cpu = pids.reduce((a, p) => a + cpuSeconds(p), 0) - cpu0
  await Promise.all(pubRuns.map((r) => r.stop()))
  const delivered = results.reduce((sum, r) => sum + r.messages.received, 0)
  return {rate: Math.round(results.reduce((sum, r) => sum + r.rates.received, 0)), cpuUs: delivered > 0 ? cpu * 1e6 / delivered : undefined}
}

const table = {}
/** label -> scenario -> the brokers' CPU µs per delivered message, per round */
const cpuTable = {}
const SETUPS = [['single midge', 0, 'midge'], ['cluster, 1 node', 1, 'midge'], ['cluster, 2 nodes', 2, 'midge'], ['cluster, 3 nodes', 3, 'midge'],
  ['aedes + redis, 1 node', 1, 'aedes'], ['aedes + redis, 2 nodes', 2, 'aedes'], ['aedes + redis, 3 nodes', 3, 'aedes']]
if (BASE_BIN !== undefined) SETUPS.splice(4, 0, ['cluster, 2 nodes (before)', 2, 'base'], ['cluster, 3 nodes (before)', 3, 'base'])
// --strict: also the clusters with --cluster-ack-window 0 (every PUBACK waits for the other nodes' confirmation)
if (args.includes('--strict')) SETUPS.splice(4, 0, ['cluster, 2 nodes, --cluster-ack-window 0', 2, 'strict'], ['cluster, 3 nodes, --cluster-ack-window 0', 3, 'strict'])
// --links-off: also the clusters with --cluster-link off (everything between nodes through Redis), same build
if (args.includes('--links-off')) SETUPS.splice(4, 0, ['cluster, 2 nodes, --cluster-link off', 2, 'nolink'], ['cluster, 3 nodes, --cluster-link off', 3, 'nolink'])
for (const name of Object.keys(SCENARIOS)) if (CASES !== undefined && !CASES.includes(caseName(name))) delete SCENARIOS[name]
const only = opt('--nodes', undefined)?.split(',').map(Number)
const onlyAedes = opt('--aedes', '1,2,3').split(',').filter(Boolean).map(Number)
const chosen = SETUPS.filter(() => PARTS.includes('throughput')).filter(([, n, k]) => k === 'aedes' ? onlyAedes.includes(n) : (only === undefined || only.includes(n)) && (k === 'midge' || n > 1))
const throughputLoads = []
// --rounds rounds, the setups in a rotated order each round: a change of the machine's load hits them all
for (let round = 0; round < (chosen.length === 0 ? 0 : ROUNDS); round++) {
  for (const [label, nodes, kind] of rotate(chosen, round)) {
    const redis = await startRedis()
    const started = []
    try {
      for (let i = 0; i < Math.max(1, nodes); i++) {
        started.push(kind === 'aedes' ? await startAedes(redis.url) : await startNode(nodes === 0 ? [] : ['--cluster', redis.url, '--node-id', `bench-${i}`,
          ...(kind === 'strict' ? ['--cluster-ack-window', '0'] : kind === 'nolink' ? ['--cluster-link', 'off'] : [])], {}, kind === 'base' ? BASE_BIN : BIN))
      }
      // let every node learn the others (the heartbeat scan runs every second)
      await new Promise((r) => setTimeout(r, 1500))
      throughputLoads.push(loadavg()[0])
      table[label] ??= {}
      for (const [name, scenario] of Object.entries(SCENARIOS)) {
        const {rate, cpuUs} = await run(started.map((n) => n.port), scenario, started.map((n) => n.pid))
        ;(table[label][name] ??= []).push(rate)
        ;((cpuTable[label] ??= {})[name] ??= []).push(cpuUs)
        log(`[throughput ${round + 1}] ${label} / ${name}: ${rate} msg/s, brokers ${cpuUs?.toFixed(1)} µs CPU per message`)
      }
    } finally {
      for (const n of started) await n.stop()
      await redis.stop()
    }
  }
}
const names = Object.keys(SCENARIOS)
const labels = chosen.map(([label]) => label)
const base = table['single midge'] ?? table[labels[0]]
let md = ''
if (base !== undefined) {
  md += `Throughput, msg/s delivered (${ROUNDS} round${ROUNDS === 1 ? '' : 's'} of ${DURATION} s, setups rotated each round, load average ${range(throughputLoads)}): median, its ratio to the single midge's median, each round in brackets.\n\n`
  md += `| setup | ${names.join(' | ')} |\n|---|${names.map(() => '---|').join('')}\n`
  for (const label of labels) {
    const row = table[label]
    md += `| ${label} | ${names.map((n) => `${num(median(row[n]))} (${(median(row[n]) / median(base[n])).toFixed(2)}x) [${row[n].map(num).join(', ')}]`).join(' | ')} |\n`
  }
  const vs = [2, 3].filter((k) => table[`cluster, ${k} nodes`] && table[`aedes + redis, ${k} nodes`])
  if (vs.length > 0) {
    md += `\nmidge cluster ÷ Aedes + Redis, same node count (medians): ${vs.map((k) => `${k} nodes: ${names.map((n) => `${n.split(' (')[0]} ${(median(table[`cluster, ${k} nodes`][n]) / median(table[`aedes + redis, ${k} nodes`][n])).toFixed(1)}x`).join(', ')}`).join('; ')}.\n`
    const before = vs.filter((k) => table[`cluster, ${k} nodes (before)`])
    if (before.length > 0) md += `\nThe build before (--base), same run: ${before.map((k) => `${k} nodes: ${names.map((n) => `${n.split(' (')[0]} ${(median(table[`cluster, ${k} nodes (before)`][n]) / median(table[`aedes + redis, ${k} nodes`][n])).toFixed(1)}x Aedes, after ÷ before ${(median(table[`cluster, ${k} nodes`][n]) / median(table[`cluster, ${k} nodes (before)`][n])).toFixed(2)}x`).join(', ')}`).join('; ')}.\n`
  }
  md += `\nThe brokers' CPU (utime+stime of every broker process, all threads) per delivered message, µs: median, each round in brackets (it rises with the machine's load: fewer messages per wake-up).\n\n`
  md += `| setup | ${names.join(' | ')} |\n|---|${names.map(() => '---|').join('')}\n`
  for (const label of labels) {
    const row = cpuTable[label]
    md += `| ${label} | ${names.map((n) => `${fixed(median(row[n]))} [${row[n].map(fixed).join(', ')}]`).join(' | ')} |\n`
  }
}
const latency = PARTS.includes('latency') ? await latencyPart() : undefined
const workers = PARTS.includes('workers') ? await workersPart() : undefined
const extra = [latency?.md, workers?.md].filter(Boolean).join('\n')
console.log(md + (md && extra ? '\n' : '') + extra)
if (OUT) writeFileSync(OUT, JSON.stringify({duration: DURATION, table, latency: latency?.runs, workers: workers?.runs}, null, 2) + '\n')
if (args.includes('--write')) writeDocs([md, extra].filter(Boolean).join('\n'))

// ---- cross-node latency at 10,000 msg/s ----

async function latencyPart() {
  const setups = [['single midge', 0, 'midge'], ['midge cluster, 2 nodes', 2, 'midge'], ['aedes + redis, 2 nodes', 2, 'aedes']]
  if (BASE_BIN !== undefined) setups.splice(2, 0, ['midge cluster, 2 nodes (before)', 2, 'base'])
  const runs = Object.fromEntries(setups.map(([label]) => [label, []]))
  const loads = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, nodes, kind] of rotate(setups, round)) {
      const redis = await startRedis()
      const started = []
      try {
        for (let i = 0; i < Math.max(1, nodes); i++) started.push(kind === 'aedes' ? await startAedes(redis.url) : await startNode(nodes === 0 ? [] : ['--cluster', redis.url, '--node-id', `lat-${i}`], {}, kind === 'base' ? BASE_BIN : BIN))
        if (nodes > 1) await new Promise((r) => setTimeout(r, 1500))
        loads.push(loadavg()[0])
        const [a, b] = [started[0].port, started.at(-1).port]
        const sub = bench('sub', b, ['-c', '1', '-t', 'lat/#', '--duration', String(DURATION), '--warmup', String(WARMUP)])
        const pub = bench('pub', a, ['-c', '10', '-t', 'lat/%i', '--rate', '10000', '--duration', '0', '--warmup', '0'])
        const r = await sub.done
        await pub.stop()
        const e = r.latency.endToEnd
        runs[label].push({rate: Math.round(r.rates.received), p50: e?.p50, p99: e?.p99})
        log(`[latency ${round + 1}] ${label}: ${Math.round(r.rates.received)} msg/s, p50 ${us(e?.p50)}, p99 ${us(e?.p99)}`)
      } finally {
        for (const n of started) await n.stop()
        await redis.stop()
      }
    }
  }
  let md = `Cross-node latency at 10,000 msg/s (10 publishers on node A at 1,000 msg/s each, open loop, QoS 0, MQTT 3.1.1; one subscriber on node B; ${ROUNDS} rounds of ${DURATION} s, setups interleaved, load average ${range(loads)}). Medians of the rounds, each round's figure in brackets:\n\n`
  md += '| setup | delivered msg/s | p50 | p99 | p50 vs single midge | p99 vs single midge |\n|---|---:|---:|---:|---:|---:|\n'
  const med = (label, k) => median(runs[label].map((x) => x[k]))
  for (const [label] of setups) {
    const rs = runs[label]
    md += `| ${label} | ${num(med(label, 'rate'))} | ${us(med(label, 'p50'))} (${rs.map((x) => us(x.p50)).join(', ')}) | ${us(med(label, 'p99'))} (${rs.map((x) => us(x.p99)).join(', ')}) | ${(med(label, 'p50') / med('single midge', 'p50')).toFixed(2)}x | ${(med(label, 'p99') / med('single midge', 'p99')).toFixed(2)}x |\n`
  }
  return {md, runs}
}

// ---- --workers: connect rate, memory per idle connection, balance ----

async function startMosquitto() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-mosquitto-'))
  const port = await freePort()
  writeFileSync(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_connections -1', 'log_dest stderr', 'log_type error'].join('\n') + '\n')
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], {stdio: ['ignore', 'ignore', 'inherit']})
  await waitConnectable(port)
  return {port, pid: child.pid, async stop() { child.kill('SIGTERM'); await once(child, 'exit'); rmSync(dir, {recursive: true, force: true}) }}
}

/** utime + stime of a process (all its threads), in µs. */
function cpuUs(pid) { return cpuTicks(pid) * 10_000 }
function sockets(pid) { return safe(() => readdirSync(`/proc/${pid}/fd`), []).filter((fd) => safe(() => readlinkSync(`/proc/${pid}/fd/${fd}`), '').startsWith('socket:')).length }

/** mqbench conns against a broker, sampling the summed RSS of its processes and the sockets of each. */
async function conns(b) {
  const pids = processTree(b.pid)
  const before = pids.reduce((a, p) => a + rssKb(p), 0)
  const socketsBefore = pids.map(sockets)
  const cpuBefore = pids.reduce((a, p) => a + cpuUs(p), 0)
  let peak = before
  let peakSockets = socketsBefore
  const child = spawn('bash', ['-c', `ulimit -n 20000 2>/dev/null; exec "$0" "$@"`, MQBENCH, '--mode', 'conns', '--conns', String(CONNS), '--conc', '50', '--keepalive', '60', '--hold', '3', '--port', String(b.port), '--pid', '-1'], {stdio: ['ignore', 'pipe', 'inherit']})
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  const sampler = setInterval(() => {
    const rss = pids.reduce((a, p) => a + rssKb(p), 0)
    if (rss > peak) peak = rss
    const s = pids.map(sockets)
    if (s.reduce((a, x) => a + x, 0) > peakSockets.reduce((a, x) => a + x, 0)) peakSockets = s
  }, 200)
  await once(child, 'exit')
  clearInterval(sampler)
  const cpu = pids.reduce((a, p) => a + cpuUs(p), 0) - cpuBefore
  const r = JSON.parse(out.split('\n').find((l) => l.startsWith('{')))
  // the primary of --workers holds no client; each worker's share of the new sockets
  const shares = pids.length > 1 ? pids.slice(1).map((_, i) => peakSockets[i + 1] - socketsBefore[i + 1]) : undefined
  return {connPerS: r.conn_per_s, failed: r.failed, kbPerConn: (peak - before) / r.connected, rssBeforeKb: before, shares, usPerConn: cpu / r.connected}
}

async function workersPart() {
  if (!MQBENCH) { log('workers: no mqbench (cc -O2 -o /tmp/mqbench ../shared/perf/mqbench.c): left out'); return undefined }
  const setups = [
    ['one midge process', () => startNode([])],
    ['one midge process, --cluster', (url) => startNode(['--cluster', url])],
    ['midge --workers 2, round-robin (rr)', (url) => startNode(['--workers', '2', '--cluster', url], {NODE_CLUSTER_SCHED_POLICY: 'rr'})],
    ['midge --workers 2, workers accept (none)', (url) => startNode(['--workers', '2', '--cluster', url], {NODE_CLUSTER_SCHED_POLICY: 'none'})],
  ]
  if (BASE_BIN !== undefined) {
    setups.push(['one midge process, --cluster (base)', (url) => startNode(['--cluster', url], {}, BASE_BIN)])
    setups.push(['midge --workers 2, workers accept (none) (base)', (url) => startNode(['--workers', '2', '--cluster', url], {NODE_CLUSTER_SCHED_POLICY: 'none'}, BASE_BIN)])
  }
  if (!spawnSync('mosquitto', ['-h'], {stdio: 'ignore'}).error) setups.push(['mosquitto', () => startMosquitto()])
  const runs = Object.fromEntries(setups.map(([label]) => [label, []]))
  const loads = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, start] of rotate(setups, round)) {
      const redis = await startRedis()
      let b
      try {
        b = await start(redis.url)
        loads.push(loadavg()[0])
        const r = await conns(b)
        runs[label].push(r)
        log(`[workers ${round + 1}] ${label}: ${num(r.connPerS)} conn/s, ${r.usPerConn.toFixed(0)} µs CPU/conn, ${r.kbPerConn.toFixed(2)} kB/conn${r.shares ? `, per worker ${r.shares.join(' / ')}` : ''}, failed ${r.failed}`)
      } finally {
        await b?.stop()
        await redis.stop()
      }
    }
  }
  const mosq = runs.mosquitto ? median(runs.mosquitto.map((r) => r.connPerS)) : undefined
  let md = `\`--workers 2\` (mqbench \`--mode conns --conns ${CONNS} --conc 50 --hold 3\`; ${ROUNDS} rounds, setups interleaved, load average ${range(loads)}). RSS per idle connection: the summed VmRSS of the broker's processes (the primary and its workers) at the peak of the hold, minus before, over the connections. Broker CPU per connection: the summed utime+stime of those processes over the whole mqbench run (connecting, holding, closing) over the connections. Medians, each round in brackets:\n\n`
  md += `| setup | conn/s | vs Mosquitto | broker CPU per connection | RSS per idle connection | idle RSS (all processes) | connections per worker | failed |\n|---|---:|---:|---:|---:|---:|---|---:|\n`
  for (const [label] of setups) {
    const rs = runs[label]
    const rate = median(rs.map((r) => r.connPerS))
    md += `| ${label} | ${num(rate)} (${rs.map((r) => num(r.connPerS)).join(', ')}) | ${mosq ? (rate / mosq).toFixed(2) + 'x' : ''} | ${median(rs.map((r) => r.usPerConn)).toFixed(0)} µs (${rs.map((r) => r.usPerConn.toFixed(0)).join(', ')}) | ${median(rs.map((r) => r.kbPerConn)).toFixed(2)} kB (${rs.map((r) => r.kbPerConn.toFixed(2)).join(', ')}) | ${(median(rs.map((r) => r.rssBeforeKb)) / 1024).toFixed(1)} MiB | ${rs[0].shares ? rs.map((r) => r.shares.join(' / ')).join('; ') : ''} | ${rs.reduce((a, r) => a + r.failed, 0)} |\n`
  }
  return {md, runs}
}

function writeDocs(text) {
  const file = new URL('../docs/benchmarks.md', import.meta.url).pathname
  const doc = readFileSync(file, 'utf8')
  const begin = '<!-- bench-cluster: begin -->'
  const end = '<!-- bench-cluster: end -->'
  const i = doc.indexOf(begin)
  const j = doc.indexOf(end)
  if (i < 0 || j < i) throw new Error(`${file}: no ${begin} ... ${end} section to write into`)
  writeFileSync(file, doc.slice(0, i + begin.length) + `\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, \`node scripts/bench-cluster.mjs ${args.join(' ')}\`, Node ${process.version}.\n\n` + text + doc.slice(j))
}

function rotate(list, k) { return list.map((_, i) => list[(i + k) % list.length]) }
function median(xs) { const v = xs.filter((x) => x !== undefined).sort((a, b) => a - b); return v.length === 0 ? undefined : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2 }
function fixed(x) { return x === undefined ? '-' : x.toFixed(1) }
function caseName(scenario) { return scenario.split(' (')[0].toLowerCase().replace(/\s+/g, '') }
function num(x) { return x === undefined ? '-' : Math.round(x).toLocaleString('en-US') }
function us(x) { return x === undefined ? '-' : x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${Math.round(x)} µs` }
function range(xs) { return xs.length === 0 ? '-' : `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}` }
