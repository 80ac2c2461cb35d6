/** The cluster's names in Redis: every key and channel starts with `midge:`. */

/** Set of node ids that joined and have not been seen gone. */
export const NODES = 'midge:nodes'
/** A node's heartbeat: a string with a TTL, refreshed while the node lives. */
export const nodeKey = (node: string): string => `midge:node:${node}`
/** A node's filters: a hash of filter -> 1 (the shared ones as `$share/{group}/{filter}`). */
export const routesKey = (node: string): string => `midge:routes:${node}`
/** Retained messages: a hash of topic -> message (wire.ts). */
export const RETAINED = 'midge:retained'

/** Channel of route changes and node arrivals/departures (JSON). */
export const CONTROL_CHANNEL = 'midge:ctl'
/** Channel of retained changes (wire.ts; an empty payload clears). */
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
