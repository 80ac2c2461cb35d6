#!/usr/bin/env node
// npm run bench:compare [-- --quick] [--rounds N] [--duration S] [--warmup S] [--conns N] [--workers N]
//                           [--brokers midge,aedes,mosquitto] [--scenarios fanin,fanout100,...] [--out FILE]
//                           [--mqbench PATH] [--from RESULTS.jsonl]
//
// Runs the same scenarios with `midge bench` (the built binary) against midge, Aedes and Mosquitto,
// each broker in its own process on a free loopback port, interleaved (every round runs each broker
// once per scenario, the order rotating), and writes the medians and ratios to docs/benchmarks.md.
// The scenarios are those of ../shared/perf (mqbench's run-all.sh): MQTT 3.1.1, clean sessions,
// 100-byte payloads. Raw results (one JSON line per run) go to a temporary file, named at the end.
// With --mqbench (../shared/perf's neutral C generator, built), every round also runs mqbench against
// Mosquitto, and the report shows how close `midge bench` and mqbench measure the same broker.
// --from rewrites the report from an earlier run's raw results, without running anything.
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {connect, createServer} from 'node:net'
import {availableParallelism, cpus, loadavg, tmpdir, userInfo} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
let BIN = join(ROOT, 'bin', 'run.js')

/**
 * Runs from a copy of the build (bin, dist, manifest; node_modules linked), so that a rebuild in the
 * working tree while the comparison runs (npm test wipes dist) cannot break it halfway.
 */
function snapshotBuild() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-compare-build-'))
  for (const entry of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) cpSync(join(ROOT, entry), join(dir, entry), {recursive: true})
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  BIN = join(dir, 'bin', 'run.js')
  return dir
}

// ---- options ----
const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : fallback
}
const quick = argv.includes('--quick')
const ROUNDS = Number(opt('rounds', quick ? 1 : 3))
const DURATION = Number(opt('duration', quick ? 3 : 10))
const WARMUP = Number(opt('warmup', quick ? 1 : 2))
const CONNS = Number(opt('conns', 10_000))
const HOLD = Number(opt('hold', quick ? 1 : 5))
const WORKERS = Number(opt('workers', availableParallelism()))
const OUT = opt('out', join(ROOT, 'docs', 'benchmarks.md'))
const BROKERS = opt('brokers', 'midge,aedes,mosquitto').split(',')
const MQBENCH = opt('mqbench', undefined)
const FROM = opt('from', undefined)
const SCENARIO_NAMES = opt('scenarios', 'conns,fanin,fanout100,fanout1000,qos1,latency').split(',')

