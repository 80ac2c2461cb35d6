// A node cut off from Redis longer than the heartbeat TTL while the other node keeps it: the other node
// declares it dead and adopts its sessions. When the cut-off node reaches Redis again it must not keep
// a second live copy: the sessions taken meanwhile are dropped there (their connected clients get
// DISCONNECT 0x8E, as in a takeover), the acknowledged messages are in the adopter's copy, and the
// client resumes its session on either node.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {after, describe, it} from 'node:test'
import {engineOf} from '../../src/broker/internal.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {recoveryKit, startRecoveringNode, startRedisProxy, type RedisProxy} from './recovery-nodes.js'

describe('cluster node recovery: declared dead during a long outage', {timeout: 90_000}, () => {
  let redis: RedisServer | undefined
  let proxy: RedisProxy | undefined
  const {nodes, client, close} = recoveryKit()
  after(() => close(proxy, redis))

  it('drops the sessions adopted elsewhere (0x8E to their clients), which resume with every acknowledged message', async () => {
    redis = await startRedis()
    proxy = await startRedisProxy(redis.port)
    // A reaches Redis through the proxy (the default TTL: a busy machine's pauses are not deaths)
    const a = await startRecoveringNode(proxy.url, 'dead-a')
    nodes.push(a)
    const b = await startRecoveringNode(redis.url, 'dead-b')
    nodes.push(b)
    const live = await client(a.url, {clientId: 'dead-live', clean: false, protocolVersion: 5, properties: {sessionExpiryInterval: 600}})
    await live.client.subscribeAsync('d/live', {qos: 1})
    const offline = await client(a.url, {clientId: 'dead-offline', clean: false, protocolVersion: 4})
    await offline.client.subscribeAsync('d/off', {qos: 1})
    await offline.client.endAsync()
    const pub = await client(a.url, {clientId: 'dead-pub', protocolVersion: 4})
    await pub.client.publishAsync('d/off', 'queued', {qos: 1})
    await pub.client.publishAsync('d/live', 'one', {qos: 1})
    await live.inbox.wait(1)
    // a barrier: the SUBACK of a persistent session waits for a commit, and commits go in order, so
    // the PUBACK of 'one' (sent before it on this connection) is in Redis too; else B could adopt the
    // session with 'one' still in flight and send it again, as it should
    await live.client.subscribeAsync('d/barrier', {qos: 1})

    const reason = new Promise<number | undefined>((resolve) => live.client.once('disconnect', (p) => resolve(p.reasonCode)))
    const fromB = b.lines.all.length
    proxy.cut()
    // B sees A's heartbeat expire and takes its sessions: the two persistent ones and the publisher's
    // clean one (it ends at once on B: nothing to keep, and its owner key goes)
    await b.lines.wait(/^info cluster: took over 3 sessions of node dead-a/, fromB)
    const fromA = a.lines.all.length
    proxy.mend()
    const line = await a.lines.wait(/^info cluster: Redis answers again; node dead-a /, fromA)
    assert.match(line, /2 sessions taken by other nodes meanwhile, their clients disconnected/)
    assert.equal(await reason, 0x8e)
    assert.equal(engineOf(a.broker).sessions.has('dead-live'), false)
    assert.equal(engineOf(a.broker).sessions.has('dead-offline'), false)

    // the offline session resumes on B, which adopted it, with the message acknowledged before the cut
    const off2 = await client(b.url, {clientId: 'dead-offline', clean: false, protocolVersion: 4})
    assert.equal(off2.sessionPresent, true)
    await off2.inbox.wait(1)
    assert.deepEqual(off2.inbox.messages, [{topic: 'd/off', payload: 'queued', qos: 1}])
    // the connected one comes back to A: taken back from B, with its subscription
    const live2 = await client(a.url, {clientId: 'dead-live', clean: false, protocolVersion: 5, properties: {sessionExpiryInterval: 600}})
    assert.equal(live2.sessionPresent, true)
    const pubB = await client(b.url, {clientId: 'dead-pub-b', protocolVersion: 4})
    while (!b.node.knows('dead-a', 'd/live')) await once(b.node.events, 'routes')
    await pubB.client.publishAsync('d/live', 'two', {qos: 1})
    await live2.inbox.wait(1)
    assert.deepEqual(live2.inbox.messages.map((m) => m.payload), ['two'])
  })
})
