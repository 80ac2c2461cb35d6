// Messages per second through a bridge: an edge broker bridging `bench/# out QOS` to a remote
// Mosquitto, with midge as the edge and with Mosquitto as the edge, in the same run, QoS 0 and QoS 1.
// A publisher (midge's own client, 100-byte payloads, QoS 1 with 100 in flight) sends N messages to the
// edge; a subscriber on the remote counts them. The rate is messages received over the time from the
// first publish to the last arrival. Writes a "Bridges" section into docs/benchmarks.md.
// Usage: npm run build && node scripts/bench-bridge.mjs [--messages 100000] [--rounds 3] [--no-write]
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, connect as netConnect} from 'node:net'
import {cpus, loadavg, tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {connect} from '../dist/index.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const arg = (name, fallback) => { const i = args.indexOf(name); return i < 0 ? fallback : Number(args[i + 1]) }
const N = arg('--messages', 100_000)
const ROUNDS = arg('--rounds', 3)
const write = !args.includes('--no-write')
const PAYLOAD = Buffer.alloc(100, 'x')

async function freePort() {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const {port} = s.address()
  s.close()
  await once(s, 'close')
  return port
}

async function waitPort(port, child, what) {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited`)
    const ok = await new Promise((resolve) => {
      const s = netConnect({host: '127.0.0.1', port}, () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${what} did not start`)
}

const dir = mkdtempSync(join(tmpdir(), 'midge-bench-bridge-'))
const children = []
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); rmSync(dir, {recursive: true, force: true}) })

async function start(what, command, argv) {
  const child = spawn(command, argv, {stdio: ['ignore', 'ignore', 'pipe'], cwd: dir})
  let err = ''
  child.stderr.on('data', (d) => { err += d })
  children.push(child)
  return {child, err: () => err}
}

async function mosquitto(name, lines) {
  const port = await freePort()
  const conf = join(dir, `${name}.conf`)
  writeFileSync(conf, [`user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'allow_anonymous true',
    'max_inflight_messages 100', 'max_queued_messages 0', ...lines].join('\n') + '\n')
  const p = await start(name, 'mosquitto', ['-c', conf])
  await waitPort(port, p.child, name)
  return {port, ...p}
}

async function midgeEdge(bridgeLines) {
  const port = await freePort()
  const conf = join(dir, 'midge-edge.conf')
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'max_inflight_messages 100', 'max_queued_messages 0', ...bridgeLines].join('\n') + '\n')
  const p = await start('midge', process.execPath, [join(ROOT, 'bin/run.js'), 'broker', 'start', '-c', conf, '--log-level', 'warn'])
  await waitPort(port, p.child, 'midge')
  return {port, ...p}
}

const bridgeConf = (remotePort, qos, name) => [
  `connection ${name}`, `address 127.0.0.1:${remotePort}`, `topic bench/# out ${qos}`, 'notifications false', 'cleansession true',
]

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (100 per second)
}

/** Publishes N messages to the edge and times their arrival on the remote; `edgePid`: whose CPU to count. */
async function round(edgePort, remotePort, qos, edgePid) {
  const sub = await connect({port: remotePort, protocolVersion: 4, clientId: `sub-${process.pid}`})
  let received = 0
  let last = 0
  let done
  const all = new Promise((r) => { done = r })
  sub.onMessage(() => { received++; last = performance.now(); if (received === N) done() })
  await sub.subscribe([{topic: 'bench/#', qos}])
  const pub = await connect({port: edgePort, protocolVersion: 4, maxInflight: 100})
  // wait until the bridge carries a probe, so that the round measures a connected bridge
  const probe = await connect({port: remotePort, protocolVersion: 4})
  let probed
  const probeSeen = new Promise((r) => { probed = r })
  probe.onMessage(() => probed())
  await probe.subscribe([{topic: 'bench/probe', qos: 0}])
  const probing = setInterval(() => pub.publishQoS0('bench/probe', Buffer.from('p')), 100)
  await probeSeen
  clearInterval(probing)
  await probe.disconnect()
  await new Promise((r) => setTimeout(r, 300))
  received = 0
  const cpu0 = cpuSeconds(edgePid)
  const t0 = performance.now()
  if (qos === 0) {
    for (let i = 0; i < N; i++) if (!pub.publishQoS0('bench/x', PAYLOAD)) await pub.drained()
  } else {
    const pending = []
    for (let i = 0; i < N; i++) {
      pending.push(pub.publish('bench/x', PAYLOAD, {qos: 1}))
      if (pending.length >= 1000) await Promise.all(pending.splice(0))
    }
    await Promise.all(pending)
  }
  // QoS 0 may lose messages: stop when nothing arrived for 2 s
  let seen = -1
  while (received < N) {
    const r = await Promise.race([all.then(() => 'all'), new Promise((res) => setTimeout(() => res('tick'), 2000))])
    if (r === 'all' || received === seen) break
    seen = received
  }
  const seconds = (last - t0) / 1000
  const cpu = cpuSeconds(edgePid) - cpu0
  await pub.disconnect()
  await sub.disconnect()
  return {rate: received / seconds, received, cpuPerM: cpu / received * 1e6}
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n) => Math.round(n).toLocaleString('en-US')

const load0 = loadavg()[0]
const results = []
for (const qos of [0, 1]) {
  const remote = await mosquitto(`remote-q${qos}`, [])
  const mEdge = await midgeEdge(bridgeConf(remote.port, qos, 'midge-edge'))
  const qEdge = await mosquitto(`mosq-edge-q${qos}`, bridgeConf(remote.port, qos, 'mosq-edge'))
  const rates = {midge: [], mosquitto: []}
  const cpu = {midge: [], mosquitto: []}
  const loss = {midge: 0, mosquitto: 0}
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, edge] of [['midge', mEdge], ['mosquitto', qEdge]]) {
      const x = await round(edge.port, remote.port, qos, edge.child.pid)
      rates[name].push(x.rate)
      cpu[name].push(x.cpuPerM)
      loss[name] += N - x.received
      process.stderr.write(`QoS ${qos} round ${r + 1} ${name}: ${fmt(x.rate)} msg/s (${x.received}/${N}), edge CPU ${x.cpuPerM.toFixed(1)} s/M msgs\n`)
    }
  }
  results.push({qos, midge: median(rates.midge), mosquitto: median(rates.mosquitto), spread: rates, loss,
    cpuMidge: median(cpu.midge), cpuMosquitto: median(cpu.mosquitto)})
  for (const c of [mEdge, qEdge, remote]) c.child.kill('SIGTERM')
}

