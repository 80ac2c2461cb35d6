// In-process midge nodes joined into one cluster through a test's own redis-server.
import {once} from 'node:events'
import mqtt from 'mqtt'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import type {BrokerOptions} from '../../src/broker/options.js'
import {joinCluster, type ClusterNode} from '../../src/cluster/index.js'
import {engineOf} from '../../src/broker/internal.js'

export interface TestNode {
  broker: Broker
  node: ClusterNode
  url: string
  close(): Promise<void>
}

/** A broker on a free loopback port, joined to the cluster on `redisUrl`. */
export async function startNode(redisUrl: string, id: string, options: Partial<BrokerOptions> = {}, heartbeatMs = 200): Promise<TestNode> {
  const broker = createBroker(options)
  const address = await broker.listen({port: 0})
  // a short heartbeat, so a killed node is seen gone soon; the default TTL, so a busy machine's pauses are not deaths
  const node = await joinCluster(broker, {url: redisUrl, nodeId: id, logger: engineOf(broker).options.logger, heartbeatMs})
  return {
    broker, node, url: `mqtt://127.0.0.1:${address.port}`,
    async close() {
      await node.close()
      await broker.close()
    },
  }
}

/** Resolves once `on` has learnt that `holder` holds `filter` (at once if it knows already). */
export async function routeKnown(on: TestNode, holder: TestNode, filter: string): Promise<void> {
  while (!on.node.knows(holder.node.id, filter)) await once(on.node.events, 'routes')
}

/** Resolves once `on` has learnt that `holder` no longer holds `filter`. */
export async function routeGone(on: TestNode, holder: TestNode, filter: string): Promise<void> {
  while (on.node.knows(holder.node.id, filter)) await once(on.node.events, 'routes')
}

/** Resolves once `on` has applied another node's retained change of `topic`. */
export async function retainedChanged(on: TestNode, topic: string): Promise<void> {
  while ((await once(on.node.events, 'retained'))[0] !== topic) { /* another topic */ }
}

/** A client of the `mqtt` package, connected to a node (ended by `end`). */
export async function mqttClient(node: {url: string}, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(node.url, {reconnectPeriod: 0, connectTimeout: 20_000, ...options})
}

export interface Received {
  topic: string
  payload: string
  packet: mqtt.IPublishPacket
}

/** The next `n` messages a client receives. */
export function receive(cl: mqtt.MqttClient, n: number, filter: (topic: string) => boolean = () => true): Promise<Received[]> {
  const got: Received[] = []
  return new Promise((resolve) => {
    const on = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
      if (!filter(topic)) return
      got.push({topic, payload: payload.toString(), packet})
      if (got.length === n) {
        cl.off('message', on)
        resolve(got)
      }
    }
    cl.on('message', on)
  })
}

/** Resolves once `sub` has received a message on `topic`, publishing a probe from `pub` until then. */
export async function routed(pub: mqtt.MqttClient, sub: mqtt.MqttClient, topic: string): Promise<void> {
  let heard = false
  const on = (t: string) => { if (t === topic) heard = true }
  sub.on('message', on)
  while (!heard) {
    await pub.publishAsync(topic, 'probe', {qos: 0})
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  sub.off('message', on)
}

/**
 * A QoS 1 stream of `n` messages ('0', '1', ... on stream/n, then 'end') from `pub` to `sub`, `window`
 * publishes in flight at once; `during(acknowledged)` is called after each PUBACK and `beforeEnd`
 * awaited before the 'end' marker. Returns the numbers `sub` received up to the marker, in order.
 */
export async function qos1Stream(pub: mqtt.MqttClient, sub: mqtt.MqttClient, options: {n: number; window: number;
  during?: (acknowledged: number) => void; beforeEnd?: () => Promise<unknown>}): Promise<number[]> {
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
  let next = 0
  let acknowledged = 0
  const sender = async (): Promise<void> => {
    while (next < options.n) {
      await pub.publishAsync('stream/n', String(next++), {qos: 1})
      options.during?.(++acknowledged)
    }
  }
  await Promise.all(Array.from({length: options.window}, sender))
  await options.beforeEnd?.()
  // sent after every other message was acknowledged: it arrives after them
  await pub.publishAsync('stream/n', 'end', {qos: 1})
  await ended
  return received
}