const COMMON = ['-V', '311', '-s', '100', '--duration', String(DURATION), '--warmup', String(WARMUP), '--workers', String(WORKERS), '--json']
const SCENARIOS = {
  conns: {title: `${CONNS.toLocaleString('en-US')} idle connections`, unit: 'conn/s',
    args: ['conn', '-V', '311', '-c', String(CONNS), '--concurrency', '50', '--duration', String(HOLD), '--workers', String(WORKERS), '--json']},
  fanin: {title: 'fan-in: 10 publishers → 1 subscriber, QoS 0', unit: 'msg/s', args: [...COMMON, '-c', '10', '--subs', '1', '-t', 'bench/%i', '--sub-topic', 'bench/#']},
  fanout100: {title: 'fan-out: 1 publisher → 100 subscribers, QoS 0', unit: 'msg/s', args: [...COMMON, '-c', '1', '--subs', '100', '-t', 'bench/fanout', '--sub-topic', 'bench/fanout']},
  fanout1000: {title: 'fan-out: 1 publisher → 1,000 subscribers, QoS 0', unit: 'msg/s', args: [...COMMON, '-c', '1', '--subs', '1000', '-t', 'bench/fanout', '--sub-topic', 'bench/fanout']},
  qos1: {title: 'QoS 1: 10 publishers (10 in flight each) → 1 subscriber', unit: 'msg/s', args: [...COMMON, '-c', '10', '--subs', '1', '-q', '1', '-F', '10', '-t', 'bench/%i', '--sub-topic', 'bench/#']},
  latency: {title: 'latency at 10,000 msg/s: 10 publishers → 1 subscriber, QoS 0, open loop', unit: 'msg/s', latency: true,
    args: [...COMMON, '-c', '10', '--subs', '1', '--rate', '10000', '-t', 'bench/%i', '--sub-topic', 'bench/#']},
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
  async midge() {
    const b = await startJsonListener(process.execPath, [BIN, 'broker', 'start', '--host', '127.0.0.1', '--port', '0', '--json',
      '--log-level', 'warn', '--max-queued-messages', '0', '--max-inflight-messages', '1000'])
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version
    let commit = ''
    try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT, encoding: 'utf8'}).trim() } catch {}
    return {...b, version: `${version}${commit ? ` (${commit})` : ''}`}
  },
  async aedes() {
    return startJsonListener(process.execPath, [join(ROOT, 'scripts', 'bench-aedes-server.mjs'), '0'])
  },
  async mosquitto() {
    if (spawnSync('mosquitto', ['-h'], {stdio: 'ignore'}).error) return undefined
    const dir = mkdtempSync(join(tmpdir(), 'bench-compare-mosquitto-'))
    const port = await freePort()
    // ../shared/perf/brokers/mosquitto.conf, on a free port (and as ourselves, so that it can read the folder)
    writeFileSync(join(dir, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false',
      'max_queued_messages 0', 'max_inflight_messages 1000', 'max_connections -1', 'log_dest stderr', 'log_type error', 'log_type warning',
      `user ${userInfo().username}`, ''].join('\n'))
    const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], {stdio: ['ignore', 'ignore', 'pipe']})
    let log = ''
    child.stderr.setEncoding('utf8').on('data', (d) => { log = (log + d).slice(-4000) })
    await waitForPort(port, child)
    const version = (spawnSync('mosquitto', ['-h'], {encoding: 'utf8'}).stdout.match(/version (\S+)/) ?? [])[1] ?? '?'
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
function runBench(scenario, broker) {
  const args = [BIN, 'bench', ...SCENARIOS[scenario].args, '-h', '127.0.0.1', '-p', String(broker.port), '--broker-pid', String(broker.child.pid),
    '--client-id', `cmp-${scenario}-%r-%i`]
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d) => { err = (err + d).slice(-2000) })
    const timer = setTimeout(() => child.kill('SIGINT'), (DURATION + WARMUP + 120) * 1000)
    child.on('close', (code) => {
      clearTimeout(timer)
      let result
      try { result = JSON.parse(out) } catch {}
      resolve({code, result, stderr: err.trim().split('\n').filter((l) => !l.startsWith('[')).join(' ')})
    })
  })
}

function runMqbench(scenario, broker) {
  return new Promise((resolve) => {
    const child = spawn(MQBENCH, [...MQBENCH_ARGS[scenario], '--host', '127.0.0.1', '--port', String(broker.port), '--pid', String(broker.child.pid), '--label', 'mosquitto'],
      {stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d })
    child.stderr.resume()
    child.on('error', () => resolve(undefined))
    child.on('close', () => {
      try { resolve(JSON.parse(out.split('\n').find((l) => l.startsWith('{')))) } catch { resolve(undefined) }
    })
  })
}

/** mqbench's JSON line in the terms of metrics(). */
function mqMetrics(scenario, r) {
  if (!r || r.error) return {error: r?.error ?? 'no output'}
  if (scenario === 'conns') return {rate: r.conn_per_s, failed: r.failed}
  return {rate: r.msgs_per_s, cpuPerM: r.broker_cpu_s_per_M >= 0 ? r.broker_cpu_s_per_M : undefined, brokerCores: r.broker_cpu_util,
    benchCores: r.client_cpu_util, lossPct: r.drop_pct, p50: r.p50_us, p99: r.p99_us, p999: r.p999_us, max: r.max_us}
}

