// A Redis that accepts a node's commits but stops answering them (paused, wedged: a proxy in front of
// a real redis-server holds everything, test/helpers/stalling-proxy.ts) does not leave a PUBLISH
// waiting for its PUBACK forever: the commit fails after the store's command timeout like one Redis
// refused (no PUBACK; the publisher is disconnected, MQTT 5 reason 0x80, to send it again), and once
// Redis answers again the node's recovery writes what it holds again and QoS 1 is acknowledged again.
import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'
import type mqtt from 'mqtt'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {startStallingProxy, type StallingProxy} from '../helpers/stalling-proxy.js'
import {recoveryKit, startRecoveringNode} from './recovery-nodes.js'

const RECOVERED = /^info cluster: Redis answers again; node \S+ wrote its/

describe('cluster: a commit that Redis does not answer', {timeout: 90_000}, () => {
  let redis: RedisServer | undefined
  let proxy: StallingProxy | undefined
  const {nodes, client, close} = recoveryKit()
  after(() => close(proxy, redis))

  it('fails after the command timeout (no PUBACK, the publisher disconnected) and recovers once Redis answers', async () => {
    redis = await startRedis()
    proxy = await startStallingProxy(redis.port)
    const a = await startRecoveringNode(proxy.url, 'stall-a', undefined, {commandTimeoutMs: 1000})
    nodes.push(a)
    const subOptions: mqtt.IClientOptions = {clientId: 'stall-sub', clean: false, protocolVersion: 5, properties: {sessionExpiryInterval: 600}}
    const sub = await client(a.url, subOptions)
    await sub.client.subscribeAsync('s/#', {qos: 1})
    await sub.client.endAsync()
    const pub = await client(a.url, {clientId: 'stall-pub', protocolVersion: 5, clean: true})
    await pub.client.publishAsync('s/t', 'before', {qos: 1})

    proxy.stall()
    const from = a.lines.all.length
    let acked = false
    const disconnected = new Promise<number | undefined>((resolve) => pub.client.once('disconnect', (p) => resolve(p.reasonCode)))
    pub.client.publish('s/t', 'stalled', {qos: 1}, (error) => { if (error === undefined) acked = true })
    // the commit for the offline session gets no answer: it fails, and the publisher is told so
    assert.equal(await disconnected, 0x80)
    assert.equal(acked, false, 'no PUBACK for a message whose commit got no answer')
    assert.match(a.started.store.failure?.message ?? '', /^Redis did not answer a commit within 1 s$/)
    assert.equal(a.lines.all.slice(from).filter((l) => l.includes('persistence failed')).length, 1, a.lines.all.join('\n'))

    proxy.resume()
    await a.lines.wait(RECOVERED, from)
    assert.equal(a.started.store.failure, undefined)
    const pub2 = await client(a.url, {clientId: 'stall-pub2', protocolVersion: 5, clean: true})
    await pub2.client.publishAsync('s/t', 'after', {qos: 1})
    const again = await client(a.url, subOptions)
    assert.equal(again.sessionPresent, true)
    // what was acknowledged, in order; the unacknowledged one may be there too (it was routed before its commit failed)
    await again.inbox.wait(2)
    const seen = again.inbox.messages.map((m) => m.payload)
    while (seen.at(-1) !== 'after') {
      await again.inbox.wait(seen.length + 1)
      seen.splice(0, seen.length, ...again.inbox.messages.map((m) => m.payload))
    }
    assert.deepEqual(seen.filter((p) => p !== 'stalled'), ['before', 'after'])
  })
})
