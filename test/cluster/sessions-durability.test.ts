// What a PUBACK means for a message queued for an offline session in a cluster depends on Redis' own
// persistence (README "Cluster: sessions"): with appendfsync always it survives a crash of Redis
// itself; without AOF a Redis restart loses it. Redis is killed with SIGKILL right after the PUBACK.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {startRedis, type RedisOptions} from '../helpers/redis.js'
import {connect, end, Liveness, startNode, type Node} from './session-nodes.js'

async function ready(node: Node): Promise<void> {
  const redis = node.store.redis
  // (not events.once: ioredis may emit a connection 'error' first, while Redis is still starting)
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve))
  // and the control channel subscribed again: a hand-over asked for before that would go unheard
  await node.directory.ready()
}

for (const [name, options, survives] of [
  ['appendonly yes + appendfsync always: an acknowledged message survives a Redis crash', {appendfsync: 'always'}, true],
  ['no AOF: a Redis crash loses the offline session and its queued message', {}, false],
] as Array<[string, RedisOptions, boolean]>) {
  test(name, async () => {
    const redis = await startRedis(options)
    const liveness = new Liveness()
    const a = await startNode(redis.url, 'node-a', liveness)
    const b = await startNode(redis.url, 'node-b', liveness)
    try {
      const sub = await connect(a.url, {clientId: 'durable', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}})
      await sub.client.subscribeAsync('d/t', {qos: 1})
      await end(sub.client)
      const pub = (await connect(a.url, {clientId: 'pub', protocolVersion: 5})).client
      await pub.publishAsync('d/t', 'acknowledged', {qos: 1})
      await end(pub)

      await redis.kill() // right after the PUBACK: only what Redis wrote to disk is left
      await redis.restart()
      await ready(a)
      await ready(b)

      // B takes the session from A, which commits nothing new: what B finds is what Redis kept
      const again = await connect(b.url, {clientId: 'durable', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}})
      assert.equal(again.sessionPresent, survives)
      if (survives) {
        await again.inbox.wait(1)
        assert.deepEqual(again.inbox.messages, [{topic: 'd/t', payload: 'acknowledged', qos: 1}])
      } else {
        // a round trip through B: nothing was queued for the fresh session
        await again.client.subscribeAsync('probe', {qos: 1})
        await again.client.publishAsync('probe', 'probe', {qos: 1})
        await again.inbox.wait(1)
        assert.deepEqual(again.inbox.messages.map((m) => m.topic), ['probe'])
      }
      await end(again.client)
    } finally {
      await a.stop()
      await b.stop()
      await redis.stop()
    }
  })
}
