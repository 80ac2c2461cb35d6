// `midge broker start --cluster` and `--workers` as a user runs them: real processes, a real
// redis-server, Mosquitto's own clients and the `mqtt` package.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Redis} from 'ioredis'
import {after, before, describe, it} from 'node:test'
import type mqtt from 'mqtt'
import {collect, runMidge} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {parsePrometheus, sample} from '../helpers/prometheus.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {freePort} from '../helpers/mosquitto.js'
import {mqttClient, receive} from '../helpers/cluster.js'

let redis: RedisServer
const brokers: MidgeBroker[] = []
const clients: mqtt.MqttClient[] = []

async function broker(args: string[]): Promise<MidgeBroker> {
  const b = await startMidgeBroker(args)
  brokers.push(b)
  return b
}

/** Runs a Mosquitto client to completion. */
function mosquitto(command: string, args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return collect(spawn(command, args, {stdio: 'pipe'}), 30_000)
}

/** Reads a node's /metrics until `ready` says yes (each read is one round trip; no fixed wait decides). */
async function metricsUntil(httpPort: number, ready: (m: ReturnType<typeof parsePrometheus>) => boolean): Promise<void> {
  for (;;) {
    const m = parsePrometheus(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text())
    if (ready(m)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('broker start --cluster and --workers', {timeout: 60_000}, () => {
  before(async () => { redis = await startRedis() })
  after(async () => {
    for (const c of clients) c.end(true)
    for (const b of brokers) await b.stop()
    await redis?.stop()
  })

  it('refuses a bad Redis URL, --node-id, --workers, --cluster-ack-window or --cluster-link/-advertise without --cluster, with exit 17 and one line', async () => {
    const bad = await runMidge(['broker', 'start', '--port', '0', '--cluster', 'http://localhost:6379'])
    assert.equal(bad.code, 17)
    assert.match(bad.stderr.trim(), /^midge broker start: --cluster: not a Redis URL: "http:\/\/localhost:6379" \(expected redis:\/\/HOST:PORT\[\/DB\]\)$/)
    const workers = await runMidge(['broker', 'start', '--port', '0', '--workers', '2'])
    assert.equal(workers.code, 17)
    assert.equal(workers.stderr.trim().split('\n').length, 1)
    assert.match(workers.stderr, /--workers needs a cluster.*--cluster redis:\/\/HOST:PORT.*redis-server --port 6379/)
    const nodeId = await runMidge(['broker', 'start', '--port', '0', '--node-id', 'a'])
    assert.equal(nodeId.code, 17)
    assert.match(nodeId.stderr, /--node-id names a node of a cluster/)
    const window = await runMidge(['broker', 'start', '--port', '0', '--cluster-ack-window', '0'])
    assert.equal(window.code, 17)
    assert.equal(window.stderr.trim().split('\n').length, 1)
    assert.match(window.stderr, /--cluster-ack-window is for a node of a cluster: give --cluster/)
    for (const [flag, value] of [['--cluster-link', '7000'], ['--cluster-advertise', '10.0.0.5']]) {
      const r = await runMidge(['broker', 'start', '--port', '0', flag!, value!])
      assert.equal(r.code, 17)
      assert.equal(r.stderr.trim().split('\n').length, 1)
      assert.match(r.stderr, new RegExp(`${flag} is for a node of a cluster: give --cluster`))
    }
  })

  it('refuses a bad --cluster-link or --cluster-advertise with exit 17 and one line', async () => {
    for (const [args, message] of [[['--cluster-link', 'nowhere'], /--cluster-link: "nowhere" is not \[HOST:\]PORT or off/],
      [['--cluster-link', '127.0.0.1:99999'], /--cluster-link: .*is not a port/], [['--cluster-advertise', ':1'], /--cluster-advertise: /],
      [['--cluster-link', 'off', '--cluster-advertise', 'h'], /not with --cluster-link off/]] as const) {
      const r = await runMidge(['broker', 'start', '--port', '0', '--cluster', 'redis://127.0.0.1:1', ...args])
      assert.equal(r.code, 17, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, message)
    }
  })

  it('routes and shares retained messages between two processes, for mosquitto_pub and mosquitto_sub', async () => {
    const httpA = await freePort()
    const a = await broker(['--cluster', redis.url, '--node-id', 'proc-a', '--http-port', String(httpA)])
    // B through the environment
    const b2 = await startMidgeBroker([], {MIDGE_CLUSTER: redis.url, MIDGE_NODE_ID: 'proc-b'})
    brokers.push(b2)
    const sub = spawn('mosquitto_sub', ['-p', String(b2.port), '-t', 'plant/#', '-v', '-C', '2', '-W', '30', '-q', '1'], {stdio: 'pipe'})
    const subDone = collect(sub, 40_000)
    // node A has learnt B's filter once its route cache holds one filter of another node
    await metricsUntil(httpA, (m) => sample(m, 'midge_cluster_routes') >= 1 && sample(m, 'midge_cluster_nodes') === 2)
    const p1 = await mosquitto('mosquitto_pub', ['-p', String(a.port), '-t', 'plant/1', '-m', 'live', '-q', '1'])
    assert.equal(p1.code, 0, p1.stderr)
    const p2 = await mosquitto('mosquitto_pub', ['-p', String(a.port), '-t', 'plant/2', '-m', 'kept', '-r', '-q', '1'])
    assert.equal(p2.code, 0, p2.stderr)
    const got = await subDone
    assert.equal(got.code, 0, got.stderr)
    assert.equal(got.stdout, 'plant/1 live\nplant/2 kept\n')
    // the retained message, on the other node, to a new subscriber
    const retained = await mosquitto('mosquitto_sub', ['-p', String(b2.port), '-t', 'plant/2', '-v', '-C', '1', '-W', '30'])
    assert.equal(retained.stdout, 'plant/2 kept\n')
    const m = parsePrometheus(await (await fetch(`http://127.0.0.1:${httpA}/metrics`)).text())
    assert.equal(sample(m, 'midge_node_info', {node: 'proc-a'}), 1)
    const health = await (await fetch(`http://127.0.0.1:${httpA}/healthz`)).json() as {status: string; cluster: {node: string; nodes: number}}
    assert.deepEqual([health.status, health.cluster.node, health.cluster.nodes], ['ok', 'proc-a', 2])
  })

  it('--workers 2: two clients on one port, served by two processes, talk to each other', async () => {
    const w = await broker(['--workers', '2', '--cluster', redis.url, '--node-id', 'multi'])
    // which worker takes a connection is the kernel's choice: connect until two node ids answered,
    // bounded by the suite's timeout
    const byNode = new Map<string, mqtt.MqttClient>()
    while (byNode.size < 2) {
      const c = await mqttClient({url: w.url})
      clients.push(c)
      const id = receive(c, 1)
      await c.subscribeAsync('$SYS/broker/node/id')
      const [m] = await id
      byNode.set(m!.payload, c)
    }
    assert.deepEqual([...byNode.keys()].sort(), ['multi-w0', 'multi-w1'])
    const [x, y] = [...byNode.values()] as [mqtt.MqttClient, mqtt.MqttClient]
    await x.subscribeAsync('chat/x', {qos: 1})
    await y.subscribeAsync('chat/y', {qos: 1})
    // until the other worker has learnt the route, a message finds nobody: send until one arrives
    for (const [from, to, topic] of [[y, x, 'chat/x'], [x, y, 'chat/y']] as const) {
      const got = receive(to, 1)
      let arrived = false
      void got.then(() => { arrived = true })
      while (!arrived) {
        await from.publishAsync(topic, 'hello', {qos: 1})
        await Promise.race([got, new Promise((resolve) => setTimeout(resolve, 100))])
      }
      assert.equal((await got)[0]!.payload, 'hello')
    }
  })

  it('--workers 2: the primary announces the listeners once, after both workers joined and listen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'midge-workers-ready-'))
    try {
      const readyFile = join(dir, 'ready.json')
      const w = await broker(['--workers', '2', '--cluster', redis.url, '--node-id', 'once', '--ready-file', readyFile])
      // at the announcement both workers are nodes of the cluster (each joins before it listens)
      const r = new Redis(redis.url)
      try {
        assert.deepEqual(await Promise.all(['once-w0', 'once-w1'].map((n) => r.exists(`midge:node:${n}`))), [1, 1])
      } finally {
        r.disconnect()
      }
      const ready = readFileSync(readyFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {port: number; protocol: string})
      assert.deepEqual(ready.map((l) => [l.protocol, l.port]), [['mqtt', w.port]])
      // both workers serve the port: a client reaches each of them
      const seen = new Set<string>()
      while (seen.size < 2) {
        const c = await mqttClient({url: w.url})
        clients.push(c)
        const id = receive(c, 1)
        await c.subscribeAsync('$SYS/broker/node/id')
        seen.add((await id)[0]!.payload)
      }
      const {stdout, code} = await w.stop()
      assert.equal(code, 0)
      const lines = stdout.split('\n').filter((l) => l.includes('"listening"'))
      assert.equal(lines.length, 1, stdout)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
