// A node dies (SIGKILL): the survivors adopt its sessions, each exactly once, publish the wills of the
// connections it lost once, and keep the persistent sessions (and their queued messages) for their
// clients to resume anywhere. And an offline session expires once, on whichever node holds it.
import assert from 'node:assert/strict'
import {afterEach, beforeEach, test} from 'node:test'
import {Redis} from 'ioredis'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {connect, end, Liveness, PREFIX, startChildNode, startNode, type Inbox, type Node} from './session-nodes.js'

let redis: RedisServer
let nodes: Node[] = []
const liveness = new Liveness()

beforeEach(async () => {
  redis = await startRedis()
  nodes = []
})

afterEach(async () => {
  for (const n of nodes) await n.stop()
  await redis.stop()
})

/** Publishes a marker on the node and waits for the watcher there to get it: whatever reached the watcher before is all there is. */
async function settle(node: Node, watcher: Inbox): Promise<void> {
  const pub = (await connect(node.url, {clientId: `marker-${node.id}`, protocolVersion: 5})).client
  const before = watcher.messages.length
  await pub.publishAsync('wills/marker', node.id, {qos: 1})
  await watcher.wait(before + 1)
  await end(pub)
}

test('a killed node: its sessions are adopted once, the wills of its live connections published once, sessions resumed', async () => {
  const a = await startChildNode(redis.url, 'node-a', liveness)
  const b = await startNode(redis.url, 'node-b', liveness)
  const c = await startNode(redis.url, 'node-c', liveness)
  nodes.push(b, c)
  const watchers = [] as Array<{client: Awaited<ReturnType<typeof connect>>['client']; inbox: Inbox}>
  for (const n of [b, c]) {
    const w = await connect(n.url, {clientId: `watch-${n.id}`, protocolVersion: 5})
    await w.client.subscribeAsync('wills/#', {qos: 1})
    watchers.push(w)
  }

  const will = (topic: string) => ({topic, payload: Buffer.from(`${topic} is gone`), qos: 1 as const, retain: false})
  const clean = await connect(a.url, {clientId: 'lost-clean', protocolVersion: 5, clean: true, will: will('wills/clean')})
  const kept = await connect(a.url, {clientId: 'lost-kept', protocolVersion: 5, clean: false,
    properties: {sessionExpiryInterval: 3600}, will: will('wills/kept')})
  await kept.client.subscribeAsync('kept/t', {qos: 1})
  const offline = await connect(a.url, {clientId: 'offline', protocolVersion: 4, clean: false})
  await offline.client.subscribeAsync('offline/t', {qos: 1})
  await end(offline.client)
  const pubA = (await connect(a.url, {clientId: 'pub-a', protocolVersion: 5})).client
  await pubA.publishAsync('offline/t', 'queued before the crash', {qos: 1}) // PUBACK: stored in Redis

  for (const client of [clean.client, kept.client, pubA]) client.on('error', () => undefined)
  await a.kill()

  // both survivors react to node-down at once: each session goes to one of them
  const counts = await Promise.all([b.directory.adoptDeadNode('node-a'), c.directory.adoptDeadNode('node-a')])
  assert.equal(counts[0] + counts[1], 4, `adopted ${counts.join(' + ')}: lost-clean, lost-kept, offline, pub-a, each once`)
  assert.equal(await b.directory.adoptDeadNode('node-a'), 0, 'nothing is left to adopt')

  for (const [i, n] of [b, c].entries()) await settle(n, watchers[i]!.inbox)
  const wills = watchers.flatMap((w) => w.inbox.messages).filter((m) => m.topic !== 'wills/marker')
  assert.deepEqual(wills.map((m) => m.topic).sort(), ['wills/clean', 'wills/kept'], 'each will published exactly once')

  // the persistent sessions are resumed on either node, with their subscriptions and queued messages
  const keptAgain = await connect(b.url, {clientId: 'lost-kept', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}})
  assert.equal(keptAgain.sessionPresent, true)
  const offlineAgain = await connect(c.url, {clientId: 'offline', protocolVersion: 4, clean: false})
  assert.equal(offlineAgain.sessionPresent, true)
  await offlineAgain.inbox.wait(1)
  assert.deepEqual(offlineAgain.inbox.messages, [{topic: 'offline/t', payload: 'queued before the crash', qos: 1}])
  const pubB = (await connect(b.url, {clientId: 'pub-b', protocolVersion: 5})).client
  await pubB.publishAsync('kept/t', 'after the crash', {qos: 1})
  await keptAgain.inbox.wait(1)
  assert.deepEqual(keptAgain.inbox.messages, [{topic: 'kept/t', payload: 'after the crash', qos: 1}])
  // the clean session's client starts afresh
  const cleanAgain = await connect(c.url, {clientId: 'lost-clean', protocolVersion: 5, clean: false})
  assert.equal(cleanAgain.sessionPresent, false)
  for (const client of [keptAgain.client, offlineAgain.client, pubB, cleanAgain.client, ...watchers.map((w) => w.client)]) await end(client)
  for (const client of [clean.client, kept.client, pubA]) client.end(true)
})

test('an offline session expires once, on the node that holds it, after moving there', async () => {
  const a = await startNode(redis.url, 'node-a', liveness)
  const b = await startNode(redis.url, 'node-b', liveness)
  nodes.push(a, b)
  const watchers: Inbox[] = []
  const clients = []
  for (const n of [a, b]) {
    const w = await connect(n.url, {clientId: `watch-${n.id}`, protocolVersion: 5})
    await w.client.subscribeAsync('wills/#', {qos: 1})
    watchers.push(w.inbox)
    clients.push(w.client)
  }
  // a will delayed past the session's end is published when the session expires [MQTT-3.1.3-9]
  const options = {clientId: 'expiring', protocolVersion: 5 as const, clean: false, properties: {sessionExpiryInterval: 2},
    will: {topic: 'wills/expired', payload: Buffer.from('expired'), qos: 1 as const, retain: false, properties: {willDelayInterval: 3600}}}
  const first = await connect(a.url, options)
  await first.client.subscribeAsync('e/t', {qos: 1})
  first.client.end(true) // no DISCONNECT: the will stays pending
  const moved = await connect(b.url, {...options, will: {...options.will, payload: Buffer.from('expired on b')}})
  assert.equal(moved.sessionPresent, true)
  moved.client.end(true)

  await watchers[1]!.wait(1) // the session ends on B, the node holding it, with its will
  assert.deepEqual(watchers[1]!.messages.map((m) => m.payload), ['expired on b'])
  await settle(a, watchers[0]!)
  await settle(b, watchers[1]!)
  assert.deepEqual(watchers[0]!.messages.map((m) => m.topic), ['wills/marker'], 'node A published nothing')
  assert.deepEqual(watchers[1]!.messages.map((m) => m.payload), ['expired on b', 'node-b'], 'published once')

  await b.store.flush()
  const inspect = new Redis(redis.url)
  try {
    assert.equal(await inspect.hexists(`${PREFIX}:sessions`, 'expiring'), 0, 'the session is gone from Redis')
    assert.equal(await inspect.exists(`${PREFIX}:owner:expiring`), 0, 'and nobody owns it')
  } finally {
    inspect.disconnect()
  }
  const after = await connect(a.url, {...options, will: undefined})
  assert.equal(after.sessionPresent, false)
  for (const client of [after.client, ...clients]) await end(client)
})
