// In-process midge nodes joined into one cluster through a test's own redis-server.
import {once} from 'node:events'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import type {BrokerOptions} from '../../src/broker/options.js'
import {joinCluster, type ClusterNode} from '../../src/cluster/index.js'

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
  const node = await joinCluster(broker, {url: redisUrl, nodeId: id, logger: broker.options.logger, heartbeatMs, ttlMs: heartbeatMs * 5})
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
  while (!on.node.knows(holder.node.id, filter)) await once(on.node.events, 'route')
}

/** Resolves once `on` has learnt that `holder` no longer holds `filter`. */
export async function routeGone(on: TestNode, holder: TestNode, filter: string): Promise<void> {
  while (on.node.knows(holder.node.id, filter)) await once(on.node.events, 'route')
}
