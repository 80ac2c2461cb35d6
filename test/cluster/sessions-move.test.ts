// A persistent session moves between nodes sharing one Redis: subscribed on node A, messages queued
// there while the client is away, resumed on node B with its subscriptions, queue and in-flight state.
import assert from 'node:assert/strict'
import {afterEach, beforeEach, describe, test} from 'node:test'
import mqtt from 'mqtt'
import {Redis} from 'ioredis'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {Wire} from '../helpers/wire.js'
import {connect, end, Liveness, PREFIX, startNode, type Node} from './session-nodes.js'
import {engineOf} from '../../src/broker/internal.js'

let redis: RedisServer
let nodes: Node[] = []
const liveness = new Liveness()

beforeEach(async () => {
  redis = await startRedis()
  nodes = [await startNode(redis.url, 'node-a', liveness), await startNode(redis.url, 'node-b', liveness)]
})

afterEach(async () => {
  for (const n of nodes) await n.stop()
  await redis.stop()
})

const persistent = {
  5: {protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}},
  4: {protocolVersion: 4, clean: false},
} as const

describe('a persistent session moves from node A to node B', () => {
  for (const v of [5, 4] as const) {
    test(`MQTT ${v === 5 ? '5 (session expiry)' : '3.1.1 (clean session 0)'}: subscriptions and queued QoS 1/2 messages follow the client`, async () => {
      const [a, b] = nodes as [Node, Node]
      const first = await connect(a.url, {clientId: 'mover', ...persistent[v]})
      assert.equal(first.sessionPresent, false)
      await first.client.subscribeAsync({'m/one': {qos: 1}, 'm/two': {qos: 2}})
      await end(first.client)

      // published on A, where the offline session is held: queued there, written to Redis
      const pubA = (await connect(a.url, {clientId: 'pub-a', protocolVersion: 5})).client
      await pubA.publishAsync('m/one', 'queued qos 1', {qos: 1})
      await pubA.publishAsync('m/two', 'queued qos 2', {qos: 2})

      const again = await connect(b.url, {clientId: 'mover', ...persistent[v]})
      assert.equal(again.sessionPresent, true, 'the session was found on the other node')
      await again.inbox.wait(2)
      assert.deepEqual(again.inbox.messages, [
        {topic: 'm/one', payload: 'queued qos 1', qos: 1},
        {topic: 'm/two', payload: 'queued qos 2', qos: 2},
      ])
      assert.equal(engineOf(a.broker).sessions.has('mover'), false, 'node A gave the session up')
      assert.equal(engineOf(b.broker).sessions.has('mover'), true)

      // the subscriptions came along: a message published on B now reaches the client
      const pubB = (await connect(b.url, {clientId: 'pub-b', protocolVersion: 5})).client
      await pubB.publishAsync('m/two', 'after the move', {qos: 2})
      await again.inbox.wait(3)
      assert.deepEqual(again.inbox.messages[2], {topic: 'm/two', payload: 'after the move', qos: 2})
      for (const c of [pubA, pubB, again.client]) await end(c)
    })
  }

  test('a QoS 1 message in flight on A is resent with DUP on B, and one acknowledged on A is not', async () => {
    const [a, b] = nodes as [Node, Node]
    const wire = new Wire(a.broker, 5)
    await wire.connect({clientId: 'inflight', clean: false, properties: {sessionExpiryInterval: 3600}})
    await wire.subscribe('f/t', 1)
    const pub = (await connect(a.url, {clientId: 'pub', protocolVersion: 5})).client
    await pub.publishAsync('f/t', 'acknowledged', {qos: 1})
    const acked = await wire.expect('publish', 20_000)
    await wire.ack(acked)
    await wire.quiet() // the PUBACK was handled
    await pub.publishAsync('f/t', 'in flight', {qos: 1})
    const sent = await wire.expect('publish', 20_000)
    assert.equal(sent.dup, false)
    wire.stream.destroy() // the client goes away without acknowledging it

    const back = new Wire(b.broker, 5)
    const connack = await back.connect({clientId: 'inflight', clean: false, properties: {sessionExpiryInterval: 3600}})
    assert.equal(connack.sessionPresent, true)
    const resent = await back.expect('publish', 20_000)
    assert.equal(resent.payload.toString(), 'in flight')
    assert.equal(resent.dup, true, '[MQTT-4.4.0-1] resent with DUP')
    assert.equal(resent.messageId, sent.messageId)
    await back.ack(resent)
    await back.quiet() // nothing else: the acknowledged message did not come back
    back.end()
    await end(pub)
  })
})