// ---- statistics ----
const median = (xs) => {
  const v = xs.filter((x) => x !== undefined && x !== null && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return undefined
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}
const fmt = (n, digits = 0) => n === undefined ? '–' : n.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits})
const us = (n) => n === undefined ? '–' : n < 1000 ? `${Math.round(n)} µs` : `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} ms`

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
const results = [] // {scenario, round, broker, m}
const agreement = [] // mqbench against mosquitto: {scenario, round, m}
let stopping = false
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    if (stopping) return
    stopping = true
    process.stderr.write(`bench:compare: ${signal}: stopping the brokers\n`)
    await Promise.all(Object.values(brokers).map(stopBroker))
    process.exit(130)
  })
}
const rawFile = FROM ?? join(mkdtempSync(join(tmpdir(), 'bench-compare-')), 'results.jsonl')
let started = new Date()
let loadBefore = loadavg()[0]
let loadAfter
let buildCopy
if (FROM) {
  started = statSync(FROM).mtime
  loadBefore = undefined
  for (const line of readFileSync(FROM, 'utf8').split('\n').filter(Boolean)) {
    const x = JSON.parse(line)
    if (x.settings) {
      started = new Date(x.settings.started)
      loadBefore = x.settings.loadBefore
      continue
    }
    if (x.loadAfter !== undefined) { loadAfter = x.loadAfter; continue }
    if (x.tool === 'mqbench') { agreement.push({scenario: x.scenario, round: x.round, m: x.m}); continue }
    brokers[x.broker] ??= {version: x.version}
    results.push({scenario: x.scenario, round: x.round, broker: x.broker, m: metrics(x.scenario, {code: x.code, result: x.result, stderr: x.stderr, rss: x.rss})})
  }
} else try {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'bench', 'index.js'))) fail('no build: run `npm run build` first (npm run bench:compare does)')
  buildCopy = snapshotBuild()
  appendFileSync(rawFile, JSON.stringify({settings: {started: started.toISOString(), loadBefore, rounds: ROUNDS, duration: DURATION, warmup: WARMUP, conns: CONNS, workers: WORKERS}}) + '\n')
  for (const name of BROKERS) {
    if (!STARTERS[name]) fail(`unknown broker '${name}' (midge, aedes, mosquitto)`)
    const b = await STARTERS[name]()
    if (!b) { process.stderr.write(`bench:compare: ${name} is not installed: skipped\n`); continue }
    brokers[name] = b
    process.stderr.write(`bench:compare: ${name} ${b.version} on 127.0.0.1:${b.port} (pid ${b.child.pid})\n`)
  }
  const names = Object.keys(brokers)
  for (const scenario of SCENARIO_NAMES) {
    for (let round = 1; round <= ROUNDS; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + round - 1) % names.length]
        let b = brokers[name]
        if (b.child.exitCode !== null || b.child.signalCode !== null) {
          process.stderr.write(`bench:compare: ${name} died (${b.child.exitCode ?? b.child.signalCode}): ${b.log().trim().slice(-300)}; restarting\n`)
          b = brokers[name] = await STARTERS[name]()
        }
        const run = await runBench(scenario, b)
        run.rss = rssKiB(b.child.pid)
        const m = metrics(scenario, run)
        results.push({scenario, round, broker: name, m})
        appendFileSync(rawFile, JSON.stringify({scenario, round, broker: name, version: b.version, code: run.code, result: run.result, stderr: run.stderr, rss: run.rss}) + '\n')
        const unit = SCENARIOS[scenario].unit
        process.stderr.write(`[${scenario} ${round}/${ROUNDS}] ${name.padEnd(9)} ${m.error ? `ERROR ${m.error}` : `${fmt(m.rate).padStart(10)} ${unit}` +
          `${m.lossPct ? `  loss ${m.lossPct}%` : ''}${m.p99 !== undefined && SCENARIOS[scenario].latency ? `  p50 ${us(m.p50)} p99 ${us(m.p99)}` : ''}` +
          `${m.cpuPerM !== undefined ? `  broker ${m.cpuPerM.toFixed(2)} CPU-s/M` : ''}${m.failed ? `  ${m.failed} conns failed/lost` : ''}${m.exit ? `  (exit ${m.exit}: ${m.failure})` : ''}`}\n`)
        await sleep(1000)
      }
      if (MQBENCH && brokers.mosquitto) {
        const m = mqMetrics(scenario, await runMqbench(scenario, brokers.mosquitto))
        agreement.push({scenario, round, m})
        appendFileSync(rawFile, JSON.stringify({scenario, round, tool: 'mqbench', broker: 'mosquitto', m}) + '\n')
        process.stderr.write(`[${scenario} ${round}/${ROUNDS}] mqbench on mosquitto ${m.error ? `ERROR ${m.error}` : `${fmt(m.rate).padStart(10)} ${SCENARIOS[scenario].unit}` +
          `${m.p99 !== undefined && SCENARIOS[scenario].latency ? `  p50 ${us(m.p50)} p99 ${us(m.p99)}` : ''}${m.cpuPerM !== undefined ? `  broker ${m.cpuPerM.toFixed(2)} CPU-s/M` : ''}`}\n`)
        await sleep(1000)
      }
    }
  }
} finally {
  await Promise.all(Object.values(brokers).map(stopBroker))
  if (buildCopy) rmSync(buildCopy, {recursive: true, force: true})
  if (!FROM) {
    loadAfter = loadavg()[0]
    appendFileSync(rawFile, JSON.stringify({loadAfter}) + '\n')
  }
}

mkdirSync(dirname(OUT), {recursive: true})
writeFileSync(OUT, report())
process.stderr.write(`bench:compare: wrote ${OUT}; raw results in ${rawFile}\n`)

