// What a production user sizes a machine by (issue #23), in the same run for midge, Mosquitto and a bare
// Node server (the floor Node sets): the RSS of an idle broker, RSS per idle connection (10,000, opened by
// mqbench), peak RSS under fan-out 1 -> 1,000, and QoS 1 with --persistence against midge in memory.
//
//   npm run bench:memory -- [--rounds 3] [--conns 10000] [--duration 5] [--mqbench PATH] [--write]
//                           [--scenarios idle,conns,fanout1000,qos1,persistence] [--qos1-runs 5] [--out FILE]
//
// mqbench is ../shared/perf's C load generator (make -C ../shared/perf); without it the conns, fan-out
// and qos1 rows are left out. qos1 is mqbench --mode qos1 (10 publishers with 10 in flight each, one
// subscriber), --qos1-runs times per broker per round, each on a fresh broker: its spread is the bimodal
// figure of #23. Every round starts each broker fresh, one after the other, the order rotating. RSS
// is VmRSS (VmHWM for the fan-out peak) from /proc; "anonymous" is the part not backed by a file, i.e.
// what the process allocated rather than the pages of the node binary it shares with every Node process.
// The fan-out rows are also split by kind of memory (residentParts: files, malloc heaps, the rest).
// --write puts the tables in docs/benchmarks.md (or --out FILE) between the bench-memory markers, or at the
// end of the file when it has none. `npm run bench:compare` runs this script last, with --write.
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, connect} from 'node:net'
import {tmpdir, cpus, loadavg} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {setTimeout as sleep} from 'node:timers/promises'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : fallback
}
const ROUNDS = Number(opt('rounds', 3))
const CONNS = Number(opt('conns', 10000))
const DURATION = Number(opt('duration', 5))
const SCENARIOS = opt('scenarios', 'idle,conns,fanout1000,qos1,persistence').split(',')
const QOS1_RUNS = Number(opt('qos1-runs', 5))
const defaultMqbench = join(root, '..', 'shared', 'perf', 'mqbench')
const MQBENCH = opt('mqbench', existsSync(defaultMqbench) ? defaultMqbench : undefined)
const WRITE = args.includes('--write')
const OUT = opt('out', join(root, 'docs', 'benchmarks.md'))
const hasMosquitto = !spawnSync('mosquitto', ['-h'], {stdio: 'ignore'}).error

const temps = []
const children = new Set()
const tempDir = (prefix) => {
  const d = mkdtempSync(join(tmpdir(), prefix))
  temps.push(d)
  return d
}
const cleanup = () => {
  for (const c of children) c.kill('SIGKILL')
  for (const d of temps) rmSync(d, {recursive: true, force: true})
}
process.on('exit', cleanup)
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130))

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    }).on('error', reject)
  })
}

async function waitConnectable(port, child) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`the broker exited (${child.exitCode}) before listening`)
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) }).on('error', () => resolve(false))
    })
    if (ok) return
    await sleep(100)
  }
  throw new Error(`nothing listens on ${port} after 30 s`)
}

/**
 * The bare Node server, the floor Node sets: the least an MQTT server in Node does for mqbench. CONNECT
 * gets a CONNACK, SUBSCRIBE a SUBACK (and makes the socket a subscriber of everything), each QoS 0
 * PUBLISH frame is written as it came to every subscriber (one Buffer, shared), PINGREQ gets a PINGRESP.
 */
const FLOOR_SERVER = `const net = require('node:net'); const subs = new Set()
const ack = Buffer.from([0x20, 2, 0, 0]); const pong = Buffer.from([0xd0, 0])
net.createServer((s) => {
  let buf = Buffer.alloc(0)
  s.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    for (;;) {
      let len = 0, mul = 1, i = 1
      for (; i < buf.length && i < 5; i++) { len += (buf[i] & 127) * mul; mul *= 128; if (buf[i] < 128) break }
      if (i >= buf.length || buf.length < i + 1 + len) break
      const frame = buf.subarray(0, i + 1 + len); buf = buf.subarray(i + 1 + len); const type = frame[0] >> 4
      if (type === 1) s.write(ack)
      else if (type === 8) { s.write(Buffer.from([0x90, 3, frame[i + 1], frame[i + 2], 0])); subs.add(s) }
      else if (type === 3) { const copy = Buffer.from(frame); for (const t of subs) t.write(copy) }
      else if (type === 12) s.write(pong)
    }
  })
  s.on('error', () => {}); s.on('close', () => subs.delete(s))
}).listen(Number(process.argv[1]), '127.0.0.1')`

