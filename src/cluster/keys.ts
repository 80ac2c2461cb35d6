/** The cluster's names in Redis: every key and channel starts with `midge:`. */

/** The secret with which nodes prove to each other that they belong to the cluster (links.ts; set once, SET NX). */
export const CLUSTER_SECRET = 'midge:cluster:secret'
/** Set of node ids that joined and have not been seen gone. */
export const NODES = 'midge:nodes'
/** A node's heartbeat: a string with a TTL, refreshed while the node lives. */
export const nodeKey = (node: string): string => `midge:node:${node}`
/** A node's filters: a hash of filter -> 1 (the shared ones as `$share/{group}/{filter}`). */
export const routesKey = (node: string): string => `midge:routes:${node}`
/** Retained messages: a hash of topic -> message (wire.ts). */
export const RETAINED = 'midge:retained'
/** The life of that hash: a random id, gone when Redis lost it (retained.ts). */
export const RETAINED_GENERATION = 'midge:retained:gen'
/** Set (with a TTL) while the nodes write their copies back after Redis lost the hash. */
export const RETAINED_RESTORING = 'midge:retained:restoring'
/** Topics cleared while the nodes write their copies back: a hash of topic -> 1, with the same TTL. */
export const RETAINED_CLEARED = 'midge:retained:cleared'
/** Counter numbering the retained changes (sent with each on RETAINED_CHANNEL). */
export const RETAINED_SEQ = 'midge:retained:seq'

/** Channel of route changes and node arrivals/departures (JSON). */
export const CONTROL_CHANNEL = 'midge:ctl'
/** Channel of retained changes (`N|message`: the change's number, then wire.ts; an empty payload clears). */
export const RETAINED_CHANNEL = 'midge:retained'
/** A node's channel of forwarded messages (wire.ts). */
export const nodeChannel = (node: string): string => `midge:n:${node}`
/** A node's channel of messages of other cluster features (part 2: sessions), see NodeMessages. */
export const mailChannel = (node: string): string => `midge:m:${node}`
/** Messages of other cluster features to every node. */
export const MAIL_ALL = 'midge:m:*'

/** A route or membership change, as sent on CONTROL_CHANNEL. */
export type ControlMessage =
  | {t: '+' | '-'; n: string; f: string}
  | {t: 'up' | 'down'; n: string}
