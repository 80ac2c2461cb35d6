// After its own Redis outage a node does not take the others for dead for one TTL (their heartbeats
// expired with Redis too): NodeRegistry.holdBurials, against a real redis-server.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {Redis} from 'ioredis'
import {NODES, nodeKey, routesKey} from '../../src/cluster/keys.js'
import {NodeRegistry} from '../../src/cluster/registry.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'

describe('cluster: burials held back after an outage', {timeout: 30_000}, () => {
  let redis: RedisServer
  let client: Redis
  before(async () => {
    redis = await startRedis()
    client = new Redis(redis.url, {lazyConnect: true})
    await client.connect()
  })
  after(async () => {
    client?.disconnect()
    await redis?.stop()
  })

  it('keeps a node without heartbeat alive during the hold, and buries it without one', async () => {
    // "other" is a member whose heartbeat key expired (as after a Redis restart from its AOF), with routes
    await client.multi().sadd(NODES, 'other').hset(routesKey('other'), 'a/#', 1).exec()
    assert.equal(await client.exists(nodeKey('other')), 0)
    const held = new NodeRegistry(client, 'me', 60_000)
    const downs: string[] = []
    held.on('node-down', (n) => downs.push(n))
    held.holdBurials()
    assert.deepEqual(await held.scan(), ['other'])
    assert.equal(await client.sismember(NODES, 'other'), 1)
    assert.deepEqual(await client.hkeys(routesKey('other')), ['a/#'])

    const plain = new NodeRegistry(client, 'me', 60_000)
    plain.reset(['other'])
    plain.on('node-down', (n) => downs.push(n))
    assert.deepEqual(await plain.scan(), [])
    assert.equal(await client.sismember(NODES, 'other'), 0)
    assert.deepEqual(await client.hkeys(routesKey('other')), [])
    assert.deepEqual(downs, ['other'])
  })
})
