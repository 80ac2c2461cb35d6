import {randomBytes} from 'node:crypto'
import type {Broker} from '../broker/broker.js'
import {engineOf} from '../broker/internal.js'
import type {Logger} from '../broker/logger.js'
import {ClusterNode} from './node.js'
import type {LinkSettings} from './node-types.js'
import {redisFactory} from './redis.js'

export interface JoinOptions {
  /** redis://HOST:PORT[/DB] (or rediss://) */
  url: string
  /** Default: generated (12 hex digits). */
  nodeId?: string
  logger: Logger
  heartbeatMs?: number
  ttlMs?: number
  /** See ClusterNodeOptions.ackWindow (--cluster-ack-window). */
  ackWindow?: number
  /** See ClusterNodeOptions.link (--cluster-link, --cluster-advertise). */
  link?: LinkSettings | 'off'
  /** See ClusterNodeOptions.adoptDead. */
  adoptDead?: (node: string) => Promise<unknown>
}

/** How long a node's routing connections wait for Redis to answer a command. */
const COMMAND_TIMEOUT_MS = 10_000

/** A node id: 12 random hex digits. */
export function generateNodeId(): string {
  return randomBytes(6).toString('hex')
}

/**
 * Makes the broker a node of the cluster on the Redis at `url`. Resolves once joined, or once the
 * first connection attempt failed: the node then serves its local clients (degraded) and joins when
 * Redis answers. Throws only for a URL that is not a Redis URL.
 */
export async function joinCluster(broker: Broker, options: JoinOptions): Promise<ClusterNode> {
  const id = options.nodeId ?? generateNodeId()
  // a command Redis does not answer fails after a while (a sync under way is then retried) rather than waiting forever
  const redis = redisFactory(options.url, id, {commandTimeout: COMMAND_TIMEOUT_MS})
  const [pub, sub] = await Promise.all([redis('send'), redis('receive')])
  // the PUBLISHes of one event-loop iteration go to Redis in one write
  pub.options.enableAutoPipelining = true
  sub.options.autoResubscribe = false // sync() subscribes, after it loaded the state the notifications change
  const node = new ClusterNode(broker, pub, sub, {id, url: options.url, redis, logger: options.logger, heartbeatMs: options.heartbeatMs, ttlMs: options.ttlMs, ackWindow: options.ackWindow, link: options.link, adoptDead: options.adoptDead})
  engineOf(broker).joinCluster(node)
  await node.start()
  return node
}
