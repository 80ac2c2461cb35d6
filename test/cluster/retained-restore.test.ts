// Retained messages across a Redis restart (#19): set before the outage, they are delivered on
// subscribe on any node afterwards, a node that joins later included, also when Redis came back empty
// (the nodes write their copies back); one cleared during the outage on one node stays cleared
// everywhere (another node's older copy does not bring it back); one set during the outage reaches
// every node. Once with a Redis restarted empty, once with its AOF.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {after, describe, it} from 'node:test'
import {Redis} from 'ioredis'
import type mqtt from 'mqtt'
import {engineOf} from '../../src/broker/internal.js'
import {startRedis, type RedisOptions, type RedisServer} from '../helpers/redis.js'
import {mqttClient, startNode, type TestNode} from '../helpers/cluster.js'

/** The retained topics and payloads a subscription to `filter` gets on `node` (a marker published after them ends the list). */
async function retainedOn(node: TestNode, filter: string, clients: mqtt.MqttClient[]): Promise<Record<string, string>> {
  const c = await mqttClient(node, {protocolVersion: 5})
  clients.push(c)
  const got: Record<string, string> = {}
  const marker = new Promise<void>((resolve) => {
    c.on('message', (topic, payload, packet) => {
      if (topic === 'marker/end') return resolve()
      if (packet.retain) got[topic] = payload.toString()
    })
  })
  await c.subscribeAsync([filter, 'marker/end'], {qos: 1})
  await c.publishAsync('marker/end', 'x', {qos: 1})
  await marker
  return got
}

/** What `node` holds for `topic` in memory ('' for nothing). */
function held(node: TestNode, topic: string): string {
  const e = engineOf(node.broker)
  return e.retained.match(topic, e.now())[0]?.payload.toString() ?? ''
}

for (const [name, redisOptions] of [['Redis restarted empty', {}], ['Redis restarted with its AOF', {appendfsync: 'always'}]] as Array<[string, RedisOptions]>) {
  describe(`cluster: retained messages across a restart of Redis (${name})`, {timeout: 90_000}, () => {
    let redis: RedisServer | undefined
    const nodes: TestNode[] = []
    const clients: mqtt.MqttClient[] = []
    after(async () => {
      for (const c of clients) c.end(true)
      for (const n of nodes) await n.close()
      await redis?.stop()
    })

    it('keeps what was set, forgets what was cleared during the outage, and shares what was set during it', async () => {
      redis = await startRedis(redisOptions)
      const a = await startNode(redis.url, 'ra')
      nodes.push(a)
      const b = await startNode(redis.url, 'rb')
      nodes.push(b)
      const pa = await mqttClient(a)
      const pb = await mqttClient(b)
      clients.push(pa, pb)
      await pa.publishAsync('keep/1', 'k1', {qos: 1, retain: true})
      await pa.publishAsync('gone/1', 'g1', {qos: 1, retain: true})
      while (held(b, 'keep/1') !== 'k1' || held(b, 'gone/1') !== 'g1') await once(b.node.events, 'retained')

      const down = Promise.all([once(a.node.events, 'degraded'), once(b.node.events, 'degraded')])
      await redis.kill()
      await down
      // during the outage: cleared on A (B still has it), set on B (A does not know it)
      await pa.publishAsync('gone/1', '', {qos: 1, retain: true})
      await pb.publishAsync('new/1', 'n1', {qos: 1, retain: true})
      assert.equal(held(a, 'gone/1'), '')
      assert.equal(held(b, 'gone/1'), 'g1')
      // clears of topics A holds no message for are not kept for Redis: what a node keeps during an
      // outage stays bounded by the retained messages it holds, however many topics clients clear
      for (let i = 0; i < 200; i++) await pa.publishAsync(`never/${i}`, '', {qos: 1, retain: true})
      assert.equal(unsynced(a), 1, 'A keeps its one clear')
      assert.equal(unsynced(b), 1, 'B keeps its one message')

      const back = Promise.all([once(a.node.events, 'synced'), once(b.node.events, 'synced')])
      await redis.restart()
      await back
      // Redis has the cluster's set: written back (empty Redis) or kept (AOF), with the outage's changes
      assert.deepEqual((await redisTopics(redis.url)).sort(), ['keep/1', 'new/1'])
      // every node converges on it, and a node that joins now loads it
      while (held(b, 'gone/1') !== '') await once(b.node.events, 'retained')
      assert.equal(held(a, 'gone/1'), '', 'the clear made on A during the outage holds on A')
      while (held(a, 'new/1') !== 'n1') await once(a.node.events, 'retained')
      const c = await startNode(redis.url, 'rc')
      nodes.push(c)
      for (const n of [a, b, c]) assert.deepEqual(await retainedOn(n, '+/1', clients), {'keep/1': 'k1', 'new/1': 'n1'}, n.node.id)
      assert.deepEqual([unsynced(a), unsynced(b)], [0, 0], 'every change written to Redis')
    })
  })
}

/** The node's midge_cluster_retained_unsynced gauge. */
function unsynced(node: TestNode): number {
  const family = node.node.metrics().find((m) => m.name === 'midge_cluster_retained_unsynced')
  assert.ok(family, 'the gauge is exported')
  return family.samples[0]!.value
}

/** The topics in Redis's retained hash. */
async function redisTopics(url: string): Promise<string[]> {
  const r = new Redis(url)
  try {
    return Object.keys(await r.hgetallBuffer('midge:retained'))
  } finally {
    r.disconnect()
  }
}
