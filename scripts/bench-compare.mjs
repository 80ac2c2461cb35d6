#!/usr/bin/env node
// npm run bench:compare [-- --quick] [--rounds N] [--duration S] [--warmup S] [--conns N] [--hold S] [--workers N]
//                           [--brokers midge,aedes,mosquitto] [--scenarios fanin,fanout100,...] [--out FILE]
//                           [--mqbench PATH | --no-mqbench] [--no-install] [--from RESULTS.jsonl] [--no-memory]
//
// Runs the same scenarios with `midge bench` (the built binary) against midge, Aedes and Mosquitto,
// each broker in its own process on a free loopback port, interleaved (every round runs each broker
// once per scenario, the order rotating), and writes the medians and ratios to docs/benchmarks.md.
// The scenarios are those of ../shared/perf (mqbench's run-all.sh): MQTT 3.1.1, clean sessions,
// 100-byte payloads; then qos1-stored, QoS 1 on persistent MQTT 5 sessions against midge in memory and
// an extra midge with --persistence (midge-persist, in no other scenario). Raw results (one JSON line
// per run) go to a temporary file, named at the end.
// Peers are found or installed by scripts/bench-peers.mjs: mosquitto (apt-get install as root unless
// --no-install), Aedes (a devDependency), mqbench (optional: --mqbench PATH, else built with make from
// $MIDGE_PERF_DIR or ../shared/perf when its source is there; --no-mqbench leaves it out).
// The report replaces what is between <!-- compare:begin --> and <!-- compare:end --> in the output
// file; the sections other scripts write (auth plugins, bridges, start-up time) are left as they are.
// With mqbench (../shared/perf's neutral C generator), every round also runs mqbench against
// Mosquitto, and the report shows how close `midge bench` and mqbench measure the same broker; in the
// conns scenario mqbench connects to every broker, since `bench conn` is bounded by Node, not the broker.
// --from rewrites the report from an earlier run's raw results, without running anything.
// Last (unless --from or --no-memory), scripts/bench-memory.mjs measures what a machine is sized by (idle
// RSS, RSS per connection, the fan-out peak, QoS 1 run to run, --persistence) with Mosquitto and a bare
// Node server in the same run, and writes its tables into the same file.
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {connect, createServer} from 'node:net'
import {availableParallelism, loadavg, tmpdir, userInfo} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {PERSIST, fmt, report, us} from './bench-report.mjs'
import {findMosquitto, findMqbench, hasAedes} from './bench-peers.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
let BIN = join(ROOT, 'bin', 'run.js')
const TEMP_DIRS = [] // removed at the end, and on SIGINT/SIGTERM
const BEGIN = '<!-- compare:begin -->'
const END = '<!-- compare:end -->'

function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  TEMP_DIRS.push(dir)
  return dir
}

/**
 * Runs from a copy of the build (bin, dist, manifest; node_modules linked), so that a rebuild in the
 * working tree while the comparison runs (npm test wipes dist) cannot break it halfway.
 */
function snapshotBuild() {
  const dir = tempDir('bench-compare-build-')
  for (const entry of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) cpSync(join(ROOT, entry), join(dir, entry), {recursive: true})
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  BIN = join(dir, 'bin', 'run.js')
}

/** The settings line of an earlier run's raw results (the defaults of --from), and its scenarios in order. */
function savedSettings(file) {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const settings = lines.find((x) => x.settings)?.settings ?? {}
  const seen = [...new Set(lines.map((x) => x.scenario).filter(Boolean))].join(',')
  return {...settings, scenarios: settings.scenarios ?? (seen || undefined)}
}

