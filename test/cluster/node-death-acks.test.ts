// A node dies with messages of another node's publisher on their way to it: with --cluster-ack-window 0
// (every PUBACK waits until every node the message went to has it) those PUBACKs are never sent. The
// publisher is disconnected (0x80) and sends them again, and they reach the dead node's subscriber
// where its session is now. Three real `broker start --cluster` processes, clients of the `mqtt` package.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import mqtt from 'mqtt'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {freePort} from '../helpers/mosquitto.js'
import {parsePrometheus, sample} from '../helpers/prometheus.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {mqttClient, routed} from '../helpers/cluster.js'

/** Messages published while the subscriber's node is frozen, then killed. */
const FROZEN = 5

for (const qos of [1, 2] as const) {
  // QoS 2 from a publisher whose session outlives the connection: its packet ids must not make the
  // PUBLISHes it sends again duplicates [MQTT-4.3.3-9]
  const publisher = qos === 1 ? {clientId: 'pub'} : {clientId: 'pub-kept', clean: false, properties: {sessionExpiryInterval: 3600}}
  test(`a node killed before it confirmed: the publisher gets no ${qos === 1 ? 'PUBACK' : 'PUBREC'}, sends again, and the subscriber gets every message where its session went (QoS ${qos})`, {timeout: 90_000}, async () => {
    let redis: RedisServer | undefined
    const brokers: MidgeBroker[] = []
    const clients: mqtt.MqttClient[] = []
    try {
      redis = await startRedis()
      for (const id of ['a', 'b', 'c']) brokers.push(await startMidgeBroker(['--cluster', redis.url, '--node-id', id, '--cluster-ack-window', '0']))
      const [a, b, c] = brokers as [MidgeBroker, MidgeBroker, MidgeBroker]
      const session = {protocolVersion: 5 as const, clientId: 'durable', clean: false, properties: {sessionExpiryInterval: 3600}}
      const sub = await mqttClient(b, session)
      sub.on('error', () => undefined)
      await sub.subscribeAsync('d/#', {qos: 2})
      const pub = await mqttClient(a, {protocolVersion: 5, reconnectPeriod: 100, ...publisher})
      const disconnects: number[] = []
      pub.on('disconnect', (packet) => disconnects.push(packet.reasonCode ?? 0))
      pub.on('error', () => undefined)
      clients.push(sub, pub)
      await routed(pub, sub, 'd/probe')
      for (let i = 0; i < 3; i++) await pub.publishAsync('d/n', `before ${i}`, {qos})

      // b reads nothing more and confirms nothing: a holds these PUBACKs (window 0)
      b.child.kill('SIGSTOP')
      let acknowledged = 0
      const frozen = Array.from({length: FROZEN}, (_, i) => pub.publishAsync('d/n', `frozen ${i}`, {qos}).then(() => { acknowledged++ }))
      await new Promise((resolve) => setTimeout(resolve, 500))
      assert.equal(acknowledged, 0, 'no PUBACK while the subscriber\'s node has not confirmed')
      await b.stop('SIGKILL')

      // the subscriber resumes its session on c; a takes b for dead after its heartbeat TTL
      const got: string[] = []
      const again = await mqttClient(c, session)
      clients.push(again)
      again.on('message', (_topic, payload) => got.push(payload.toString()))
      await Promise.all(frozen)
      // after every other message was acknowledged (and so sent again): it arrives after them
      await pub.publishAsync('d/n', 'end', {qos})
      while (!got.includes('end')) await new Promise((resolve) => setTimeout(resolve, 50))
      for (let i = 0; i < FROZEN; i++) assert.ok(got.includes(`frozen ${i}`), `frozen ${i} reached the subscriber (got ${JSON.stringify(got)})`)
      assert.deepEqual(disconnects, [0x80], 'the publisher was disconnected once, unanswered')
    } finally {
      for (const cl of clients) cl.end(true)
      for (const br of brokers) await br.stop('SIGKILL')
      await redis?.stop()
    }
  })
}

/** Persistent sessions on the node that dies: enough that adopting them takes a while. */
const SESSIONS = 300

test('a message published after a node was seen dead and before its sessions were adopted reaches every one of them (window 0)', {timeout: 120_000}, async () => {
  let redis: RedisServer | undefined
  const brokers: MidgeBroker[] = []
  const clients: mqtt.MqttClient[] = []
  try {
    redis = await startRedis()
    const http = await freePort()
    const queue = ['--cluster-ack-window', '0', '--max-queued-messages', '0']
    const a = await startMidgeBroker(['--cluster', redis.url, '--node-id', 'a', '--http-port', String(http), ...queue])
    const b = await startMidgeBroker(['--cluster', redis.url, '--node-id', 'b', ...queue])
    brokers.push(a, b)
    const metric = async (name: string): Promise<number> => sample(parsePrometheus(await (await fetch(`http://127.0.0.1:${http}/metrics`)).text()), name) ?? 0
    const session = (i: number) => ({protocolVersion: 5 as const, clientId: `g${i}`, clean: false, properties: {sessionExpiryInterval: 3600}})
    // offline sessions on b, subscribed to g/#
    for (let i = 0; i < SESSIONS; i += 20) {
      await Promise.all(Array.from({length: Math.min(20, SESSIONS - i)}, async (_, k) => {
        const s = await mqttClient(b, session(i + k))
        await s.subscribeAsync('g/#', {qos: 1})
        await s.endAsync()
      }))
    }
    const pub = await mqttClient(a, {protocolVersion: 5, clientId: 'pub', reconnectPeriod: 100})
    pub.on('error', () => undefined)
    clients.push(pub)
    while (await metric('midge_cluster_routes') === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    await pub.publishAsync('g/x', 'before', {qos: 1}) // confirmed by b: queued in every session

    await b.stop('SIGKILL')
    // a sees b gone, then adopts its sessions: published in between
    while (await metric('midge_cluster_nodes') > 1) await new Promise((resolve) => setTimeout(resolve, 10))
    await pub.publishAsync('g/x', 'gap', {qos: 1})
    while (await metric('midge_sessions') < SESSIONS + 1) await new Promise((resolve) => setTimeout(resolve, 50))
    await pub.publishAsync('g/x', 'end', {qos: 1})

    const missing: string[] = []
    for (let i = 0; i < SESSIONS; i += 20) {
      await Promise.all(Array.from({length: Math.min(20, SESSIONS - i)}, async (_, k) => {
        const got: string[] = []
        const s = mqtt.connect(a.url, {...session(i + k), reconnectPeriod: 0})
        s.on('message', (_topic, payload) => got.push(payload.toString()))
        while (!got.includes('end')) await new Promise((resolve) => setTimeout(resolve, 20))
        await s.endAsync()
        if (!got.includes('gap')) missing.push(`g${i + k}: ${JSON.stringify(got)}`)
      }))
    }
    assert.deepEqual(missing, [], `${missing.length} of ${SESSIONS} sessions lost the acknowledged message`)
  } finally {
    for (const cl of clients) cl.end(true)
    for (const br of brokers) await br.stop('SIGKILL')
    await redis?.stop()
  }
})
