import {counter, gauge, type MetricFamily} from '../broker/metric-family.js'
import type {ClusterCounters} from './node-types.js'

/** What a node's /metrics families are made of (ClusterNode.metrics). */
export interface ClusterMetricsState {
  id: string
  /** Redis answers and the routes are current. */
  up: boolean
  /** Nodes in the cluster as this node sees them, itself included. */
  nodes: number
  /** Filters of other nodes in the route cache. */
  routes: number
  retainedUnsynced: number
  forwarding: {readonly unconfirmedBatches: number; readonly resends: {resent: number; gaps: number; duplicates: number}}
  counters: ClusterCounters
  links: {readonly up: number; readonly counts: {link: number; shed: number; refused: number}} | undefined
  /** Frames sent through Redis (no link up to their node). */
  viaRedis: number
}

/** The cluster's /metrics families of one node. */
export function clusterMetrics(s: ClusterMetricsState): MetricFamily[] {
  return [
    {name: 'midge_node_info', help: 'This node of the cluster (value 1; the node label names it).', type: 'gauge', samples: [{labels: {node: s.id}, value: 1}]},
    gauge('midge_cluster_connected', 'Whether Redis answers and the routes are current (1), or the node serves local clients only (0).', s.up ? 1 : 0),
    gauge('midge_cluster_nodes', 'Nodes in the cluster as this node sees them, itself included.', s.nodes),
    gauge('midge_cluster_routes', 'Filters of other nodes in this node\'s route cache.', s.routes),
    gauge('midge_cluster_retained_unsynced', 'Retained messages set or cleared on this node and not yet written to Redis (kept while it is away).', s.retainedUnsynced),
    gauge('midge_cluster_batches_unconfirmed', 'Batches of messages sent to other nodes and not yet confirmed by them (kept to be sent again).', s.forwarding.unconfirmedBatches),
    counter('midge_cluster_batches_resent_total', 'Batches sent again to another node that may have missed them.', s.forwarding.resends.resent),
    counter('midge_cluster_batches_gaps_total', 'Batches from other nodes that came after a missing one (dropped; a resend asked for).', s.forwarding.resends.gaps),
    counter('midge_cluster_batches_duplicates_total', 'Batches from other nodes received again (dropped).', s.forwarding.resends.duplicates),
    counter('midge_cluster_messages_forwarded_total', 'Messages sent to another node (one per node that wanted it).', s.counters.forwarded),
    counter('midge_cluster_messages_received_total', 'Messages received from other nodes.', s.counters.received),
    counter('midge_cluster_messages_dropped_total', 'QoS 1/2 messages for other nodes not kept while Redis was away, their node\'s --cluster-ack-window being full.', s.counters.dropped),
    gauge('midge_cluster_links_up', 'Direct links from this node to other nodes that are up (their messages do not go through Redis).', s.links?.up ?? 0),
    {name: 'midge_cluster_frames_sent_total', help: 'Batches of messages and confirmations sent to other nodes, by transport: a direct link, or Redis (no link up to that node).', type: 'counter',
      samples: [{labels: {via: 'link'}, value: s.links?.counts.link ?? 0}, {labels: {via: 'redis'}, value: s.viaRedis}]},
    counter('midge_cluster_link_batches_shed_total', 'Batches of QoS 0 messages only sent to another node as their number alone (their messages dropped, at most once), its link holding over 8 MiB unsent.', s.links?.counts.shed ?? 0),
    counter('midge_cluster_links_refused_total', 'Connections to this node\'s link port refused (no handshake, a wrong secret or node id, bytes that are not a handshake).', s.links?.counts.refused ?? 0),
    counter('midge_cluster_messages_undecodable_total', 'Messages from other nodes that could not be read (dropped).', s.counters.undecodable),
  ]
}