// ---- options ----
const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : fallback
}
const FROM = opt('from', undefined)
const SAVED = FROM ? savedSettings(FROM) : {}
const quick = argv.includes('--quick') || SAVED.quick === true
const ROUNDS = Number(opt('rounds', SAVED.rounds ?? (quick ? 1 : 3)))
const DURATION = Number(opt('duration', SAVED.duration ?? (quick ? 3 : 10)))
const WARMUP = Number(opt('warmup', SAVED.warmup ?? (quick ? 1 : 2)))
const CONNS = Number(opt('conns', SAVED.conns ?? 10_000))
const HOLD = Number(opt('hold', SAVED.hold ?? (quick ? 1 : 5)))
const WORKERS = Number(opt('workers', SAVED.workers ?? availableParallelism()))
const OUT = opt('out', join(ROOT, 'docs', 'benchmarks.md'))
const BROKERS = opt('brokers', 'midge,aedes,mosquitto').split(',')
const MQBENCH = FROM || argv.includes('--no-mqbench') ? undefined : findMqbench(ROOT, opt('mqbench', undefined))
const INSTALL = !argv.includes('--no-install')
const SCENARIO_NAMES = opt('scenarios', SAVED.scenarios ?? 'conns,fanin,fanout100,fanout1000,qos1,latency,qos1-stored').split(',')

const LOAD = ['-s', '100', '--duration', String(DURATION), '--warmup', String(WARMUP), '--workers', String(WORKERS), '--json']
const COMMON = ['-V', '311', ...LOAD]
// mqbench's application window (its --max-outstanding 50000), not midge bench's smaller closed-loop default
const WINDOW = ['--max-outstanding', '50000']
const QOS1 = ['-c', '10', '--subs', '1', '-q', '1', '-F', '10', '-t', 'bench/%i', '--sub-topic', 'bench/#', ...WINDOW]
// brokers: the only brokers a scenario runs on (default: all but midge-persist); pause: ms after each of its runs
const SCENARIOS = {
  conns: {title: `${CONNS.toLocaleString('en-US')} idle connections`, unit: 'conn/s',
    args: ['conn', '-V', '311', '-c', String(CONNS), '--concurrency', '50', '--duration', String(HOLD), '--workers', String(WORKERS), '--json']},
  fanin: {title: 'fan-in: 10 publishers → 1 subscriber, QoS 0', unit: 'msg/s', args: [...COMMON, ...WINDOW, '-c', '10', '--subs', '1', '-t', 'bench/%i', '--sub-topic', 'bench/#']},
  fanout100: {title: 'fan-out: 1 publisher → 100 subscribers, QoS 0', unit: 'msg/s', args: [...COMMON, ...WINDOW, '-c', '1', '--subs', '100', '-t', 'bench/fanout', '--sub-topic', 'bench/fanout']},
  fanout1000: {title: 'fan-out: 1 publisher → 1,000 subscribers, QoS 0', unit: 'msg/s', args: [...COMMON, ...WINDOW, '-c', '1', '--subs', '1000', '-t', 'bench/fanout', '--sub-topic', 'bench/fanout']},
  qos1: {title: 'QoS 1: 10 publishers (10 in flight each) → 1 subscriber', unit: 'msg/s', args: [...COMMON, ...QOS1]},
  latency: {title: 'latency at 10,000 msg/s: 10 publishers → 1 subscriber, QoS 0, open loop', unit: 'msg/s', latency: true,
    args: [...COMMON, '-c', '10', '--subs', '1', '--rate', '10000', '-t', 'bench/%i', '--sub-topic', 'bench/#']},
  // MQTT 5 sessions that expire 2 s after their client leaves: stored while it runs, gone before the next run
  'qos1-stored': {title: 'QoS 1 on persistent sessions (MQTT 5, expiry 2 s): midge in memory vs. --persistence', unit: 'msg/s',
    brokers: ['midge', PERSIST], pause: 3500, args: ['-V', '5', '-x', '2', ...LOAD, ...QOS1]},
}
const MQ_COMMON = ['--size', '100', '--duration', String(DURATION), '--warmup', String(WARMUP)]
const MQBENCH_ARGS = {
  conns: ['--mode', 'conns', '--conns', String(CONNS), '--conc', '50', '--hold', String(HOLD)],
  fanin: ['--mode', 'fanin', '--pubs', '10', '--subs', '1', ...MQ_COMMON],
  fanout100: ['--mode', 'fanout', '--pubs', '1', '--subs', '100', ...MQ_COMMON],
  fanout1000: ['--mode', 'fanout', '--pubs', '1', '--subs', '1000', ...MQ_COMMON],
  qos1: ['--mode', 'qos1', '--pubs', '10', '--subs', '1', '--window', '10', ...MQ_COMMON],
  latency: ['--mode', 'latency', '--pubs', '10', '--subs', '1', '--rate', '10000', ...MQ_COMMON],
}
for (const s of SCENARIO_NAMES) if (!SCENARIOS[s]) fail(`unknown scenario '${s}' (${Object.keys(SCENARIOS).join(', ')})`)
for (const b of BROKERS) if (!['midge', 'aedes', 'mosquitto'].includes(b)) fail(`unknown broker '${b}' (midge, aedes, mosquitto)`)
if (MQBENCH && spawnSync(MQBENCH, ['--help'], {stdio: 'ignore'}).error) fail(`--mqbench ${MQBENCH}: cannot run it (build it with make -C ../shared/perf)`)

