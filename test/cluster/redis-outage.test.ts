// Redis going away and coming back: nodes serve their local clients, /healthz says degraded, one log
// line each way, and the routes between nodes are rebuilt when Redis is back.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {after, before, describe, it} from 'node:test'
import type mqtt from 'mqtt'
import {serveOps, type OpsServer} from '../../src/broker/metrics-http.js'
import type {Logger} from '../../src/broker/logger.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {mqttClient, receive, routeKnown, startNode, type TestNode} from '../helpers/cluster.js'
import {engineOf} from '../../src/broker/internal.js'

let redis: RedisServer
let a: TestNode
let b: TestNode
let ops: OpsServer
const clients: mqtt.MqttClient[] = []
const lines: string[] = []
const logger: Logger = {trace() {}, debug() {}, info: (_o, m) => lines.push(`info ${m}`), warn: (_o, m) => lines.push(`warn ${m}`), error: (_o, m) => lines.push(`error ${m}`)}

async function client(n: TestNode): Promise<mqtt.MqttClient> {
  const c = await mqttClient(n)
  clients.push(c)
  return c
}

async function healthz(): Promise<{status: string; cluster?: {connected: boolean}}> {
  const res = await fetch(`http://127.0.0.1:${ops.address().port}/healthz`)
  assert.equal(res.status, 200)
  return await res.json() as {status: string; cluster?: {connected: boolean}}
}

describe('cluster: Redis unavailable', {timeout: 60_000}, () => {
  before(async () => {
    redis = await startRedis()
    a = await startNode(redis.url, 'a', {logger})
    b = await startNode(redis.url, 'b')
    ops = await serveOps({broker: a.broker, listeners: () => engineOf(a.broker).listeners}, {port: 0})
  })
  after(async () => {
    for (const cl of clients) cl.end(true)
    await ops?.close()
    for (const n of [a, b]) await n?.close()
    await redis?.stop()
  })

  it('serves local clients while Redis is down and routes between nodes again once it is back', async () => {
    const localSub = await client(a)
    await localSub.subscribeAsync('o/#', {qos: 1})
    const remoteSub = await client(b)
    await remoteSub.subscribeAsync('o/#', {qos: 1})
    await routeKnown(a, b, 'o/#')
    assert.equal((await healthz()).status, 'ok')

    const down = Promise.all([once(a.node.events, 'degraded'), once(b.node.events, 'degraded')])
    await redis.kill()
    await down
    const health = await healthz()
    assert.equal(health.status, 'degraded')
    assert.equal(health.cluster?.connected, false)
    // a local subscriber still gets what a local client publishes, QoS 1 acknowledged
    const pub = await client(a)
    const got = receive(localSub, 50)
    // B's subscriber matches them too: kept for B (QoS 1), sent once Redis is back; QoS 0 is not kept
    const kept = receive(remoteSub, 50, (t) => t === 'o/local')
    const heardByB: string[] = []
    remoteSub.on('message', (t) => heardByB.push(t))
    for (let i = 0; i < 50; i++) await pub.publishAsync('o/local', String(i), {qos: 1})
    await pub.publishAsync('o/qos0', 'not kept', {qos: 0})
    assert.equal((await got).length, 50)
    assert.ok(engineOf(a.broker).listeners[0]!.accepting)

    // Redis comes back empty (no persistence): each node writes its routes again and reloads the other's
    const back = Promise.all([once(a.node.events, 'synced'), once(b.node.events, 'synced')])
    await redis.restart()
    await back
    await routeKnown(a, b, 'o/#')
    const remote = receive(remoteSub, 1, (t) => t === 'o/again')
    await pub.publishAsync('o/again', 'x', {qos: 1})
    assert.equal((await remote)[0]!.payload, 'x')
    assert.deepEqual((await kept).map((m) => m.payload), Array.from({length: 50}, (_, i) => String(i)), 'the QoS 1 messages of the outage, in order')
    assert.deepEqual([...new Set(heardByB)], ['o/local', 'o/again'], 'before what was published after, and no QoS 0 of the outage')
    assert.equal((await healthz()).status, 'ok')
    assert.equal(lines.filter((l) => l.startsWith('warn cluster: lost Redis')).length, 1, lines.join('\n'))
    assert.equal(lines.filter((l) => l.includes('is back; routes resynchronised')).length, 1, lines.join('\n'))
  })
})
