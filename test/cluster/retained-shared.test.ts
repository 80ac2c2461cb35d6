// Retained messages and shared subscriptions across nodes.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import type mqtt from 'mqtt'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {mqttClient, receive, retainedChanged, routeKnown, startNode, type TestNode} from '../helpers/cluster.js'
import {engineOf} from '../../src/broker/internal.js'

let redis: RedisServer
const nodes: TestNode[] = []
const clients: mqtt.MqttClient[] = []

async function node(id: string): Promise<TestNode> {
  const n = await startNode(redis.url, id)
  nodes.push(n)
  return n
}

async function client(n: TestNode, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  const c = await mqttClient(n, options)
  clients.push(c)
  return c
}

describe('cluster: retained messages and shared subscriptions', {timeout: 60_000}, () => {
  let a: TestNode
  let b: TestNode
  let c: TestNode
  before(async () => {
    redis = await startRedis()
    a = await node('a')
    b = await node('b')
    c = await node('c')
  })
  after(async () => {
    for (const cl of clients) cl.end(true)
    for (const n of nodes) await n.close()
    await redis?.stop()
  })

  it('a retained message set on one node is delivered on subscribe on another, and on a node that joins later', async () => {
    const pub = await client(a)
    const applied = retainedChanged(b, 'config/lamp')
    await pub.publishAsync('config/lamp', 'on', {qos: 1, retain: true})
    await applied
    const sub = await client(b)
    const got = receive(sub, 1)
    await sub.subscribeAsync('config/+', {qos: 1})
    const [m] = await got
    assert.equal(m.payload, 'on')
    assert.equal(m.packet.retain, true)
    assert.equal(m.packet.qos, 1)
    const d = await node('d')
    assert.equal(engineOf(d.broker).retained.match('config/lamp', engineOf(d.broker).now())[0]?.payload.toString(), 'on')
  })

  it('a retained message cleared on one node is cleared everywhere', async () => {
    const pub = await client(c)
    const cleared = Promise.all(nodes.filter((n) => n !== c).map((n) => retainedChanged(n, 'config/lamp')))
    await pub.publishAsync('config/lamp', '', {qos: 1, retain: true})
    await cleared
    for (const n of nodes) assert.deepEqual(engineOf(n.broker).retained.match('config/#', engineOf(n.broker).now()), [], n.node.id)
    const late = await node('e')
    assert.deepEqual(engineOf(late.broker).retained.match('config/#', engineOf(late.broker).now()), [])
  })

  it('a shared group gets each message once over all nodes, next to plain subscribers', async () => {
    const onB = await client(b)
    const onC = await client(c)
    const plain = await client(b)
    for (const cl of [onB, onC]) {
      await cl.subscribeAsync('$share/workers/jobs/+', {qos: 1})
      await cl.subscribeAsync('marker', {qos: 1})
    }
    await plain.subscribeAsync('jobs/#', {qos: 1})
    await routeKnown(a, b, '$share/workers/jobs/+')
    await routeKnown(a, c, '$share/workers/jobs/+')
    await routeKnown(a, c, 'marker')
    await routeKnown(a, b, 'jobs/#')
    const n = 40
    const shared: string[] = []
    const byNode = {b: 0, c: 0}
    onB.on('message', (t, p) => { if (t !== 'marker') { shared.push(p.toString()); byNode.b++ } })
    onC.on('message', (t, p) => { if (t !== 'marker') { shared.push(p.toString()); byNode.c++ } })
    const gotPlain = receive(plain, n)
    const markers = Promise.all([receive(onB, 1, (t) => t === 'marker'), receive(onC, 1, (t) => t === 'marker')])
    const pub = await client(a)
    for (let i = 0; i < n; i++) pub.publish(`jobs/${i}`, String(i), {qos: 1})
    pub.publish('marker', 'end', {qos: 1})
    await markers
    assert.equal((await gotPlain).length, n, 'the plain subscriber got every message')
    assert.deepEqual(shared.map(Number).sort((x, y) => x - y), [...Array(n).keys()], 'each message once to the group')
    // round-robin between the two nodes with members
    assert.deepEqual(byNode, {b: n / 2, c: n / 2})
  })
})