function fail(message) {
  process.stderr.write(`bench:compare: ${message}\n`)
  process.exit(2)
}

// ---- brokers, each in its own process ----
async function freePort() {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address()
  server.close()
  await once(server, 'close')
  return port
}

/** Starts a process that prints one JSON line with its port once it listens. */
async function startJsonListener(command, args) {
  const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  let log = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { log = (log + d).slice(-4000) })
  const info = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) resolve(JSON.parse(line))
    })
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${code}): ${log}`)))
  })
  child.stdout.resume()
  return {child, port: info.port, version: info.version, log: () => log}
}

async function waitForPort(port, child) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode})`)
    const ok = await new Promise((resolve) => {
      const s = connect({host: '127.0.0.1', port}, () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
  throw new Error(`nothing listens on ${port}`)
}

const STARTERS = {
  async midge(extra = []) {
    const b = await startJsonListener(process.execPath, [BIN, 'broker', 'start', '--host', '127.0.0.1', '--port', '0', '--json',
      '--log-level', 'warn', '--max-queued-messages', '0', '--max-inflight-messages', '1000', ...extra])
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version
    let commit = ''
    try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).trim() } catch {}
    return {...b, version: `${version}${commit ? ` (${commit})` : ''}`}
  },
  /** midge keeping sessions and QoS 1/2 messages in SQLite (default sync: full), on a fresh directory. */
  async [PERSIST]() {
    return STARTERS.midge(['--persistence', tempDir('bench-compare-persistence-')])
  },
  async aedes() {
    if (!hasAedes(ROOT)) return undefined
    return startJsonListener(process.execPath, [join(ROOT, 'scripts', 'bench-aedes-server.mjs'), '0'])
  },
  async mosquitto() {
    const mosquitto = findMosquitto({install: INSTALL})
    if (!mosquitto) return undefined
    const dir = tempDir('bench-compare-mosquitto-')
    const port = await freePort()
    // ../shared/perf/brokers/mosquitto.conf, on a free port (and as ourselves, so that it can read the folder)
    writeFileSync(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false',
      'max_queued_messages 0', 'max_inflight_messages 1000', 'max_connections -1', 'log_dest stderr', 'log_type error', 'log_type warning',
      `user ${userInfo().username}`, ''].join('\n'))
    const child = spawn(mosquitto, ['-c', join(dir, 'mosquitto.conf')], {stdio: ['ignore', 'ignore', 'pipe']})
    let log = ''
    child.stderr.setEncoding('utf8').on('data', (d) => { log = (log + d).slice(-4000) })
    await waitForPort(port, child)
    const version = (spawnSync(mosquitto, ['-h'], {encoding: 'utf8'}).stdout.match(/version (\S+)/) ?? [])[1] ?? '?'
    return {child, port, version, log: () => log}
  },
}

async function stopBroker(b) {
  if (!b?.child || b.child.exitCode !== null || b.child.signalCode !== null) return
  b.child.kill('SIGTERM')
  const timer = setTimeout(() => b.child.kill('SIGKILL'), 3000)
  await once(b.child, 'exit')
  clearTimeout(timer)
}

function rssKiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
  } catch {
    return undefined
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ---- one run ----
const running = new Set() // bench and mqbench processes, killed on SIGINT/SIGTERM

/** Runs a load generator to its end: {code, out, err} (out whole, err its last 2,000 characters). */
function runTool(command, args, timeoutSeconds) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    running.add(child)
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d) => { err = (err + d).slice(-2000) })
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutSeconds * 1000)
    child.on('error', (e) => { err += e.message })
    child.on('close', (code) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({code, out, err})
    })
  })
}

