// Direct links between nodes (--cluster-link): two real `broker start --cluster` processes on one
// redis-server, clients of the `mqtt` package (MQTT 5). The forwarded messages go over the link when it
// is up (its counters in /metrics say so), through Redis when it is not (off, unreachable, cut), and a
// link cut in the middle of a QoS 1 stream loses nothing acknowledged and keeps its order. Strangers on
// the link port are refused and change nothing.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {afterEach, beforeEach, describe, test} from 'node:test'
import type mqtt from 'mqtt'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {parsePrometheus, sample} from '../helpers/prometheus.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {freePort} from '../helpers/mosquitto.js'
import {mqttClient, qos1Stream} from '../helpers/cluster.js'
import {startStallingProxy} from '../helpers/stalling-proxy.js'
import {FrameReader, encodeHello, encodeProof, nonce} from '../../src/cluster/link-wire.js'

const N = 1500
/** The publisher's messages in flight at most. */
const WINDOW = 20

let redis: RedisServer
let brokers: MidgeBroker[] = []
let clients: mqtt.MqttClient[] = []

interface Node extends MidgeBroker {
  http: number
}

async function node(id: string, args: string[] = []): Promise<Node> {
  const http = await freePort()
  const b = await startMidgeBroker(['--cluster', redis.url, '--node-id', id, '--http-port', String(http), '--max-queued-messages', '0', ...args])
  brokers.push(b)
  return {...b, http}
}

async function metrics(n: Node): Promise<ReturnType<typeof parsePrometheus>> {
  return parsePrometheus(await (await fetch(`http://127.0.0.1:${n.http}/metrics`)).text())
}

/** Reads a node's /metrics until `ready` says yes (each read is one round trip; no fixed wait decides). */
async function metricsUntil(n: Node, ready: (m: ReturnType<typeof parsePrometheus>) => boolean): Promise<void> {
  while (!ready(await metrics(n))) await new Promise((resolve) => setTimeout(resolve, 50))
}

async function client(n: Node, clientId: string): Promise<mqtt.MqttClient> {
  const c = await mqttClient(n, {protocolVersion: 5, clientId})
  clients.push(c)
  return c
}

/**
 * A QoS 1 stream of N messages from a publisher on `a` to a subscriber on `b`; `during(acknowledged)`
 * is called after each PUBACK. Asserts that every message arrived once and in order.
 */
async function stream(a: Node, b: Node, during: (acknowledged: number) => void = () => undefined): Promise<void> {
  const sub = await client(b, 'sub')
  const pub = await client(a, 'pub')
  const received = await qos1Stream(pub, sub, {n: N, window: WINDOW, during})
  assert.deepEqual(received, Array.from({length: N}, (_, i) => i), 'every acknowledged message, once, in order')
}

const linkFrames = (m: ReturnType<typeof parsePrometheus>, via: string) => sample(m, 'midge_cluster_frames_sent_total', {via})