test('a node restarted with the same node id holds again the sessions it held, with their queues', async () => {
  const [a] = nodes as [Node, Node]
  const first = await connect(a.url, {clientId: 'stays', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}})
  await first.client.subscribeAsync('r/t', {qos: 1})
  await end(first.client)
  const pub = (await connect(a.url, {clientId: 'pub', protocolVersion: 5})).client
  await pub.publishAsync('r/t', 'before the restart', {qos: 1})
  await end(pub)
  await a.stop()

  const restarted = await startNode(redis.url, 'node-a', liveness)
  nodes[0] = restarted
  assert.equal(engineOf(restarted.broker).sessions.has('stays'), true, 'loaded at start: the node holds it')
  const pub2 = (await connect(restarted.url, {clientId: 'pub', protocolVersion: 5})).client
  await pub2.publishAsync('r/t', 'after the restart', {qos: 1}) // its subscription is back in the router
  const again = await connect(restarted.url, {clientId: 'stays', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}})
  assert.equal(again.sessionPresent, true)
  await again.inbox.wait(2)
  assert.deepEqual(again.inbox.messages.map((m) => m.payload), ['before the restart', 'after the restart'])
  await end(again.client)
  await end(pub2)
})

describe('takeover across nodes', () => {
  for (const v of [5, 4] as const) {
    test(`MQTT ${v === 5 ? '5: the connection on A is told 0x8E (Session taken over)' : '3.1.1: the connection on A is closed'}`, async () => {
      const [a, b] = nodes as [Node, Node]
      const old = await connect(a.url, {clientId: 'twice', protocolVersion: v, clean: true})
      const disconnected = new Promise<number | undefined>((resolve) => {
        old.client.on('disconnect', (packet) => resolve(packet.reasonCode))
        old.client.on('close', () => resolve(undefined))
      })
      const neu = await connect(b.url, {clientId: 'twice', protocolVersion: v, clean: true})
      const reason = await disconnected
      if (v === 5) assert.equal(reason, 0x8e)
      else assert.equal(reason, undefined)
      assert.equal(neu.client.connected, true)
      assert.equal(a.broker.connectionCount, 0)
      assert.equal(b.broker.connectionCount, 1)
      old.client.end(true)
      await end(neu.client)
    })
  }

  test('the same client id connecting on both nodes at the same moment: exactly one connection survives', async () => {
    const [a, b] = nodes as [Node, Node]
    for (let round = 0; round < 5; round++) {
      const clients = [a, b].map((n) => mqtt.connect(n.url, {clientId: 'racer', protocolVersion: 5, clean: false,
        properties: {sessionExpiryInterval: 3600}, reconnectPeriod: 0, connectTimeout: 20_000}))
      // each gets its CONNACK, and then one of them is taken over (or was, before its CONNACK)
      const outcomes = clients.map((c) => new Promise<'connected' | 'closed'>((resolve) => {
        c.once('close', () => resolve('closed'))
        c.once('connect', () => resolve('connected'))
      }))
      await Promise.all(outcomes)
      const closes = clients.map((c) => new Promise<void>((resolve) => { if (c.disconnected || !c.connected) resolve(); else c.once('close', () => resolve()) }))
      // wait until one is closed: the other stays
      await Promise.race(closes)
      const alive = clients.filter((c) => c.connected)
      assert.equal(alive.length, 1, `round ${round}: exactly one connection survives`)
      // the survivor is the holder: its node has the session connected, the other node has no session
      const holder = [a, b].filter((n) => engineOf(n.broker).isConnected('racer'))
      assert.equal(holder.length, 1)
      assert.equal([a, b].filter((n) => engineOf(n.broker).sessions.has('racer')).length, 1, 'one node holds the session')
      for (const c of clients) c.end(true)
      await Promise.all(closes)
    }
  })
})

describe('a CONNECT that finds no owner', () => {
  test('a session stored in Redis without an owner key is still loaded (the claim checks the store, not only the owner)', async () => {
    const [a, b] = nodes as [Node, Node]
    const first = await connect(a.url, {clientId: 'unowned', ...persistent[5]})
    await first.client.subscribeAsync({'u/t': {qos: 1}})
    await end(first.client)
    const pub = (await connect(a.url, {clientId: 'pub-u', protocolVersion: 5})).client
    await pub.publishAsync('u/t', 'kept', {qos: 1})
    await end(pub)
    await a.stop() // commits what A holds; its owner key names A
    const redisClient = new Redis(redis.url)
    try {
      assert.equal(await redisClient.del(`${PREFIX}:owner:unowned`), 1, 'the owner key was there')
      assert.equal(await redisClient.hexists(`${PREFIX}:sessions`, 'unowned'), 1, 'the session row is')
    } finally {
      redisClient.disconnect()
    }
    const again = await connect(b.url, {clientId: 'unowned', ...persistent[5]})
    assert.equal(again.sessionPresent, true)
    await again.inbox.wait(1)
    assert.deepEqual(again.inbox.messages, [{topic: 'u/t', payload: 'kept', qos: 1}])
    // and a client nobody knew gets a new session (the claim saves the load: nothing to find)
    const fresh = await connect(b.url, {clientId: 'never-seen', ...persistent[5]})
    assert.equal(fresh.sessionPresent, false)
    for (const c of [again.client, fresh.client]) await end(c)
  })
})