const BROKERS = {
  midge: (port, extra = []) => spawn(process.execPath, [join(root, 'bin', 'run.js'), 'broker', 'start', '-p', String(port), '--log-level', 'warn',
    '--max-queued-messages', '0', ...extra], {stdio: ['ignore', 'ignore', 'pipe']}),
  'node (bare net server)': (port) => spawn(process.execPath, ['-e', FLOOR_SERVER, String(port)], {stdio: ['ignore', 'ignore', 'pipe']}),
  mosquitto: (port) => {
    const dir = tempDir('bench-memory-mosquitto-')
    writeFileSync(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false',
      'max_queued_messages 0', 'max_inflight_messages 1000', 'max_connections -1', 'log_dest stderr', 'log_type error'].join('\n') + '\n')
    return spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], {stdio: ['ignore', 'ignore', 'pipe']})
  },
}
const brokerNames = Object.keys(BROKERS).filter((b) => b !== 'mosquitto' || hasMosquitto)

async function start(name, extra) {
  const port = await freePort()
  const child = BROKERS[name](port, extra)
  children.add(child)
  child.stderr.resume()
  await waitConnectable(port, child)
  return {port, pid: child.pid, stop: async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    }
    children.delete(child)
  }}
}

function procStatus(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) ?? [])[1] ?? NaN)
  const roll = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  const anon = Number((roll.match(/^Anonymous:\s+(\d+)/m) ?? [])[1] ?? NaN)
  return {rss: kb('VmRSS'), hwm: kb('VmHWM'), anon}
}

/**
 * What a process's resident memory is made of, from /proc/PID/smaps (kB): mapped files (the node binary
 * and its libraries), the main thread's malloc heap ([heap]), the malloc arenas of the other threads
 * (glibc gives each its own, in anonymous mappings aligned to 64 MiB: in Node, V8's optimizing compiler
 * and GC helpers), and the rest of the anonymous memory (V8's heap pages, large allocations, stacks).
 */
function residentParts(pid) {
  const parts = {file: 0, heap: 0, arenas: 0, anon: 0}
  let kind = 'anon'
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line)
    if (m) {
      kind = m[2] === '[heap]' ? 'heap' : m[2].startsWith('/') ? 'file' : m[2] === '' && BigInt(`0x${m[1]}`) % (64n << 20n) === 0n ? 'arenas' : 'anon'
      continue
    }
    const rss = /^Rss:\s+(\d+)/.exec(line)
    if (rss) parts[kind] += Number(rss[1])
  }
  return parts
}

function mqbench(params) {
  const r = spawnSync(MQBENCH, params, {encoding: 'utf8', timeout: 180_000, maxBuffer: 1 << 24})
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('{'))
  if (!line) throw new Error(`mqbench ${params.join(' ')}: no result (${(r.stderr ?? '').trim().split('\n').pop()})`)
  return JSON.parse(line)
}