/** A TCP proxy to `target` whose connections cut() destroys. */
async function proxy(target: number): Promise<{port: number; cut(): Promise<void>; close(): Promise<void>}> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((inbound) => {
    const outbound = connect(target, '127.0.0.1')
    for (const [s, other] of [[inbound, outbound], [outbound, inbound]] as const) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => { sockets.delete(s); other.destroy() })
      s.pipe(other)
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as {port: number}).port,
    /** Destroys the link's connection once there is one. */
    async cut() {
      while (sockets.size === 0) await new Promise((resolve) => setTimeout(resolve, 20))
      for (const s of sockets) s.destroy()
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe('direct links between nodes', {timeout: 120_000}, () => {
  // a Redis of its own for each test
  beforeEach(async () => { redis = await startRedis() })
  afterEach(async () => {
    for (const c of clients) c.end(true)
    for (const b of brokers) await b.stop()
    clients = []
    brokers = []
    await redis?.stop()
  })

  test('a QoS 1 stream crosses the nodes over their link (by default), not Redis', async () => {
    const a = await node('a')
    const b = await node('b')
    await metricsUntil(a, (m) => sample(m, 'midge_cluster_links_up') === 1)
    const before = linkFrames(await metrics(a), 'redis')
    await stream(a, b)
    const m = await metrics(a)
    assert.ok(linkFrames(m, 'link') > 0, 'frames went over the link')
    assert.equal(linkFrames(m, 'redis'), before, 'none through Redis while the link was up')
  })

  test('a link cut in the middle of a QoS 1 stream loses nothing acknowledged and keeps the order', async () => {
    const port = await freePort()
    const p = await proxy(port)
    try {
      const a = await node('a')
      // a dials b through the proxy, which cuts the link twice in the stream
      const b = await node('b', ['--cluster-link', `127.0.0.1:${port}`, '--cluster-advertise', `127.0.0.1:${p.port}`])
      await metricsUntil(a, (m) => sample(m, 'midge_cluster_links_up') === 1)
      const cuts: Array<Promise<void>> = []
      await stream(a, b, (acknowledged) => {
        if (acknowledged === Math.floor(N / 3) || acknowledged === Math.floor((2 * N) / 3)) cuts.push(p.cut())
      })
      await Promise.all(cuts)
      assert.equal(cuts.length, 2)
      assert.ok(linkFrames(await metrics(a), 'link') > 0)
    } finally {
      await p.close()
    }
  })

  test('a link that stops carrying anything (no reset, no close) is given up for Redis: the stream completes', async () => {
    const port = await freePort()
    const p = await startStallingProxy(port)
    try {
      const a = await node('a')
      const b = await node('b', ['--cluster-link', `127.0.0.1:${port}`, '--cluster-advertise', `127.0.0.1:${p.port}`])
      await metricsUntil(a, (m) => sample(m, 'midge_cluster_links_up') === 1)
      // a third of the way in, the link's path forwards nothing more: only the 10 s without a confirmation tell
      await stream(a, b, (acknowledged) => { if (acknowledged === Math.floor(N / 3)) p.stall() })
      assert.ok(linkFrames(await metrics(a), 'redis') > 0, 'the rest went through Redis')
    } finally {
      await p.close()
    }
  })

  test('strangers on the link port (garbage, a wrong proof) are refused; the broker keeps working', async () => {
    const port = await freePort()
    const a = await node('a')
    const b = await node('b', ['--cluster-link', `127.0.0.1:${port}`])
    await metricsUntil(a, (m) => sample(m, 'midge_cluster_links_up') === 1)
    // garbage: a length far past what a handshake may be
    const garbage = connect(port, '127.0.0.1')
    garbage.on('error', () => undefined)
    garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
    await once(garbage, 'close')
    // a well-formed HELLO, then a proof made without the secret
    const liar = connect(port, '127.0.0.1')
    liar.on('error', () => undefined)
    liar.write(encodeHello({from: 'mallory', to: 'b', nonce: nonce()}))
    const reader = new FrameReader(512)
    liar.on('data', (chunk: Buffer) => reader.push(chunk, () => liar.write(encodeProof(Buffer.alloc(32)))))
    await once(liar, 'close')
    // one naming another node
    const lost = connect(port, '127.0.0.1')
    lost.on('error', () => undefined)
    lost.write(encodeHello({from: 'a', to: 'c', nonce: nonce()}))
    await once(lost, 'close')
    assert.equal(sample(await metrics(b), 'midge_cluster_links_refused_total'), 3)
    // a stranger in a loop: every connection refused and counted, but no line each
    for (let i = 0; i < 20; i++) {
      const again = connect(port, '127.0.0.1')
      again.on('error', () => undefined)
      again.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'))
      await once(again, 'close')
    }
    assert.equal(sample(await metrics(b), 'midge_cluster_links_refused_total'), 23)
    await stream(a, b)
    assert.equal(sample(await metrics(a), 'midge_cluster_links_up'), 1, 'the real link still up')
    const lines = (await b.stop()).stderr.split('\n').filter((l) => l.includes('cluster: refused a link connection'))
    assert.equal(lines.filter((l) => !l.includes('more (counted')).length, 10, 'ten lines for one address, then counted')
    assert.ok(lines.some((l) => l.includes('13 more (counted')), `the rest in one line: ${lines.join('\n')}`)
  })

  test('--cluster-link off: everything goes through Redis', async () => {
    const a = await node('a', ['--cluster-link', 'off'])
    const b = await node('b', ['--cluster-link', 'off'])
    await stream(a, b)
    const m = await metrics(a)
    assert.equal(sample(m, 'midge_cluster_links_up'), 0)
    assert.equal(linkFrames(m, 'link'), 0)
    assert.ok(linkFrames(m, 'redis') > 0)
  })

  test('a node whose advertised address cannot be reached gets its messages through Redis', async () => {
    const nowhere = await freePort()
    const a = await node('a')
    const b = await node('b', ['--cluster-advertise', `127.0.0.1:${nowhere}`])
    // b's link to a is up (a's address is right); a's to b cannot be
    await metricsUntil(b, (m) => sample(m, 'midge_cluster_links_up') === 1)
    await stream(a, b)
    const m = await metrics(a)
    assert.equal(sample(m, 'midge_cluster_links_up'), 0)
    assert.equal(linkFrames(m, 'link'), 0)
    assert.ok(linkFrames(m, 'redis') > 0)
  })
})
