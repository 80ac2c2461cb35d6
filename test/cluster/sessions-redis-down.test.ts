// Redis does not answer when a client connects to a cluster node: a CONNECT for a session that
// outlives its connection is refused with "server unavailable" (no session is attached that another
// node may hold), a clean one (nothing in Redis to take) is served, and the node serves everyone again
// once Redis is back.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {startRedis} from '../helpers/redis.js'
import {connect, end, Liveness, startNode} from './session-nodes.js'

async function refusal(url: string, protocolVersion: 4 | 5, clean = false): Promise<number | undefined> {
  try {
    const {client} = await connect(url, {clientId: `while-down-${protocolVersion}`, protocolVersion, clean,
      ...(protocolVersion === 5 && !clean ? {properties: {sessionExpiryInterval: 60}} : {})})
    client.end(true)
    return undefined
  } catch (error) {
    return (error as {code?: number}).code
  }
}

test('Redis down at CONNECT: a persistent session refused with 0x88 (v5) / 3 (3.1.1), a clean one served; all served again once Redis is back', async () => {
  const redis = await startRedis()
  const node = await startNode(redis.url, 'node-a', new Liveness())
  try {
    await redis.kill()
    assert.equal(await refusal(node.url, 5), 0x88)
    assert.equal(await refusal(node.url, 4), 3)
    assert.equal(await refusal(node.url, 5, true), undefined)
    assert.equal(await refusal(node.url, 4, true), undefined)
    await redis.restart()
    // ioredis reconnects in the background; once it has, clients get in again
    // (not events.once: ioredis may emit a connection 'error' first, while Redis is still starting)
    if (node.store.redis.status !== 'ready') await new Promise((resolve) => node.store.redis.once('ready', resolve))
    const {client} = await connect(node.url, {clientId: 'after', protocolVersion: 5})
    await end(client)
  } finally {
    await node.stop()
    await redis.stop()
  }
})
