// A cluster node whose sessions live in Redis, across a Redis restart (#19): while Redis is away a QoS 1
// PUBLISH that needs a commit is not acknowledged, clean connections are still served and persistent
// ones refused, and nothing piles up in the store's write buffer; once Redis is back the node writes
// the sessions it holds to it again (one log line), QoS 1 publishes are acknowledged again, and a
// persistent subscriber resumes its session, on the same node and on another one, with every message
// that was acknowledged. Once with a Redis that comes back empty (no AOF: only the node's rewrite
// brings the session back) and once with one that keeps its data (appendfsync always: the rows written
// before the outage are replaced, not duplicated).
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {after, describe, it} from 'node:test'
import type mqtt from 'mqtt'
import {engineOf} from '../../src/broker/internal.js'
import {startRedis, type RedisOptions, type RedisServer} from '../helpers/redis.js'
import {recoveryKit, startRecoveringNode} from './recovery-nodes.js'
import {connect} from './session-nodes.js'

const RECOVERED = /^info cluster: Redis answers again; node \S+ wrote its/

for (const [name, redisOptions] of [['Redis restarted empty', {}], ['Redis restarted with its AOF', {appendfsync: 'always'}]] as Array<[string, RedisOptions]>) {
  describe(`cluster node recovery: ${name}`, {timeout: 90_000}, () => {
    let redis: RedisServer | undefined
    const {nodes, client, close} = recoveryKit()
    after(() => close(redis))

    async function publishAll(pub: mqtt.MqttClient, payloads: string[]): Promise<void> {
      for (const p of payloads) await pub.publishAsync('r/t', p, {qos: 1})
    }

    it('acknowledges QoS 1 again once Redis is back, and the persistent session has every acknowledged message on both nodes', async () => {
      redis = await startRedis(redisOptions)
      const a = await startRecoveringNode(redis.url, 'rec-a')
      nodes.push(a)
      const b = await startRecoveringNode(redis.url, 'rec-b')
      nodes.push(b)
      const subOptions: mqtt.IClientOptions = {clientId: 'rec-sub', clean: false, protocolVersion: 5, properties: {sessionExpiryInterval: 600}}
      const sub = await client(a.url, subOptions)
      await sub.client.subscribeAsync('r/#', {qos: 1})
      await sub.client.endAsync()
      const pub = await client(a.url, {clientId: 'rec-pub', protocolVersion: 4, clean: true})
      const before = ['1', '2', '3', '4', '5']
      await publishAll(pub.client, before)

      const degraded = once(a.node.events, 'degraded')
      await redis.kill()
      await degraded
      // a PUBLISH queued for the offline session needs a commit: not acknowledged, the publisher disconnected
      const closed = new Promise<void>((resolve) => pub.client.once('close', () => resolve()))
      pub.client.publish('r/t', 'during', {qos: 1}, () => undefined)
      await closed
      assert.ok(a.started.store.failure !== undefined, 'the commit failed')
      // nothing is kept for Redis meanwhile: 300 messages queued for the offline session add no write to the buffer
      for (let i = 0; i < 300; i++) engineOf(a.broker).publish({topic: 'r/mem', payload: Buffer.from(String(i)), qos: 1, retain: false})
      assert.equal(a.started.store.pending, 0)
      assert.equal(engineOf(a.broker).sessions.get('rec-sub')?.queued, 306)
      // a clean connection is served, a persistent one refused (0x88) until Redis answers
      const clean = await client(a.url, {clientId: 'rec-clean', protocolVersion: 4, clean: true})
      await assert.rejects(client(a.url, {clientId: 'rec-persistent', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 60}}),
        (error: {code?: number}) => error.code === 0x88)
      // ... and it can subscribe (its SUBACK confirms nothing stored) and get what is published on the node
      await clean.client.subscribeAsync('c/#', {qos: 1})
      await clean.client.publishAsync('c/x', 'local', {qos: 1})
      await clean.inbox.wait(1)
      assert.deepEqual(clean.inbox.messages, [{topic: 'c/x', payload: 'local', qos: 1}])

      const from = a.lines.all.length
      const fromB = b.lines.all.length
      await redis.restart()
      const line = await a.lines.wait(RECOVERED, from)
      await b.lines.wait(RECOVERED, fromB) // B takes CONNECTs for persistent sessions again too
      assert.match(line, /wrote its 1 stored session \(306 messages\)/)
      assert.equal(a.started.store.failure, undefined)
      // QoS 1 is acknowledged again (the clean connection made during the outage publishes)
      const after1 = ['6', '7', '8']
      await publishAll(clean.client, after1)

      // the same node: session present, every acknowledged message (and what was queued meanwhile)
      const again = await client(a.url, subOptions)
      assert.equal(again.sessionPresent, true)
      await again.inbox.wait(309)
      const seen = again.inbox.messages.filter((m) => m.topic === 'r/t').map((m) => m.payload)
      assert.deepEqual(seen, [...before, 'during', ...after1])
      assert.equal(again.inbox.messages.filter((m) => m.topic === 'r/mem').length, 300)
      await again.client.endAsync()

      // another node: what A wrote to Redis (and committed since) is all there, once
      const after2 = ['9', '10']
      await publishAll(clean.client, after2)
      const moved = await client(b.url, subOptions)
      assert.equal(moved.sessionPresent, true)
      await moved.inbox.wait(2)
      // a marker behind them, once A routes r/t to B: a duplicate of an earlier message would have arrived before it
      while (!a.node.knows('rec-b', 'r/#')) await once(a.node.events, 'routes')
      await clean.client.publishAsync('r/t', 'marker', {qos: 1})
      await moved.inbox.wait(3)
      assert.deepEqual(moved.inbox.messages.map((m) => m.payload), [...after2, 'marker'])
      assert.equal(a.lines.all.filter((l) => RECOVERED.test(l)).length, 1, a.lines.all.join('\n'))
    })
  })
}

