// What a cluster node sends Redis per CONNECT and disconnect, watched with Redis' MONITOR (a real
// redis-server, a real `midge broker start --cluster`, the `mqtt` package): a client without a will
// costs no separate HDEL of its will at disconnect; a client with one has it deleted.
import assert from 'node:assert/strict'
import {Redis} from 'ioredis'
import {after, before, describe, it} from 'node:test'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {mqttClient} from '../helpers/cluster.js'

interface Seen { args: string[]; source: string }

let redis: RedisServer
let node: MidgeBroker
let monitor: Redis
let control: Redis
const seen: Seen[] = []
const waiters: Array<() => void> = []

/** Resolves once MONITOR showed a command (from the node itself, not a script) matching `test`; returns its index. */
function command(test: (s: Seen) => boolean, from = 0): Promise<number> {
  return new Promise((resolve) => {
    // a waiter is taken off the list at every command: one that did not match goes back on it
    const check = (): void => {
      const i = seen.findIndex((s, k) => k >= from && s.source !== 'lua' && test(s))
      if (i >= 0) resolve(i)
      else waiters.push(check)
    }
    check()
  })
}

const claimOf = (c: string) => (s: Seen) => /^eval(sha)?$/i.test(s.args[0] ?? '') && s.args.includes(`midge:owner:${c}`)
const hdelWill = (c: string) => (s: Seen) => s.source !== 'lua' && s.args[0]?.toLowerCase() === 'hdel' && s.args[1] === 'midge:wills:n1' && s.args[2] === c

describe('a cluster node\'s Redis commands per connection', {timeout: 60_000}, () => {
  before(async () => {
    redis = await startRedis()
    control = new Redis(redis.url)
    monitor = await control.monitor() // a connection of its own
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (process.env.DEBUG_MONITOR) console.error(source, args.slice(0, 4).join(' '))
      seen.push({args: args.map(String), source})
      for (const w of waiters.splice(0)) w()
    })
    node = await startMidgeBroker(['--cluster', redis.url, '--node-id', 'n1'])
  })
  after(async () => {
    await node?.stop()
    monitor?.disconnect()
    control?.disconnect()
    await redis?.stop()
  })

  it('sends no HDEL of a will that was never recorded', async () => {
    const a = await mqttClient(node, {clientId: 'nowill', clean: true, protocolVersion: 5})
    await command(claimOf('nowill'))
    await new Promise<void>((resolve) => a.end(false, {}, () => resolve()))
    const ended = await command(claimOf('nowill'), (await command(claimOf('nowill'))) + 1) // the claim, then ENDED
    // a later command on the same connection: anything the disconnect sent is before it
    const b = await mqttClient(node, {clientId: 'marker', clean: true, protocolVersion: 5})
    const marker = await command(claimOf('marker'), ended)
    b.end(true)
    assert.equal(seen.slice(0, marker).filter(hdelWill('nowill')).length, 0, 'no HDEL of nowill\'s will')
  })

  it('deletes the will of a connection that had one when it disconnects and its session stays', async () => {
    const c = await mqttClient(node, {clientId: 'withwill', clean: false, protocolVersion: 5, properties: {sessionExpiryInterval: 60},
      will: {topic: 'w', payload: Buffer.from('gone'), qos: 0, retain: false}})
    await command(claimOf('withwill'))
    assert.equal(await control.hexists('midge:wills:n1', 'withwill'), 1, 'the will is recorded while connected')
    await new Promise<void>((resolve) => c.end(false, {}, () => resolve()))
    // deleted by the node's next ownership script call (its steps of one turn go as one call)
    const deadline = Date.now() + 10_000
    while (await control.hexists('midge:wills:n1', 'withwill') === 1) {
      assert.ok(Date.now() < deadline, 'the will is still recorded 10 s after the disconnect')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })
})
