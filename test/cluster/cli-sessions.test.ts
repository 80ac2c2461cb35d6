// Sessions shared by the nodes of `midge broker start --cluster`, as a user runs them: two real broker
// processes on one real redis-server, clients of the `mqtt` package. A persistent session moves to the
// node its client reconnects to (with what was queued while it was away), a takeover across nodes
// disconnects the old connection (v5: 0x8E), and a node killed with SIGKILL has its clients' wills
// published once and their sessions resumed on the surviving node.
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import type mqtt from 'mqtt'
import {runMidge} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {freePort} from '../helpers/mosquitto.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {connect, end, type Inbox} from './session-nodes.js'

let redis: RedisServer
let a: MidgeBroker
let b: MidgeBroker
const clients: mqtt.MqttClient[] = []

async function client(url: string, options: mqtt.IClientOptions): Promise<{client: mqtt.MqttClient; sessionPresent: boolean; inbox: Inbox}> {
  const c = await connect(url, options)
  c.client.on('error', () => undefined) // a node killed under it: its socket errors
  clients.push(c.client)
  return c
}

/** Publishes probes on `url` until `inbox` (subscribed to probe/#) got one: the node then routes the filters subscribed before probe/#. */
async function routed(url: string, inbox: Inbox): Promise<void> {
  const pub = await client(url, {clientId: `probe-${Math.random()}`})
  const before = inbox.messages.length
  while (inbox.messages.length === before) {
    await pub.client.publishAsync('probe/x', 'p', {qos: 1})
    await Promise.race([inbox.wait(before + 1), new Promise((resolve) => setTimeout(resolve, 100))])
  }
  await end(pub.client)
}

