// Nothing a PUBACK confirmed is lost between nodes. Two real `broker start --cluster` processes on one
// redis-server; a publisher (mqtt.js, MQTT 5) on node A sends a QoS 1 stream to a subscriber on node B,
// and in the middle of it Redis drops one node's subscriber connection (CLIENT KILL): what Redis had to
// send on it is lost, and so is what is published to it until the node has subscribed again. Every
// acknowledged message must still arrive, once and in order.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {Redis} from 'ioredis'
import type mqtt from 'mqtt'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {mqttClient} from '../helpers/cluster.js'

const N = 2000
/** The publisher's messages in flight at most (as a client with a Receive Maximum would). */
const WINDOW = 20

/** Kills the Redis connection named `name` (the nodes name theirs `midge:{node}:{purpose}`), once it is there. */
async function killConnection(admin: Redis, name: string): Promise<void> {
  for (;;) {
    const list = (await admin.client('LIST')) as string
    // made again after the last kill, and subscribed again (`sub=` counts its channels)
    const line = list.split('\n').find((l) => l.includes(` name=${name} `) && !l.includes(' sub=0 '))
    if (line !== undefined) return void await admin.client('KILL', 'ID', /\bid=(\d+)/.exec(line)![1]!)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Resolves once `sub` has received a message on `topic`, publishing a probe from `pub` until then. */
async function routed(pub: mqtt.MqttClient, sub: mqtt.MqttClient, topic: string): Promise<void> {
  let heard = false
  const on = (t: string) => { if (t === topic) heard = true }
  sub.on('message', on)
  while (!heard) {
    await pub.publishAsync(topic, 'probe', {qos: 0})
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  sub.off('message', on)
}

for (const victim of ['b', 'a'] as const) {
  const what = victim === 'b' ? 'the receiving node' : 'the sending node (the confirmations are lost)'
  test(`a QoS 1 stream across nodes loses nothing acknowledged when ${what} loses its Redis subscriber connection`, {timeout: 90_000}, async () => {
    let redis: RedisServer | undefined
    const brokers: MidgeBroker[] = []
    const clients: mqtt.MqttClient[] = []
    let admin: Redis | undefined
    try {
      redis = await startRedis()
      admin = new Redis(redis.url)
      for (const id of ['a', 'b']) brokers.push(await startMidgeBroker(['--cluster', redis.url, '--node-id', id]))
      const [a, b] = brokers as [MidgeBroker, MidgeBroker]
      const sub = await mqttClient(b, {protocolVersion: 5, clientId: 'sub'})
      const pub = await mqttClient(a, {protocolVersion: 5, clientId: 'pub'})
      clients.push(sub, pub)
      await sub.subscribeAsync('stream/#', {qos: 1})
      await routed(pub, sub, 'stream/probe')

      const received: number[] = []
      const ended = new Promise<void>((resolve) => {
        sub.on('message', (topic, payload) => {
          if (topic !== 'stream/n') return
          if (payload.toString() === 'end') resolve()
          else received.push(Number(payload.toString()))
        })
      })
      // at the start of the stream and twice in its middle, with messages on their way
      const kills: Array<Promise<void>> = [killConnection(admin, `midge:${victim}:receive`)]
      let next = 0
      let acknowledged = 0
      const sender = async (): Promise<void> => {
        while (next < N) {
          await pub.publishAsync('stream/n', String(next++), {qos: 1})
          acknowledged++
          if (acknowledged === Math.floor(N / 3) || acknowledged === Math.floor((2 * N) / 3)) kills.push(killConnection(admin!, `midge:${victim}:receive`))
        }
      }
      await Promise.all(Array.from({length: WINDOW}, sender))
      await Promise.all(kills)
      assert.equal(kills.length, 3)
      // sent after every other message was acknowledged: it arrives after them
      await pub.publishAsync('stream/n', 'end', {qos: 1})
      await ended
      assert.deepEqual(received, Array.from({length: N}, (_, i) => i), 'every acknowledged message, once, in order')
    } finally {
      for (const c of clients) c.end(true)
      for (const b of brokers) await b.stop()
      admin?.disconnect()
      await redis?.stop()
    }
  })
}