async function httpMetrics(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const value = (name) => Number((text.match(new RegExp(`^${name} (\\S+)`, 'm')) ?? [])[1] ?? NaN)
  return {commits: value('midge_persistence_commits_total'), sent: value('midge_messages_sent_total')}
}

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}
const spread = (xs, f) => {
  const v = xs.filter((x) => Number.isFinite(x))
  return v.length === 0 ? '–' : `${f(Math.min(...v))}–${f(Math.max(...v))}`
}
const mib = (kb) => Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MiB` : '–'
const fixed = (x) => Number.isFinite(x) ? x.toFixed(2) : '–'
const num = (x) => Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–'
const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length])
const log = (line) => process.stderr.write(line + '\n')

const results = {idle: {}, conns: {}, fanout: {}, qos1: {}, persistence: {}}
const push = (table, key, value) => (table[key] ??= []).push(value)

for (let round = 0; round < ROUNDS; round++) {
  for (const name of rotate(brokerNames, round)) {
    if (SCENARIOS.includes('idle')) {
      const b = await start(name)
      await sleep(2000)
      const s = procStatus(b.pid)
      push(results.idle, name, s)
      log(`[idle ${round + 1}] ${name}: RSS ${mib(s.rss)}, anonymous ${mib(s.anon)}`)
      if (MQBENCH && SCENARIOS.includes('conns')) {
        const m = mqbench(['--mode', 'conns', '--conns', String(CONNS), '--conc', '50', '--keepalive', '60', '--hold', '5', '--port', String(b.port), '--pid', String(b.pid), '--label', name])
        m.cpu_us = m.broker_cpu_s_connect >= 0 && m.connected > 0 ? m.broker_cpu_s_connect / m.connected * 1e6 : NaN
        push(results.conns, name, m)
        log(`[conns ${round + 1}] ${name}: ${num(m.conn_per_s)} conn/s, ${fixed(m.cpu_us)} CPU µs/conn, ${m.kb_per_conn} kB/conn, failed ${m.failed}`)
      }
      await b.stop()
    }
    if (MQBENCH && SCENARIOS.includes('fanout1000')) {
      const b = await start(name)
      {
        const before = residentParts(b.pid)
        const m = mqbench(['--mode', 'fanout', '--pubs', '1', '--subs', '1000', '--duration', String(DURATION), '--warmup', '2', '--port', String(b.port), '--pid', String(b.pid), '--label', name])
        const s = procStatus(b.pid)
        push(results.fanout, name, {rate: m.msgs_per_s ?? m.rate, hwm: s.hwm, dropped: m.dropped, before, after: residentParts(b.pid)})
        log(`[fanout1000 ${round + 1}] ${name}: ${num(m.msgs_per_s ?? m.rate)} msg/s, peak RSS ${mib(s.hwm)}`)
        await b.stop()
      }
    }
    if (MQBENCH && SCENARIOS.includes('qos1') && name !== 'node (bare net server)') {
      for (let run = 0; run < QOS1_RUNS; run++) {
        const b = await start(name, ['--max-inflight-messages', '1000'])
        const m = mqbench(['--mode', 'qos1', '--pubs', '10', '--subs', '1', '--window', '10', '--duration', String(DURATION), '--port', String(b.port), '--pid', String(b.pid), '--label', name])
        await b.stop()
        push(results.qos1, name, {rate: m.msgs_per_s, cpu: m.broker_cpu_s_per_M, dropped: m.dropped, load: loadavg()[0]})
        log(`[qos1 ${round + 1}.${run + 1}] ${name}: ${num(m.msgs_per_s)} msg/s, ${fixed(m.broker_cpu_s_per_M)} CPU s / M msgs, load ${loadavg()[0].toFixed(1)}`)
      }
    }
  }
  if (SCENARIOS.includes('persistence')) {
    const configs = {'in memory': [], '--persistence (sync full)': ['--persistence', 'DIR'], '--persistence --persistence-sync normal': ['--persistence', 'DIR', '--persistence-sync', 'normal']}
    for (const label of rotate(Object.keys(configs), round)) {
      const dir = tempDir('bench-memory-db-')
      const http = await freePort()
      const b = await start('midge', [...configs[label].map((a) => a === 'DIR' ? dir : a), '--http-port', String(http)])
      const r = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), 'bench', '-q', '1', '-c', '10', '--subs', '1', '-x', '3600', '-p', String(b.port),
        '--duration', String(DURATION), '--broker-pid', String(b.pid), '--json'], {encoding: 'utf8', timeout: 180_000, maxBuffer: 1 << 26})
      const m = await httpMetrics(http)
      await b.stop()
      let rate = NaN
      let cpu = NaN
      try {
        const j = JSON.parse(r.stdout)
        rate = j.rates.received
        cpu = j.cpu.broker ? j.cpu.broker.seconds / (j.window.received / 1e6) : NaN
      } catch {
        log(`[persistence ${round + 1}] ${label}: bench failed: ${(r.stderr ?? '').trim().split('\n').pop()}`)
      }
      const perK = m.sent > 0 ? m.commits / m.sent * 1000 : NaN
      push(results.persistence, label, {rate, cpu, perK})
      log(`[persistence ${round + 1}] ${label}: ${num(rate)} msg/s, ${Number.isFinite(cpu) ? cpu.toFixed(2) : '–'} CPU s / M msgs, ${Number.isFinite(perK) ? perK.toFixed(2) : '–'} commits / 1,000 msgs, load ${loadavg()[0].toFixed(1)}`)
    }
  }
}

const out = []
const stamp = `Generated by \`npm run bench:memory\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at the end; ${ROUNDS} rounds, medians).`
out.push(stamp, '')
if (Object.keys(results.idle).length > 0) {
  out.push('| broker | idle RSS | anonymous (not the binary\'s pages) | RSS per idle connection | conn/s | CPU µs / connection | failed |', '|---|---:|---:|---:|---:|---:|---:|')
  for (const name of brokerNames) {
    const idle = results.idle[name] ?? []
    const conns = results.conns[name] ?? []
    out.push(`| ${name} | ${mib(median(idle.map((s) => s.rss)))} | ${mib(median(idle.map((s) => s.anon)))} | ${conns.length ? `${median(conns.map((c) => c.kb_per_conn)).toFixed(2)} kB (${spread(conns.map((c) => c.kb_per_conn), (x) => x.toFixed(2))})` : '–'} | ${conns.length ? num(median(conns.map((c) => c.conn_per_s))) : '–'} | ${conns.length ? median(conns.map((c) => c.cpu_us)).toFixed(0) : '–'} | ${conns.reduce((a, c) => a + c.failed, 0)} |`)
  }
  out.push('')
}
if (Object.keys(results.fanout).length > 0) {
  out.push('| broker | fan-out 1 → 1,000 msg/s | peak RSS | spread |', '|---|---:|---:|---|')
  for (const [name, rows] of Object.entries(results.fanout)) {
    out.push(`| ${name} | ${num(median(rows.map((r) => r.rate)))} | ${mib(median(rows.map((r) => r.hwm)))} | ${spread(rows.map((r) => r.hwm), mib)} |`)
  }
  out.push('', 'What the fan-out adds, by kind of memory (/proc/PID/smaps just after the start and at the end of the run, MiB):', '')
  out.push('| broker | mapped files (node, libraries) | main malloc heap | other threads\' malloc arenas (V8\'s compiler, GC helpers) | other anonymous (V8\'s heap, large buffers) |', '|---|---:|---:|---:|---:|')
  const part = (rows, k) => `${(median(rows.map((r) => r.before[k])) / 1024).toFixed(1)} → ${(median(rows.map((r) => r.after[k])) / 1024).toFixed(1)}`
  for (const [name, rows] of Object.entries(results.fanout)) out.push(`| ${name} | ${part(rows, 'file')} | ${part(rows, 'heap')} | ${part(rows, 'arenas')} | ${part(rows, 'anon')} |`)
  out.push('')
}
if (Object.keys(results.qos1).length > 0) {
  out.push('mqbench qos1 (10 publishers with 10 in flight each → 1 subscriber, 100-byte payloads), each run on a fresh broker (midge: `--max-queued-messages 0 --max-inflight-messages 1000`):', '')
  out.push('| broker | runs | msg/s (median) | every run, sorted | broker CPU s / M msgs | dropped |', '|---|---:|---:|---|---:|---:|')
  for (const [name, rows] of Object.entries(results.qos1)) {
    const sorted = rows.map((r) => r.rate).sort((a, b) => a - b)
    out.push(`| ${name} | ${rows.length} | ${num(median(sorted))} | ${sorted.map((r) => `${Math.round(r / 1000)}k`).join(' ')} | ${fixed(median(rows.map((r) => r.cpu)))} | ${rows.reduce((a, r) => a + r.dropped, 0)} |`)
  }
  out.push('')
}
if (Object.keys(results.persistence).length > 0) {
  const base = median((results.persistence['in memory'] ?? []).map((r) => r.rate))
  out.push('`midge bench -q 1 -c 10 --subs 1 -x 3600` (MQTT 5, 10 publishers with 10 in flight each, one persistent subscriber), broker with `--max-queued-messages 0`:', '')
  out.push('| midge | msg/s | spread | ÷ in memory | broker CPU s / M msgs | commits / 1,000 msgs |', '|---|---:|---|---:|---:|---:|')
  for (const [label, rows] of Object.entries(results.persistence)) {
    const rate = median(rows.map((r) => r.rate))
    out.push(`| ${label} | ${num(rate)} | ${spread(rows.map((r) => r.rate), num)} | ${(rate / base).toFixed(2)}× | ${fixed(median(rows.map((r) => r.cpu)))} | ${fixed(median(rows.map((r) => r.perK)))} |`)
  }
  out.push('')
}
const text = out.join('\n')
process.stdout.write(text + '\n')
if (WRITE) {
  const doc = existsSync(OUT) ? readFileSync(OUT, 'utf8') : ''
  const begin = '<!-- bench-memory: begin -->'
  const end = '<!-- bench-memory: end -->'
  const i = doc.indexOf(begin)
  const j = doc.indexOf(end)
  writeFileSync(OUT, i >= 0 && j > i
    ? doc.slice(0, i + begin.length) + '\n' + text + '\n' + doc.slice(j)
    : `${doc.trimEnd()}${doc.trim() ? '\n\n' : ''}${begin}\n${text}\n${end}\n`)
  log(`written to ${OUT}`)
}