function report() {
  const names = Object.keys(brokers)
  const others = names.filter((n) => n !== 'midge')
  const cell = (scenario, broker, key) => median(results.filter((r) => r.scenario === scenario && r.broker === broker && !r.m.error && !r.m.exit).map((r) => r.m[key]))
  const spread = (scenario, broker) => {
    const v = results.filter((r) => r.scenario === scenario && r.broker === broker && !r.m.error).map((r) => r.m.rate)
    return v.length > 1 ? `${fmt(Math.min(...v))}–${fmt(Math.max(...v))}` : ''
  }
  const errors = (scenario, broker) => results.filter((r) => r.scenario === scenario && r.broker === broker && (r.m.error || r.m.exit))
  const ratio = (a, b) => a !== undefined && b ? `${(a / b).toFixed(2)}×` : '–'
  const cpu = cpus()
  const lines = []
  lines.push('# Benchmarks: midge, Aedes and Mosquitto', '')
  lines.push(`Generated by \`npm run bench:compare${quick ? ' -- --quick' : ''}\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC` +
    ` (${ROUNDS} round${ROUNDS === 1 ? '' : 's'}, ${DURATION} s windows after ${WARMUP} s warm-up; medians). Regenerate it after changing the broker; ` +
    'numbers from another machine, or a busy one, are not comparable with these.', '')
  lines.push(`- Machine: ${availableParallelism()} × ${cpu[0]?.model ?? 'CPU'}, shared by the load generator and the broker (nothing pinned); Node ${process.version}.` +
    (loadBefore !== undefined && loadAfter !== undefined ? ` Load average (1 min) ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end` +
      `${Math.max(loadBefore, loadAfter) > availableParallelism() ? ': other work competed for the CPUs, so read the CPU-per-message columns rather than the rates' : ''}.` : ''))
  lines.push(`- Brokers, each in its own process on a loopback port: ${names.map((n) => `${n} ${brokers[n].version}`).join(', ')}.`)
  lines.push('  midge runs `broker start --max-queued-messages 0 --max-inflight-messages 1000`; Mosquitto runs ../shared/perf/brokers/mosquitto.conf' +
    ' (no queue limit, 1000 in flight); Aedes its defaults.')
  lines.push(`- Load: \`midge bench\` with ${WORKERS} worker thread${WORKERS === 1 ? '' : 's'}, MQTT 3.1.1, 100-byte payloads; the scenarios of ../shared/perf's mqbench` +
    ' (fan-in and fan-out as fast as the broker takes, with at most 50,000 deliveries on their way; QoS 1 with 10 in flight per publisher;' +
    ' latency open loop at a fixed rate, measured from the intended send time).')
  lines.push('- Throughput is deliveries received by the subscribers per second inside the window. Broker CPU is its utime+stime over the window' +
    ' (/proc), per million deliveries: less noisy than the rate on a shared machine.', '')

  lines.push('## Summary (medians)', '')
  lines.push(`| scenario | ${names.join(' | ')} | ${others.map((o) => `midge ÷ ${o}`).join(' | ')} |`)
  lines.push(`|---|${names.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`)
  for (const s of SCENARIO_NAMES) {
    const sc = SCENARIOS[s]
    if (sc.latency) {
      const p99 = (n) => cell(s, n, 'p99')
      lines.push(`| ${sc.title} (p50 / p99) | ${names.map((n) => `${us(cell(s, n, 'p50'))} / ${us(p99(n))}`).join(' | ')} | ${others.map((o) => `p99 ${ratio(p99('midge'), p99(o))}`).join(' | ')} |`)
    } else {
      lines.push(`| ${sc.title} | ${names.map((n) => `${fmt(cell(s, n, 'rate'))} ${sc.unit}`).join(' | ')} | ${others.map((o) => ratio(cell(s, 'midge', 'rate'), cell(s, o, 'rate'))).join(' | ')} |`)
    }
  }
  lines.push('', 'Ratios above 1 mean midge delivered more per second (for latency: a p99 ratio below 1 means midge was faster).', '')

  lines.push('## Details', '')
  for (const s of SCENARIO_NAMES) {
    const sc = SCENARIOS[s]
    lines.push(`### ${sc.title}`, '')
    if (s === 'conns') {
      lines.push('| broker | conn/s | spread | time to CONNACK p99 | failed | broker RSS after |', '|---|---:|---|---:|---:|---:|')
      for (const n of names) lines.push(`| ${n} | ${fmt(cell(s, n, 'rate'))} | ${spread(s, n)} | ${us(cell(s, n, 'connectP99'))} | ${fmt(cell(s, n, 'failed'))} | ${cell(s, n, 'rss') === undefined ? '–' : `${fmt(cell(s, n, 'rss') / 1024, 1)} MiB`} |`)
    } else if (sc.latency) {
      lines.push('| broker | msg/s | p50 | p99 | p99.9 | max | loss | broker CPU s / M msgs |', '|---|---:|---:|---:|---:|---:|---:|---:|')
      for (const n of names) lines.push(`| ${n} | ${fmt(cell(s, n, 'rate'))} | ${us(cell(s, n, 'p50'))} | ${us(cell(s, n, 'p99'))} | ${us(cell(s, n, 'p999'))} | ${us(cell(s, n, 'max'))} | ${fmt(cell(s, n, 'lossPct'), 3)}% | ${fmt(cell(s, n, 'cpuPerM'), 2)} |`)
    } else {
      lines.push('| broker | msg/s | spread | broker CPU s / M msgs | broker cores | bench cores | loss |', '|---|---:|---|---:|---:|---:|---:|')
      for (const n of names) lines.push(`| ${n} | ${fmt(cell(s, n, 'rate'))} | ${spread(s, n)} | ${fmt(cell(s, n, 'cpuPerM'), 2)} | ${fmt(cell(s, n, 'brokerCores'), 2)} | ${fmt(cell(s, n, 'benchCores'), 2)} | ${fmt(cell(s, n, 'lossPct'), 3)}% |`)
    }
    const bad = names.flatMap((n) => errors(s, n).map((r) => `${n} round ${r.round}: ${(r.m.error ?? r.m.failure ?? '').replace(/\s*›\s*/g, ' ').trim().slice(0, 120)}`))
    if (bad.length) lines.push('', `Runs left out of the medians (they failed or ended with a non-zero exit): ${bad.join('; ')}.`)
    lines.push('')
  }
  if (agreement.length) {
    const mq = (scenario, key) => median(agreement.filter((r) => r.scenario === scenario && !r.m.error).map((r) => r.m[key]))
    lines.push('## Agreement with mqbench', '')
    lines.push('The same scenarios, in the same rounds, measured on Mosquitto by `midge bench` and by mqbench (../shared/perf, a neutral load' +
      ' generator in C: one thread, raw sockets, hand-encoded packets). Close figures mean the bench measures the broker, not itself.', '')
    lines.push('| scenario | midge bench | mqbench | ratio | broker CPU s / M msgs (midge bench / mqbench) | bench cores (midge bench / mqbench) |', '|---|---:|---:|---:|---:|---:|')
    for (const s of SCENARIO_NAMES) {
      const sc = SCENARIOS[s]
      const a = cell(s, 'mosquitto', 'rate')
      const b = mq(s, 'rate')
      const value = (x, y) => sc.latency ? `${fmt(x)} msg/s, p50 ${us(cell(s, 'mosquitto', 'p50'))}, p99 ${us(cell(s, 'mosquitto', 'p99'))}` : `${fmt(x)} ${sc.unit}`
      const mqValue = sc.latency ? `${fmt(b)} msg/s, p50 ${us(mq(s, 'p50'))}, p99 ${us(mq(s, 'p99'))}` : `${fmt(b)} ${sc.unit}`
      const ratioText = sc.latency ? `p50 ${ratio(cell(s, 'mosquitto', 'p50'), mq(s, 'p50'))}` : ratio(a, b)
      lines.push(`| ${sc.title} | ${value(a)} | ${mqValue} | ${ratioText} | ${fmt(cell(s, 'mosquitto', 'cpuPerM'), 2)} / ${fmt(mq(s, 'cpuPerM'), 2)} | ${fmt(cell(s, 'mosquitto', 'benchCores'), 2)} / ${fmt(mq(s, 'benchCores'), 2)} |`)
    }
    lines.push('')
  }
  lines.push('## Caveats', '')
  lines.push('- Client and broker share the machine\'s cores; single-threaded brokers (Mosquitto, Node) use at most about one. Compare CPU per million' +
    ' messages rather than rates when the machine is busy.')
  lines.push('- Closed-loop runs keep up to 50,000 deliveries on their way, so their latency is queueing (Little\'s law), not the broker\'s; the' +
    ' latency scenario is open loop for that reason.')
  lines.push('- `bench conn` opens connections from Node: its connection rate is bounded by the client (about 2-5k/s on this machine,' +
    ' where mqbench in C reaches 10k+), so the conns row compares brokers only where they are slower than that.')
  return lines.join('\n') + '\n'
}