describe('broker start --cluster: sessions across nodes', {timeout: 60_000}, () => {
  before(async () => {
    redis = await startRedis()
    ;[a, b] = await Promise.all([
      startMidgeBroker(['--cluster', redis.url, '--node-id', 'sess-a']),
      startMidgeBroker(['--cluster', redis.url, '--node-id', 'sess-b']),
    ])
  })
  after(async () => {
    for (const c of clients) c.end(true)
    await a?.stop()
    await b?.stop()
    await redis?.stop()
  })

  it('moves a persistent session to the node its client reconnects to, with the messages queued meanwhile', async () => {
    const x = await client(a.url, {clientId: 'mover', clean: false, protocolVersion: 4})
    assert.equal(x.sessionPresent, false)
    await x.client.subscribeAsync('q/#', {qos: 1})
    await end(x.client)
    // a witness on A: once it has the messages, A has queued them for the absent session too
    const witness = await client(a.url, {clientId: 'witness'})
    await witness.client.subscribeAsync(['q/#', 'probe/#'], {qos: 1})
    await routed(b.url, witness.inbox)
    const pub = await client(b.url, {clientId: 'pub-b'})
    await pub.client.publishAsync('q/1', 'one', {qos: 1})
    await pub.client.publishAsync('q/2', 'two', {qos: 1})
    while (witness.inbox.messages.filter((m) => m.topic.startsWith('q/')).length < 2) await witness.inbox.wait(witness.inbox.messages.length + 1)
    const back = await client(b.url, {clientId: 'mover', clean: false, protocolVersion: 4})
    assert.equal(back.sessionPresent, true)
    await back.inbox.wait(2)
    assert.deepEqual(back.inbox.messages.map((m) => [m.topic, m.payload, m.qos]), [['q/1', 'one', 1], ['q/2', 'two', 1]])
    // the session now lives on B: a message published on A reaches it through B
    const pubA = await client(a.url, {clientId: 'pub-a'})
    await pubA.client.publishAsync('q/3', 'three', {qos: 1})
    await back.inbox.wait(3)
    assert.equal(back.inbox.messages[2]!.payload, 'three')
    await end(back.client)
  })

  it('takes a v5 client over across nodes: the old connection gets DISCONNECT 0x8E', async () => {
    const first = await client(a.url, {clientId: 'taken', clean: false, protocolVersion: 5, properties: {sessionExpiryInterval: 300}})
    await first.client.subscribeAsync('t/#', {qos: 1})
    const reason = new Promise<number | undefined>((resolve) => first.client.once('disconnect', (packet) => resolve(packet.reasonCode)))
    const second = await client(b.url, {clientId: 'taken', clean: false, protocolVersion: 5, properties: {sessionExpiryInterval: 300}})
    assert.equal(await reason, 0x8e)
    assert.equal(second.sessionPresent, true)
    // its subscription came along: a message published on A arrives on B
    const pubA = await client(a.url, {clientId: 'pub-a2'})
    await pubA.client.publishAsync('t/1', 'moved', {qos: 1})
    await second.inbox.wait(1)
    assert.equal(second.inbox.messages[0]!.payload, 'moved')
    await end(second.client)
  })

  it('publishes the will of a client of a node killed with SIGKILL once, on the other node, which resumes its session', async () => {
    const watcher = await client(b.url, {clientId: 'watcher'})
    await watcher.client.subscribeAsync('will/#', {qos: 1})
    const w = await client(a.url, {clientId: 'willed', clean: false, protocolVersion: 4, will: {topic: 'will/willed', payload: Buffer.from('gone'), qos: 1, retain: false}})
    await w.client.subscribeAsync('w/#', {qos: 1})
    // an offline session on A with a message queued there (its PUBACK: stored in Redis)
    const z = await client(a.url, {clientId: 'offline-z', clean: false, protocolVersion: 4})
    await z.client.subscribeAsync('z/#', {qos: 1})
    await end(z.client)
    const pubA = await client(a.url, {clientId: 'pub-a3'})
    await pubA.client.publishAsync('z/1', 'queued on A', {qos: 1})
    const killed = await a.stop('SIGKILL')
    assert.equal(killed.signal, 'SIGKILL')
    await watcher.inbox.wait(1)
    assert.deepEqual(watcher.inbox.messages[0], {topic: 'will/willed', payload: 'gone', qos: 1})
    // a marker after it: once it is here, a second will would have been too
    const pub = await client(b.url, {clientId: 'pub-b3'})
    await pub.client.publishAsync('will/marker', 'm', {qos: 1})
    await watcher.inbox.wait(2)
    assert.deepEqual(watcher.inbox.messages.map((m) => m.topic), ['will/willed', 'will/marker'])
    // B holds the session now (its subscription too): what is published while the client is away waits for it
    await pub.client.publishAsync('w/1', 'kept', {qos: 1})
    const back = await client(b.url, {clientId: 'willed', clean: false, protocolVersion: 4})
    assert.equal(back.sessionPresent, true)
    await back.inbox.wait(1)
    assert.deepEqual(back.inbox.messages[0], {topic: 'w/1', payload: 'kept', qos: 1})
    // the offline session A held resumes on B with the message A had queued
    const z2 = await client(b.url, {clientId: 'offline-z', clean: false, protocolVersion: 4})
    assert.equal(z2.sessionPresent, true)
    await z2.inbox.wait(1)
    assert.deepEqual(z2.inbox.messages[0], {topic: 'z/1', payload: 'queued on A', qos: 1})
  })

  it('exits 17 with one line when Redis does not answer at start, and ignores --persistence with a log line', async () => {
    const closed = await freePort() // nothing listens there
    const refused = await runMidge(['broker', 'start', '--port', '0', '--cluster', `redis://127.0.0.1:${closed}`])
    assert.equal(refused.code, 17)
    assert.match(refused.stderr.trim(), new RegExp(`^midge broker start: --cluster: cannot connect to Redis at redis://127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`))
    const dir = mkdtempSync(join(tmpdir(), 'midge-cluster-persistence-'))
    try {
      const node = await startMidgeBroker(['--cluster', redis.url, '--node-id', 'sess-p', '--persistence', dir])
      const result = await node.stop()
      assert.match(result.stdout + result.stderr, /--persistence .* is ignored with --cluster: sessions are stored in Redis/)
      assert.deepEqual(readdirSync(dir), [])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
