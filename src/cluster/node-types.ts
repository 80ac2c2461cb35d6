import type {Logger} from '../broker/logger.js'
import type {LinkAddress} from './links.js'
import type {RedisFactory} from './redis.js'

/** Direct links between nodes (--cluster-link, --cluster-advertise): where this node listens, what the others dial. */
export interface LinkSettings {
  listen: LinkAddress
  /** Default: the listening host and port. */
  advertise?: {host: string; port?: number}
}

/** Where nodes listen for links by default: this machine only (nodes on one machine, --workers, link by themselves). */
export const DEFAULT_LINK: LinkSettings = {listen: {host: '127.0.0.1', port: 0}}

export interface ClusterNodeOptions {
  id: string
  /** The Redis URL as given (logged without its password). */
  url: string
  redis: RedisFactory
  logger: Logger
  /** Heartbeat period (default 1000 ms); a node is gone after `ttlMs` without one (default 5000 ms). */
  heartbeatMs?: number
  ttlMs?: number
  /**
   * QoS 1/2 messages another node may have unconfirmed before the PUBACKs of further ones wait for it
   * (ForwardLog; default 10,000; 0: every PUBACK waits for every node the message went to).
   */
  ackWindow?: number
  /** Direct links to the other nodes for forwarded messages (default DEFAULT_LINK); 'off': Redis only. */
  link?: LinkSettings | 'off'
  /**
   * Takes over the sessions of a node that went (RedisSessionDirectory.adoptDeadNode); the publishers
   * whose acknowledgements waited for that node are disconnected once it settles, so that what they
   * send again finds those sessions where they are now. Without it, at once.
   */
  adoptDead?: (node: string) => Promise<unknown>
  /** How long start() waits for the first sync before it returns, the node serving its local clients (default 10 s). */
  startTimeoutMs?: number
}

export interface ClusterEvents {
  'node-up': [node: string]
  'node-down': [node: string]
  /** This node's cache of other nodes' filters changed (a notification, a node's table loaded or dropped). */
  routes: []
  /** Another node set or cleared the retained message of a topic, and this node applied it. */
  retained: [topic: string]
  /** Redis answers again and this node's view of the cluster was loaded afresh. */
  synced: []
  /** Redis is gone: this node serves its local clients only. */
  degraded: [reason: string]
  /** The other nodes took this node for dead (its heartbeat expired): it joins again. */
  'declared-dead': []
}

/** Counters of what went between this node and the others. */
export interface ClusterCounters {
  forwarded: number
  received: number
  undecodable: number
  /** QoS 1/2 messages for other nodes not kept while Redis was away (their window full). */
  dropped: number
}
