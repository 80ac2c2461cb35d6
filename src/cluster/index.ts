// The cluster on Redis: what `broker start --cluster` and other cluster features (sessions) use.
export {joinCluster, generateNodeId, type JoinOptions} from './join.js'
export {ClusterNode, type ClusterEvents, type ClusterCounters} from './node.js'
export {NodeMailbox, type MailHandler} from './mailbox.js'
export {checkClusterUrl, redisFactory, type RedisFactory} from './redis.js'
export * as keys from './keys.js'
export {startClusterNode, type ClusterNodeSettings, type StartedClusterNode} from './start.js'