async function runBench(scenario, broker) {
  const {code, out, err} = await runTool(process.execPath, [BIN, 'bench', ...SCENARIOS[scenario].args, '-h', '127.0.0.1', '-p', String(broker.port),
    '--broker-pid', String(broker.child.pid), '--client-id', `cmp-${scenario}-%r-%i`], DURATION + WARMUP + HOLD + 120)
  let result
  try { result = JSON.parse(out) } catch {}
  return {code, result, stderr: err.trim().split('\n').filter((l) => !l.startsWith('[')).join(' ')}
}

/** mqbench's JSON line, or {error} */
async function runMqbench(scenario, broker, label) {
  const {out, err} = await runTool(MQBENCH, [...MQBENCH_ARGS[scenario], '--host', '127.0.0.1', '--port', String(broker.port), '--pid', String(broker.child.pid),
    '--label', label], DURATION + WARMUP + HOLD + 120)
  try { return JSON.parse(out.split('\n').find((l) => l.startsWith('{'))) } catch { return {error: err.trim().slice(-300) || 'no output'} }
}

/** mqbench's JSON line in the terms of metrics(); for conns also its RSS figures (kB). */
function mqMetrics(scenario, r) {
  if (!r || r.error) return {error: r?.error ?? 'no output'}
  if (scenario === 'conns') {
    return {rate: r.conn_per_s, failed: r.failed, lost: r.connected - r.alive_after_hold, kbPerConn: r.kb_per_conn,
      rssBefore: r.rss_before_kb, rssAfter: r.rss_after_kb, cpuSeconds: r.broker_cpu_s_connect}
  }
  return {rate: r.msgs_per_s, cpuPerM: r.broker_cpu_s_per_M >= 0 ? r.broker_cpu_s_per_M : undefined, brokerCores: r.broker_cpu_util,
    benchCores: r.client_cpu_util, lossPct: r.drop_pct, p50: r.p50_us, p99: r.p99_us, p999: r.p999_us, max: r.max_us}
}

function metrics(scenario, run) {
  const r = run.result
  if (!r) return {error: run.stderr || `exit ${run.code}`}
  const conns = scenario === 'conns'
  const rate = conns ? r.connections.rate : r.rates.received
  const deliveries = r.window.received
  return {
    rate, exit: r.exitCode, failure: r.failure,
    cpuPerM: !conns && r.cpu.broker && deliveries > 0 ? r.cpu.broker.seconds / (deliveries / 1e6) : undefined,
    brokerCores: r.cpu.broker?.cores, benchCores: r.cpu.bench.cores,
    lossPct: conns ? undefined : r.messages.lossPercent,
    connected: r.connections.connected, failed: r.connections.failed + r.connections.lost,
    p50: r.latency.endToEnd?.p50, p99: r.latency.endToEnd?.p99, p999: r.latency.endToEnd?.p999, max: r.latency.endToEnd?.max,
    connectP99: r.latency.connect?.p99, rss: run.rss,
  }
}

// ---- main ----
const brokers = {}
const results = [] // midge bench: {scenario, round, broker, m}
const agreement = [] // mqbench against mosquitto, every scenario but conns: {scenario, round, m}
const idle = [] // mqbench --mode conns against every broker (raw: kind 'conns-all'): {round, broker, fresh, m}
let stopping = false

async function cleanup() {
  for (const child of running) child.kill('SIGTERM')
  await Promise.all(Object.values(brokers).map(stopBroker))
  for (const dir of TEMP_DIRS.splice(0)) rmSync(dir, {recursive: true, force: true})
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    if (stopping) return
    stopping = true
    process.stderr.write(`bench:compare: ${signal}: stopping the brokers\n`)
    await cleanup()
    process.exit(130)
  })
}

