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