const git = spawn('git', ['rev-parse', '--short', 'HEAD'], {cwd: ROOT})
let commit = ''
git.stdout.on('data', (d) => { commit += d })
await once(git, 'close')
const rows = results.map((r) => `| QoS ${r.qos} | ${fmt(r.midge)} msg/s | ${fmt(r.mosquitto)} msg/s | ${(r.midge / r.mosquitto).toFixed(2)}× | ${r.cpuMidge.toFixed(1)} / ${r.cpuMosquitto.toFixed(1)} | ${r.spread.midge.map(fmt).join(', ')} / ${r.spread.mosquitto.map(fmt).join(', ')} | ${r.loss.midge} / ${r.loss.mosquitto} |`)
const section = `## Bridges

Generated by \`node scripts/bench-bridge.mjs\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (midge ${commit.trim()}, mosquitto 2.0.11, Node ${process.version}, ${cpus().length} CPUs, load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end; ${ROUNDS} rounds of ${fmt(N)} messages, medians).
An edge broker bridges \`bench/# out QOS\` (MQTT 3.1.1, try_private) to a remote Mosquitto; one publisher (midge's client, 100-byte payloads, QoS 1 with up to 1,000 outstanding) sends to the edge, one subscriber on the remote counts. Rate: messages received ÷ time from the first publish to the last arrival. Edge CPU: the edge broker process's user + system time over the round, per million messages (less noisy than the rate on a shared machine; midge's includes Node's own threads). The same remote Mosquitto serves both edges, one after the other; each edge runs \`max_inflight_messages 100\`, \`max_queued_messages 0\`.

| QoS | midge edge | Mosquitto edge | midge ÷ Mosquitto | edge CPU s / M msgs (midge / Mosquitto) | rounds (midge / Mosquitto) | lost QoS 0 messages (midge / Mosquitto) |
|---|---:|---:|---:|---:|---|---:|
${rows.join('\n')}
`
process.stdout.write(section)
if (write) {
  const file = join(ROOT, 'docs/benchmarks.md')
  const text = readFileSync(file, 'utf8')
  const start = text.indexOf('## Bridges\n')
  let out
  if (start < 0) out = text.trimEnd() + '\n\n' + section
  else {
    const next = text.indexOf('\n## ', start + 1)
    out = text.slice(0, start) + section + (next < 0 ? '' : text.slice(next))
  }
  writeFileSync(file, out)
}
process.exit(0)