/** The broker, restarted if it died (a restarted broker is fresh again). */
async function alive(name) {
  if (stopping) await new Promise(() => {}) // the signal handler stops the brokers and exits: start nothing
  const b = brokers[name]
  if (b.child.exitCode === null && b.child.signalCode === null) return b
  process.stderr.write(`bench:compare: ${name} died (${b.child.exitCode ?? b.child.signalCode}): ${b.log().trim().slice(-300)}; restarting\n`)
  brokers[name] = {...await STARTERS[name](), runs: 0}
  return brokers[name]
}

const tag = (scenario, round, who) => `[${scenario} ${round}/${ROUNDS}] ${who.padEnd(17)}`

async function benchRun(scenario, round, name) {
  const b = await alive(name)
  const run = await runBench(scenario, b)
  b.runs++
  run.rss = rssKiB(b.child.pid)
  const m = metrics(scenario, run)
  results.push({scenario, round, broker: name, m})
  appendFileSync(rawFile, JSON.stringify({scenario, round, broker: name, version: b.version, code: run.code, result: run.result, stderr: run.stderr, rss: run.rss}) + '\n')
  const sc = SCENARIOS[scenario]
  process.stderr.write(`${tag(scenario, round, name)} ${m.error ? `ERROR ${m.error}` : `${fmt(m.rate).padStart(10)} ${sc.unit}` +
    `${m.lossPct ? `  loss ${m.lossPct}%` : ''}${m.p99 !== undefined && sc.latency ? `  p50 ${us(m.p50)} p99 ${us(m.p99)}` : ''}` +
    `${m.cpuPerM !== undefined ? `  broker ${m.cpuPerM.toFixed(2)} CPU-s/M` : ''}${m.failed ? `  ${m.failed} conns failed/lost` : ''}${m.exit ? `  (exit ${m.exit}: ${m.failure})` : ''}`}\n`)
  await sleep(sc.pause ?? 1000)
}

/** mqbench --mode conns against one broker: its connect rate and RSS per connection. */
async function idleRun(round, name) {
  const b = await alive(name)
  const fresh = b.runs === 0
  const raw = await runMqbench('conns', b, name)
  b.runs++
  const m = mqMetrics('conns', raw)
  idle.push({round, broker: name, fresh, m})
  appendFileSync(rawFile, JSON.stringify({scenario: 'conns', round, tool: 'mqbench', kind: 'conns-all', broker: name, version: b.version, fresh, m, raw}) + '\n')
  process.stderr.write(`${tag('conns', round, `mqbench ${name}`)} ${m.error ? `ERROR ${m.error}` : `${fmt(m.rate).padStart(10)} conn/s` +
    `  RSS ${fmt(m.kbPerConn, 2)} kB/conn${fresh ? ' (fresh broker)' : ''}${m.failed + m.lost ? `  ${m.failed + m.lost} failed/lost` : ''}`}\n`)
  await sleep(1000)
}

/** mqbench against Mosquitto, for the agreement section. */
async function agreementRun(scenario, round) {
  const b = await alive('mosquitto')
  const m = mqMetrics(scenario, await runMqbench(scenario, b, 'mosquitto'))
  b.runs++
  agreement.push({scenario, round, m})
  appendFileSync(rawFile, JSON.stringify({scenario, round, tool: 'mqbench', broker: 'mosquitto', m}) + '\n')
  process.stderr.write(`${tag(scenario, round, 'mqbench mosq.')} ${m.error ? `ERROR ${m.error}` : `${fmt(m.rate).padStart(10)} ${SCENARIOS[scenario].unit}` +
    `${m.p99 !== undefined && SCENARIOS[scenario].latency ? `  p50 ${us(m.p50)} p99 ${us(m.p99)}` : ''}${m.cpuPerM !== undefined ? `  broker ${m.cpuPerM.toFixed(2)} CPU-s/M` : ''}`}\n`)
  await sleep(1000)
}

