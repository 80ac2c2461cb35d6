// Routing between nodes: a PUBLISH on one node reaches matching subscribers on the others, once, at
// min(subscription, message) QoS, in order; a node without a matching filter gets nothing.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import mqtt from 'mqtt'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {routeKnown, startNode, type TestNode} from '../helpers/cluster.js'

let redis: RedisServer
let a: TestNode
let b: TestNode
let c: TestNode
const clients: mqtt.MqttClient[] = []

async function client(node: TestNode, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  const cl = await mqtt.connectAsync(node.url, {reconnectPeriod: 0, connectTimeout: 20_000, ...options})
  clients.push(cl)
  return cl
}

/** The next `n` messages a client receives. */
function receive(cl: mqtt.MqttClient, n: number): Promise<Array<{topic: string; payload: string; packet: mqtt.IPublishPacket}>> {
  const got: Array<{topic: string; payload: string; packet: mqtt.IPublishPacket}> = []
  return new Promise((resolve) => {
    const on = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
      got.push({topic, payload: payload.toString(), packet})
      if (got.length === n) {
        cl.off('message', on)
        resolve(got)
      }
    }
    cl.on('message', on)
  })
}

describe('cluster routing', {timeout: 60_000}, () => {
  before(async () => {
    redis = await startRedis()
    a = await startNode(redis.url, 'node-a')
    b = await startNode(redis.url, 'node-b')
    c = await startNode(redis.url, 'node-c')
  })
  after(async () => {
    for (const cl of clients) cl.end(true)
    for (const n of [a, b, c]) await n?.close()
    await redis?.stop()
  })

  it('a node sees the others join', () => {
    assert.deepEqual([...c.node.nodes].sort(), ['node-a', 'node-b'])
    assert.equal(a.node.status().nodes, 3)
  })

  it('delivers across nodes once, at the lower QoS, with v5 properties, to matching nodes only', async () => {
    const sub = await client(b, {protocolVersion: 5})
    await sub.subscribeAsync('sensors/+/temp', {qos: 1})
    await routeKnown(a, b, 'sensors/+/temp')
    const pub = await client(a, {protocolVersion: 5})
    const got = receive(sub, 2)
    await pub.publishAsync('sensors/1/temp', '21.5', {qos: 2, properties: {contentType: 'text/plain', userProperties: {unit: 'C'}}})
    await pub.publishAsync('sensors/2/temp', '19', {qos: 0})
    const [m1, m2] = await got
    assert.equal(m1.topic, 'sensors/1/temp')
    assert.equal(m1.payload, '21.5')
    assert.equal(m1.packet.qos, 1, 'QoS 2 message through a QoS 1 subscription')
    assert.equal(m1.packet.properties?.contentType, 'text/plain')
    assert.deepEqual({...m1.packet.properties?.userProperties}, {unit: 'C'})
    assert.equal(m2.payload, '19')
    assert.equal(m2.packet.qos, 0)
    // node C has no matching filter: a marker it does subscribe to, sent after, arrives first and alone
    const marker = await client(c)
    await marker.subscribeAsync('marker', {qos: 0})
    await routeKnown(a, c, 'marker')
    const gotMarker = receive(marker, 1)
    pub.publish('marker', 'x')
    await gotMarker
    assert.equal(c.node.counters.received, 1, 'node C received only the marker')
    assert.equal(b.node.counters.received, 2)
  })

  it('one message for two other nodes: each gets it once, whole (one encoding shared by both)', async () => {
    const onB = await client(b, {protocolVersion: 5})
    const onC = await client(c, {protocolVersion: 4})
    await onB.subscribeAsync('both/+', {qos: 1})
    await onC.subscribeAsync('both/#', {qos: 1})
    await routeKnown(a, b, 'both/+')
    await routeKnown(a, c, 'both/#')
    const gotB = receive(onB, 1)
    const gotC = receive(onC, 1)
    const pub = await client(a, {protocolVersion: 5})
    await pub.publishAsync('both/t', 'for two nodes', {qos: 1, properties: {userProperties: {k: 'v'}}})
    const [[mb], [mc]] = await Promise.all([gotB, gotC])
    assert.equal(mb!.payload, 'for two nodes')
    assert.deepEqual({...mb!.packet.properties?.userProperties}, {k: 'v'})
    assert.equal(mc!.payload, 'for two nodes')
    assert.equal(mc!.packet.qos, 1)
    // once each: a marker sent after, on the same topic filter, is the next message on both
    const nextB = receive(onB, 1)
    const nextC = receive(onC, 1)
    await pub.publishAsync('both/marker', 'after', {qos: 1})
    assert.equal((await nextB)[0]!.payload, 'after')
    assert.equal((await nextC)[0]!.payload, 'after')
  })

  it('keeps the order of one publisher and topic, and never forwards twice', async () => {
    const onB = await client(b)
    const onC = await client(c)
    await onB.subscribeAsync('order/#', {qos: 1})
    await onC.subscribeAsync('order/x', {qos: 1})
    await onC.subscribeAsync('order/+', {qos: 1}) // overlapping: still one copy
    await routeKnown(a, b, 'order/#')
    await routeKnown(a, c, 'order/+')
    const pub = await client(a)
    const n = 200
    const gotB = receive(onB, n)
    const gotC = receive(onC, n)
    for (let i = 0; i < n; i++) pub.publish('order/x', String(i), {qos: 1})
    for (const got of [await gotB, await gotC]) assert.deepEqual(got.map((m) => Number(m.payload)), [...Array(n).keys()])
    // a round trip on B and C after the last message: no duplicates came late
    const late: string[] = []
    const count = (_t: string, p: Buffer) => late.push(p.toString())
    onB.on('message', count)
    onC.on('message', count)
    const done = Promise.all([receive(onB, 1), receive(onC, 1)])
    pub.publish('order/x', 'end', {qos: 1})
    await done
    assert.deepEqual(late, ['end', 'end'])
  })

  it('answers a v5 PUBLISH with nobody anywhere 0x10, and one with a subscriber on another node 0x00', async () => {
    const pub = await client(a, {protocolVersion: 5})
    const pubackCode = async (topic: string): Promise<number | undefined> => {
      const ack = new Promise<number | undefined>((resolve) => {
        const on = (p: mqtt.Packet) => {
          if (p.cmd !== 'puback') return
          pub.off('packetreceive', on)
          resolve((p as {reasonCode?: number}).reasonCode)
        }
        pub.on('packetreceive', on)
      })
      pub.publish(topic, 'x', {qos: 1})
      return ack
    }
    assert.equal(await pubackCode('nobody/here'), 0x10)
    const sub = await client(c, {protocolVersion: 5})
    await sub.subscribeAsync('somebody/there', {qos: 1})
    await routeKnown(a, c, 'somebody/there')
    const got = receive(sub, 1)
    assert.equal(await pubackCode('somebody/there') ?? 0, 0)
    await got
  })

  it('carries other features\' messages between nodes (the mailbox), to one node or to all others', async () => {
    const toB = new Promise<[string, string]>((resolve) => b.node.mailbox.on('test', (from, p) => resolve([from, p.toString()])))
    await a.node.mailbox.send('node-b', 'test', Buffer.from('one'))
    assert.deepEqual(await toB, ['node-a', 'one'])
    const all = Promise.all([b, c].map((n) => new Promise<string>((resolve) => n.node.mailbox.on('all', (from) => resolve(from)))))
    let toSelf = false
    a.node.mailbox.on('all', () => { toSelf = true })
    await a.node.mailbox.broadcast('all', Buffer.alloc(0))
    assert.deepEqual(await all, ['node-a', 'node-a'])
    // a round trip through a's own subscription: its broadcast came back and was dropped
    const back = new Promise<string>((resolve) => a.node.mailbox.on('ping', (from) => resolve(from)))
    await b.node.mailbox.send('node-a', 'ping', Buffer.alloc(0))
    assert.equal(await back, 'node-b')
    assert.equal(toSelf, false)
  })
})
