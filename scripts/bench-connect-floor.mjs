// The connect-rate floor of Node on this machine: a bare node:net server that answers every CONNECT
// with a CONNACK and does nothing else, in one process and in two processes sharing the port
// (node:cluster, the workers accepting themselves: SCHED_NONE, as `--workers` does), against Mosquitto,
// interleaved, under mqbench conns. Broker CPU per connection is the summed utime+stime of the server's
// processes (from /proc/PID/stat) over the run, divided by the connections.
// Usage: node scripts/bench-connect-floor.mjs [--rounds 3] [--conns 10000] [--mqbench PATH]
//   (as a server: node scripts/bench-connect-floor.mjs --serve PORT --procs N)
import cluster from 'node:cluster'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {cpuTicks, processTree, waitConnectable} from './proc-stats.mjs'

const args = process.argv.slice(2)
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt }
const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00])

if (opt('--serve') !== undefined) serve(Number(opt('--serve')), Number(opt('--procs', '1')))
else await main()

function serve(port, procs) {
  if (procs > 1 && cluster.isPrimary) {
    cluster.schedulingPolicy = cluster.SCHED_NONE
    for (let i = 0; i < procs; i++) cluster.fork()
    return
  }
  createServer((socket) => {
    socket.setNoDelay(true)
    socket.on('error', () => undefined)
    // a CONNECT starts with 0x10: answered at once; whatever else arrives (DISCONNECT, PINGREQ) is ignored
    socket.on('data', (chunk) => { if (chunk[0] === 0x10) socket.write(CONNACK) })
  }).listen(port, '127.0.0.1')
}

async function main() {
  const ROUNDS = Number(opt('--rounds', '3'))
  const CONNS = Number(opt('--conns', '10000'))
  const dflt = new URL('../../shared/perf/mqbench', import.meta.url).pathname
  const MQBENCH = opt('--mqbench', existsSync(dflt) ? dflt : '/tmp/mqbench')
  const self = new URL(import.meta.url).pathname
  const setups = [
    ['bare Node, 1 process', (port) => spawn(process.execPath, [self, '--serve', String(port), '--procs', '1'], {stdio: 'inherit'})],
    ['bare Node, 2 processes (SCHED_NONE)', (port) => spawn(process.execPath, [self, '--serve', String(port), '--procs', '2'], {stdio: 'inherit'})],
    ['mosquitto', (port, dir) => {
      writeFileSync(join(dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_connections -1\nlog_dest stderr\nlog_type error\n`)
      return spawn('mosquitto', ['-c', join(dir, 'm.conf')], {stdio: ['ignore', 'ignore', 'inherit']})
    }],
  ]
  const runs = Object.fromEntries(setups.map(([l]) => [l, []]))
  const loads = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, start] of setups.map((_, i) => setups[(i + round) % setups.length])) {
      const dir = mkdtempSync(join(tmpdir(), 'connect-floor-'))
      const port = await freePort()
      const child = start(port, dir)
      try {
        await waitConnectable(port)
        await new Promise((r) => setTimeout(r, 300)) // every worker listens
        loads.push(loadavg()[0])
        const pids = processTree(child.pid)
        const cpu0 = pids.reduce((a, p) => a + cpuTicks(p), 0)
        const mq = spawn('bash', ['-c', 'ulimit -n 20000 2>/dev/null; exec "$0" "$@"', MQBENCH, '--mode', 'conns', '--conns', String(CONNS), '--conc', '50', '--keepalive', '60', '--hold', '1', '--port', String(port), '--pid', '-1'], {stdio: ['ignore', 'pipe', 'inherit']})
        let out = ''
        mq.stdout.on('data', (d) => { out += d })
        await once(mq, 'exit')
        const cpu = (pids.reduce((a, p) => a + cpuTicks(p), 0) - cpu0) * 10_000 // µs (100 ticks per s)
        const r = JSON.parse(out.split('\n').find((l) => l.startsWith('{')))
        const run = {connPerS: r.conn_per_s, usPerConn: cpu / r.connected, failed: r.failed}
        runs[label].push(run)
        process.stderr.write(`[${round + 1}] ${label}: ${Math.round(run.connPerS)} conn/s, ${run.usPerConn.toFixed(1)} µs CPU/conn, failed ${run.failed}\n`)
      } finally {
        for (const p of processTree(child.pid).reverse()) { try { process.kill(p, 'SIGKILL') } catch {} }
        await once(child, 'exit').catch(() => undefined)
        rmSync(dir, {recursive: true, force: true})
      }
    }
  }
  const mosq = median(runs.mosquitto.map((r) => r.connPerS))
  console.log(`mqbench conns ${CONNS} --conc 50, ${ROUNDS} rounds interleaved, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`)
  console.log('| server | conn/s (rounds) | vs Mosquitto | CPU µs per connection (rounds) |\n|---|---:|---:|---:|')
  for (const [label] of setups) {
    const rs = runs[label]
    const rate = median(rs.map((r) => r.connPerS))
    console.log(`| ${label} | ${Math.round(rate)} (${rs.map((r) => Math.round(r.connPerS)).join(', ')}) | ${(rate / mosq).toFixed(2)}x | ${median(rs.map((r) => r.usPerConn)).toFixed(1)} (${rs.map((r) => r.usPerConn.toFixed(1)).join(', ')}) |`)
  }
}

function freePort() { return new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) }) }
function median(xs) { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2 }
