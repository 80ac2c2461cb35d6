// `midge broker start --cluster` across a Redis outage, as a user runs it: a real broker process, a real
// redis-server killed and started again on the same port, clients of the `mqtt` package. SIGTERM while
// Redis is away exits 0 with one line (nothing acknowledged waits on the writes it cannot make); once
// Redis is back the node logs one line, acknowledges QoS 1 again and exits 0 on SIGTERM as usual.
import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'
import type mqtt from 'mqtt'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {connect} from './session-nodes.js'

/** Resolves with the next line of the broker's log (stdout or stderr) that matches `re`. */
function logLine(broker: MidgeBroker, re: RegExp): Promise<string> {
  const streams = [broker.child.stdout!, broker.child.stderr!]
  return new Promise((resolve) => {
    const rest = new Map(streams.map((s) => [s, '']))
    const checks = streams.map((s) => {
      const check = (d: Buffer) => {
        const lines = (rest.get(s)! + d.toString()).split('\n')
        rest.set(s, lines.pop()!)
        const line = lines.find((l) => re.test(l))
        if (line === undefined) return
        streams.forEach((t, i) => { t.off('data', checks[i]!) })
        resolve(line)
      }
      s.on('data', check)
      return check
    })
  })
}

describe('broker start --cluster: a Redis outage', {timeout: 120_000}, () => {
  const redises: RedisServer[] = []
  const brokers: MidgeBroker[] = []
  const clients: mqtt.MqttClient[] = []
  after(async () => {
    for (const c of clients) c.end(true)
    for (const b of brokers) await b.stop('SIGKILL')
    for (const r of redises) await r.stop()
  })

  async function client(url: string, options: mqtt.IClientOptions): Promise<Awaited<ReturnType<typeof connect>>> {
    const c = await connect(url, options)
    c.client.on('error', () => undefined)
    clients.push(c.client)
    return c
  }

  /** A node with an offline persistent session subscribed to q/#, one message acknowledged for it; then Redis killed and a QoS 1 publish refused. */
  async function nodeWithFailedCommit(): Promise<{redis: RedisServer; node: MidgeBroker}> {
    const redis = await startRedis()
    redises.push(redis)
    const node = await startMidgeBroker(['--cluster', redis.url, '--node-id', `out-${redises.length}`])
    brokers.push(node)
    const sub = await client(node.url, {clientId: 'out-sub', clean: false, protocolVersion: 4})
    await sub.client.subscribeAsync('q/#', {qos: 1})
    await sub.client.endAsync()
    const pub = await client(node.url, {clientId: 'out-pub', protocolVersion: 4})
    await pub.client.publishAsync('q/1', 'before', {qos: 1})
    const lost = logLine(node, /cluster: lost Redis/)
    await redis.kill()
    await lost
    const closed = new Promise<void>((resolve) => pub.client.once('close', () => resolve()))
    pub.client.publish('q/2', 'during', {qos: 1}, () => undefined)
    await closed // its PUBACK withheld: the commit failed
    return {redis, node}
  }

  it('exits 0 on SIGTERM while Redis is away, with one line saying what was not stored', async () => {
    const {node} = await nodeWithFailedCommit()
    const result = await node.stop('SIGTERM')
    assert.equal(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout + result.stderr, /cluster: Redis is unavailable at shutdown \(.*\): what changed since it went away \(none of it acknowledged\) is not stored/)
    assert.doesNotMatch(result.stderr, /midge broker start:/)
  })

  it('acknowledges QoS 1 again once Redis is back, keeps the session, and exits 0 on SIGTERM', async () => {
    const {redis, node} = await nodeWithFailedCommit()
    const recovered = logLine(node, /cluster: Redis answers again; node out-\d+ wrote its 1 stored session \(2 messages\) to it/)
    await redis.restart()
    await recovered
    const pub = await client(node.url, {clientId: 'out-pub2', protocolVersion: 4})
    await pub.client.publishAsync('q/3', 'after', {qos: 1})
    const back = await client(node.url, {clientId: 'out-sub', clean: false, protocolVersion: 4})
    assert.equal(back.sessionPresent, true)
    await back.inbox.wait(3)
    assert.deepEqual(back.inbox.messages.map((m) => m.payload), ['before', 'during', 'after'])
    const result = await node.stop('SIGTERM')
    assert.equal(result.code, 0, result.stdout + result.stderr)
    assert.doesNotMatch(result.stdout + result.stderr, /unavailable at shutdown/)
  })
})
