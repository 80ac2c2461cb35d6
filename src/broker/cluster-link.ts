import type {Message} from './message.js'
import type {MetricFamily} from './metric-family.js'

/**
 * What the engine tells a cluster it belongs to, and asks it (src/cluster implements it; the engine
 * never imports ioredis or src/cluster). Set with `Broker.joinCluster(link)`; without it, a broker
 * is a single node and none of this is called.
 */
export interface ClusterLink {
  /** A (session, filter) pair was added on this node; `filter` as subscribed (`$share/{group}/...` included). */
  subscribed(filter: string): void
  /** A (session, filter) pair was removed on this node. */
  unsubscribed(filter: string): void
  /**
   * A message published on this node (clients, wills, bridges; its retained copy already stored
   * locally): sends it to the other nodes that want it. Returns how many nodes it was sent to.
   * Called before the local routing, which then asks `sharedHere`. `retainedChanged`: a retained
   * message was stored, or the clear found one here to delete.
   */
  published(message: Message, retainedChanged: boolean): number
  /** Whether this node delivers the copy for shared group `group` (`$share/{group}/{filter}`) of the message being routed. */
  sharedHere(group: string, message: Message): boolean
  status(): ClusterStatus
  /** The cluster's families for /metrics (midge_node_info and the like). */
  metrics(): MetricFamily[]
}

/** What /healthz and $SYS say about the cluster. */
export interface ClusterStatus {
  node: string
  /** Whether the cluster's store (Redis) answers; false: the node serves its local clients only (degraded). */
  connected: boolean
  /** Nodes alive, this one included. */
  nodes: number
}