describe('cluster node recovery: the rows written again replace the old ones, in transactions of a few sessions', {timeout: 90_000}, () => {
  let redis: RedisServer | undefined
  const {nodes, client, close} = recoveryKit()
  after(() => close(redis))

  it('leaves no message, reference or outbound row behind once the sessions have taken everything', async () => {
    redis = await startRedis({appendfsync: 'always'})
    // one session per transaction: each message is written with the first session and referenced by the second's
    const a = await startRecoveringNode(redis.url, 'rows-a', undefined, {rewriteChunk: 1})
    nodes.push(a)
    const options = (clientId: string): mqtt.IClientOptions => ({clientId, clean: false, protocolVersion: 4})
    // two offline sessions: each message is stored once, referenced by both
    for (const id of ['rows-1', 'rows-2']) {
      const c = await connect(a.url, options(id))
      await c.client.subscribeAsync('s/#', {qos: 1})
      await c.client.endAsync()
    }
    const pub = await client(a.url, {clientId: 'rows-pub', protocolVersion: 4})
    for (const p of ['x', 'y']) await pub.client.publishAsync('s/t', p, {qos: 1})
    const redisKeys = a.started.store.keys
    const rows = async () => {
      const r = a.started.store.redis
      return {out: await r.hlen(redisKeys.out), inline: await r.hlen(redisKeys.outMessages), messages: await r.hlen(redisKeys.messages), refs: await r.hlen(redisKeys.messageRefs)}
    }
    assert.deepEqual(await rows(), {out: 4, inline: 0, messages: 2, refs: 2})

    const from = a.lines.all.length
    const store = a.started.store.redis
    const multi = store.multi.bind(store)
    let transactions = 0
    store.multi = ((...args: Parameters<typeof multi>) => { transactions++; return multi(...args) }) as typeof store.multi
    await redis.kill()
    await redis.restart()
    assert.match(await a.lines.wait(RECOVERED, from), /wrote its 2 stored sessions \(4 messages\)/)
    assert.equal(transactions, 2, 'one MULTI/EXEC per session')
    // the old rows are gone and the new ones written once (not 8 outbound rows, 4 messages)
    assert.deepEqual(await rows(), {out: 4, inline: 0, messages: 2, refs: 2})
    for (const id of ['rows-1', 'rows-2']) {
      const c = await client(a.url, options(id))
      assert.equal(c.sessionPresent, true)
      await c.inbox.wait(2)
      assert.deepEqual(c.inbox.messages.map((m) => m.payload), ['x', 'y'])
      // its PUBACKs come before its DISCONNECT: once the broker saw it go, they are applied
      const gone = new Promise<void>((resolve) => {
        const on = (e: {clientId: string}) => { if (e.clientId === id) { a.broker.events.off('clientDisconnected', on); resolve() } }
        a.broker.events.on('clientDisconnected', on)
      })
      await c.client.endAsync()
      await gone
    }
    await a.started.store.flush()
    assert.deepEqual(await rows(), {out: 0, inline: 0, messages: 0, refs: 0})
  })
})