const rawFile = FROM ?? join(mkdtempSync(join(tmpdir(), 'bench-compare-')), 'results.jsonl')
let started = new Date()
let loadBefore = loadavg()[0]
let loadAfter
if (FROM) {
  started = SAVED.started ? new Date(SAVED.started) : statSync(FROM).mtime
  loadBefore = SAVED.loadBefore
  for (const line of readFileSync(FROM, 'utf8').split('\n').filter(Boolean)) {
    const x = JSON.parse(line)
    if (x.settings) continue
    if (x.loadAfter !== undefined) { loadAfter = x.loadAfter; continue }
    if (x.kind === 'conns-all') {
      brokers[x.broker] ??= {version: x.version}
      idle.push({round: x.round, broker: x.broker, fresh: x.fresh, m: x.m})
      continue
    }
    if (x.tool === 'mqbench') { agreement.push({scenario: x.scenario, round: x.round, m: x.m}); continue }
    brokers[x.broker] ??= {version: x.version}
    results.push({scenario: x.scenario, round: x.round, broker: x.broker, m: metrics(x.scenario, {code: x.code, result: x.result, stderr: x.stderr, rss: x.rss})})
  }
} else try {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'bench', 'index.js'))) fail('no build: run `npm run build` first (npm run bench:compare does)')
  snapshotBuild()
  appendFileSync(rawFile, JSON.stringify({settings: {started: started.toISOString(), loadBefore, rounds: ROUNDS, duration: DURATION, warmup: WARMUP,
    conns: CONNS, hold: HOLD, workers: WORKERS, quick, scenarios: SCENARIO_NAMES.join(','), mqbench: Boolean(MQBENCH)}}) + '\n')
  const wanted = new Set(SCENARIO_NAMES.flatMap((s) => SCENARIOS[s].brokers ?? BROKERS))
  for (const name of wanted) {
    const b = await STARTERS[name]()
    if (!b) { process.stderr.write(`bench:compare: ${name} is not installed: skipped\n`); continue }
    brokers[name] = {...b, runs: 0}
    process.stderr.write(`bench:compare: ${name} ${b.version} on 127.0.0.1:${b.port} (pid ${b.child.pid})\n`)
  }
  const main = BROKERS.filter((n) => brokers[n])
  for (const scenario of SCENARIO_NAMES) {
    const names = SCENARIOS[scenario].brokers?.filter((n) => brokers[n]) ?? main
    for (let round = 1; round <= ROUNDS; round++) {
      const order = names.map((_, k) => names[(k + round - 1) % names.length])
      // mqbench first, so that its first run meets a fresh broker (when conns is the first scenario)
      if (scenario === 'conns' && MQBENCH) for (const name of order) await idleRun(round, name)
      for (const name of order) await benchRun(scenario, round, name)
      // conns: the mosquitto run above serves the agreement section too
      if (MQBENCH && MQBENCH_ARGS[scenario] && scenario !== 'conns' && brokers.mosquitto) await agreementRun(scenario, round)
    }
  }
} finally {
  await cleanup()
  if (!FROM) {
    loadAfter = loadavg()[0]
    appendFileSync(rawFile, JSON.stringify({loadAfter}) + '\n')
  }
}

mkdirSync(dirname(OUT), {recursive: true})
const section = `${BEGIN}\n${report({brokers, results, agreement, idle, scenarios: SCENARIOS, scenarioNames: SCENARIO_NAMES,
  settings: {quick, rounds: ROUNDS, duration: DURATION, warmup: WARMUP, workers: WORKERS, conns: CONNS, hold: HOLD, started, loadBefore, loadAfter}}).trimEnd()}\n${END}\n`
writeFileSync(OUT, between(existsSync(OUT) ? readFileSync(OUT, 'utf8') : '', section))
process.stderr.write(`bench:compare: wrote ${OUT}; raw results in ${rawFile}\n`)
if (!FROM && !argv.includes('--no-memory')) {
  const memory = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bench-memory.mjs'), '--rounds', String(ROUNDS),
    '--duration', String(quick ? 3 : 5), ...(MQBENCH ? ['--mqbench', MQBENCH] : []), '--write', '--out', OUT], {stdio: 'inherit'})
  if (memory.status !== 0) process.exitCode = memory.status ?? 1
}

/**
 * The document with `section` between the compare markers: in place of what was between them, or at
 * the top when there are none (the rest of the document, other scripts' sections, stays as it is).
 */
function between(text, section) {
  const start = text.indexOf(BEGIN)
  const end = text.indexOf(END)
  if (start >= 0 && end > start) return text.slice(0, start) + section + text.slice(end + END.length).replace(/^\n/, '')
  return text.trim() ? `${section}\n${text}` : section
}
