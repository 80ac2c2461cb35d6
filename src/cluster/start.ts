import type {Broker} from '../broker/broker.js'
import {engineOf} from '../broker/internal.js'
import type {Logger} from '../broker/logger.js'
import {generateNodeId, joinCluster} from './join.js'
import {nodeKey} from './keys.js'
import type {ClusterNode} from './node.js'
import type {LinkSettings} from './node-types.js'
import {StoreError} from '../broker/store/errors.js'
import {RedisStore} from './redis-store.js'
import {pause, RedisAborted} from './redis-connect.js'
import {SessionRecovery} from './recovery.js'
import {RedisSessionDirectory} from './session-directory.js'

export interface ClusterNodeSettings {
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
  /** How long a commit waits for Redis (RedisStoreOptions.commandTimeoutMs; default 10 s). */
  commandTimeoutMs?: number
  /** Sessions per transaction when the node writes what it holds again after an outage (default 500). */
  rewriteChunk?: number
  /**
   * Aborting it (SIGINT or SIGTERM during `broker start`) stops the start at once, also while it waits
   * for Redis to answer or for an earlier process's store lock: startClusterNode then rejects with a
   * RedisAborted, and leaves nothing open.
   */
  signal?: AbortSignal
}

/** A node of the cluster before its broker exists: what to create the broker with, then join(). */
export interface StartedClusterNode {
  readonly nodeId: string
  /** The broker's store: sessions in Redis, loaded as their clients connect (retained: part 1's hash only). */
  readonly store: RedisStore
  /** The broker's session directory: one owner per client id across the nodes. */
  readonly sessions: RedisSessionDirectory
  /** Joins the cluster (routes, forwarding, heartbeats); a node going down has its sessions and wills adopted. */
  join(broker: Broker): Promise<ClusterNode>
  /**
   * Closes the broker. Its last commit failing because Redis is away is not an error: nothing acknowledged
   * waits on it (acknowledgements wait for their commit), so one line says what was not written; a
   * write that Redis refused still rejects.
   */
  closeBroker(broker: Broker): Promise<void>
  /** After the broker closed: stops the directory (the store is the broker's caller's to close). */
  close(): Promise<void>
}

/**
 * Opens what a node needs before its broker is created: its id, its store in Redis (`loadAll: false`,
 * prefix `midge`, the one part 1's keys use) and the session directory, whose liveness check is part 1's
 * heartbeat key. Throws (one line) when Redis does not answer: sessions live there, so a node cannot serve without it.
 */
export async function startClusterNode(settings: ClusterNodeSettings): Promise<StartedClusterNode> {
  const nodeId = settings.nodeId ?? generateNodeId()
  const log = settings.logger
  // the store owns its connection (closed with it); the directory's commands share it
  const store = await openStore(settings, nodeId, log)
  const redis = store.redis
  let sessions: RedisSessionDirectory
  // stopped meanwhile: its commands fail at once rather than after their timeout
  const stop = (): void => { store.redis.disconnect() }
  settings.signal?.addEventListener('abort', stop, {once: true})
  try {
    if (settings.signal?.aborted) stop()
    sessions = await RedisSessionDirectory.start({
      store, logger: log,
      // part 1's heartbeat: a node is alive while its key (with a TTL) exists
      isNodeAlive: async (id) => id === nodeId || await redis.exists(nodeKey(id)) === 1,
    })
  } catch (error) {
    await store.close()
    throw settings.signal?.aborted ? new RedisAborted(`stopped (${String(settings.signal.reason)}) while waiting for Redis`, {cause: error}) : error
  } finally {
    settings.signal?.removeEventListener('abort', stop)
  }
  let recovery: SessionRecovery | undefined
  return {
    nodeId, store, sessions,
    async join(broker) {
      // Redis back after an outage: what this node holds is written to it again (recovery.ts)
      recovery = new SessionRecovery(engineOf(broker), store, sessions, log)
      let node: ClusterNode | undefined
      // a node going down: its sessions are taken over here (those that no other node takes first)
      const adoptDead = (dead: string): Promise<unknown> => sessions.adoptDeadNode(dead).then((n) => {
        if (n > 0) log.info({node: nodeId, dead, sessions: n}, `cluster: took over ${n} session${n === 1 ? '' : 's'} of node ${dead}`)
      }, (error: Error) => {
        // stopping meanwhile (all --workers stop together): the sessions stay in Redis for whoever starts next
        if (node?.leaving === true) return log.info({node: nodeId, dead}, `cluster: left before taking over the sessions of node ${dead}`)
        log.error({node: nodeId, dead, err: error.message}, `cluster: cannot take over the sessions of node ${dead}`)
      })
      node = await joinCluster(broker, {url: settings.url, nodeId, logger: log, heartbeatMs: settings.heartbeatMs, ttlMs: settings.ttlMs, ackWindow: settings.ackWindow, link: settings.link, adoptDead})
      // the other nodes took this one for dead (and may have adopted its sessions): the same check
      node.events.on('declared-dead', () => { recovery?.run().catch(() => undefined) })
      return node
    },
    async closeBroker(broker) {
      try {
        await broker.close()
      } catch (error) {
        if (!(error instanceof StoreError) || error.code !== 'unavailable') throw error
        log.warn({node: nodeId}, `cluster: Redis is unavailable at shutdown (${error.message}): what changed since it went away (none of it acknowledged) is not stored; the sessions in Redis are as last committed`)
      }
    },
    async close() {
      recovery?.stop()
      await sessions.close()
    },
  }
}

/** How long a node waits for the store lock of a process with its id that died (the lock's TTL is 15 s). */
const LOCK_WAIT_MS = 20_000

/**
 * Opens the node's store. Its lock (`midge:lock:{node}`) is refreshed by a live holder every 5 s and
 * expires 15 s after a dead one: a node restarted with the same id (a replaced --workers worker, a
 * killed node started again) waits for it; a live holder still refuses it ('locked') after that.
 */
async function openStore(settings: ClusterNodeSettings, nodeId: string, log: Logger): Promise<RedisStore> {
  const {url, commandTimeoutMs, rewriteChunk, signal} = settings
  const deadline = Date.now() + LOCK_WAIT_MS
  for (let logged = false; ; logged = true) {
    try {
      return await RedisStore.open({redis: url, nodeId, prefix: 'midge', loadAll: false, retained: false, commandTimeoutMs, rewriteChunk, signal})
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== 'locked' || Date.now() > deadline) throw error
      if (!logged) log.warn({node: nodeId}, `cluster: node ${nodeId}'s store is locked by an earlier process with this id; waiting up to ${LOCK_WAIT_MS / 1000} s for its lock to expire`)
      await pause(1000, signal)
      if (signal?.aborted) throw new RedisAborted(`stopped (${String(signal.reason)}) while waiting for the store lock of node ${nodeId}`)
    }
  }
}
