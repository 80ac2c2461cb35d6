// A node killed with SIGKILL: the others see it go (node-down), drop its routes (once its sessions are
// adopted) and stop sending to it.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {spawn} from 'node:child_process'
import {after, before, describe, it} from 'node:test'
import {Redis} from 'ioredis'
import {collect} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {startNode, type TestNode} from '../helpers/cluster.js'
import {engineOf} from '../../src/broker/internal.js'

let redis: RedisServer
let watcher: TestNode
let doomed: MidgeBroker | undefined

describe('cluster: a node killed', {timeout: 60_000}, () => {
  before(async () => {
    redis = await startRedis()
    watcher = await startNode(redis.url, 'watcher')
  })
  after(async () => {
    await doomed?.stop('SIGKILL')
    await watcher?.close()
    await redis?.stop()
  })

  it('is seen gone, and its routes with it', async () => {
    const up = once(watcher.node.events, 'node-up')
    doomed = await startMidgeBroker(['--cluster', redis.url, '--node-id', 'doomed'])
    assert.deepEqual(await up, ['doomed'])
    const sub = spawn('mosquitto_sub', ['-p', String(doomed.port), '-t', 'd/#', '-q', '1'], {stdio: 'pipe'})
    const subDone = collect(sub, 40_000)
    while (!watcher.node.knows('doomed', 'd/#')) await once(watcher.node.events, 'routes')
    const down = once(watcher.node.events, 'node-down')
    doomed.child.kill('SIGKILL')
    assert.deepEqual(await down, ['doomed'])
    // its routes go once its sessions are adopted (at once here: this node adopts none)
    while (watcher.node.knows('doomed', 'd/#')) await once(watcher.node.events, 'routes')
    assert.equal(watcher.node.status().nodes, 1)
    // nothing is forwarded to it any more
    const before = watcher.node.counters.forwarded
    engineOf(watcher.broker).publish({topic: 'd/1', payload: Buffer.from('x'), qos: 1, retain: false})
    assert.equal(watcher.node.counters.forwarded, before)
    // and Redis no longer lists it
    const r = new Redis(redis.url)
    try {
      assert.deepEqual(await r.smembers('midge:nodes'), ['watcher'])
      assert.equal(await r.exists('midge:routes:doomed'), 0)
    } finally {
      r.disconnect()
    }
    sub.kill() // mosquitto_sub would reconnect forever
    await subDone
  })
})
