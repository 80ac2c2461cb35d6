import {randomUUID} from 'node:crypto'
import type {ChainableCommander, Redis} from 'ioredis'
import {BufferedStore} from '../broker/store/buffered.js'
import {StoreError} from '../broker/store/errors.js'
import type {Backend, SessionRows, WriteOp} from '../broker/store/write-ops.js'
import type {StoredMessage, StoredSessionState} from '../broker/store/types.js'
import {decodeMessage, decodeOptions, decodeOutbound, decodeSession} from './redis-rows.js'
import {answersWithin, connectRedis, isCommandTimeout, RedisAborted, RedisTimeout, REDIS_COMMAND_TIMEOUT_MS, REDIS_START_TIMEOUT_MS} from './redis-connect.js'
import {RedisKeys} from './redis-keys.js'
import {defineScripts, execute, REWRITE_CHUNK, splitAtSessions, transaction, type Scripted} from './redis-transaction.js'

export {RedisKeys} from './redis-keys.js'

/** The layout version this midge writes under a prefix (`<prefix>:schema`). */
export const REDIS_SCHEMA_VERSION = 1

/** Each open store takes its own range of ids: range n is [n * 2^32, (n + 1) * 2^32). */
const ID_RANGE = 2 ** 32
const LOCK_MS = 15_000

export interface RedisStoreOptions {
  /** A connected ioredis client (the caller closes it) or a redis:// URL (the store opens and closes its own). */
  redis: Redis | string
  /** Namespace of every key (default `midge`): `<prefix>:sessions`, `<prefix>:out`, ... */
  prefix?: string
  /** This broker (cluster node). One open store per node id and prefix: a second is refused ('locked'). */
  nodeId: string
  /**
   * true (default): every stored session is loaded at open, as the SQLite store does (one broker on
   * Redis). false, a cluster node: only those this node id held when it stopped; the others are loaded
   * with loadSession() when their clients connect here.
   */
  loadAll?: boolean
  /**
   * false: retained messages are not stored here (a cluster node: part 1 keeps them in its own hash,
   * `midge:retained`, the same key as this store's under the prefix `midge`). Default true.
   */
  retained?: boolean
  /** With a URL: how long the opening waits for Redis to answer before it fails (default 10 s). */
  timeoutMs?: number
  /**
   * With a URL: how long a command (a commit) waits for Redis to answer (default 10 s). A commit without
   * an answer fails (StoreError 'unavailable': nothing it carried is acknowledged) and the connection is
   * made again, so that a cluster node's recovery runs once Redis answers.
   */
  commandTimeoutMs?: number
  /** With a URL: aborting it stops the opening at once (RedisAborted; a node stopped while it waits for Redis). */
  signal?: AbortSignal
  /** Sessions per MULTI/EXEC when a cluster node writes what it holds again after an outage (default 500). */
  rewriteChunk?: number
}

// refreshed, or taken again when it expired while Redis was away (or Redis came back without it)
const KEEP_RANGE = `if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end return 0`
const REFRESH_LOCK = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] or not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0`
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** Applies batches as one MULTI/EXEC each, sent without waiting for the previous one; reads rows back. */
class RedisBackend implements Backend {
  readonly pipelined = true
  /** The next commit is a node's rewrite of what it holds: see commit(). */
  chunked = false
  /** A rewrite being sent: later commits wait for it. */
  private rewriting: Promise<unknown> | undefined
  private lockTimer: NodeJS.Timeout | undefined

  constructor(readonly redis: Scripted, readonly keys: RedisKeys, private readonly loadAll: boolean, private readonly nodeId: string,
    private readonly ownsClient: boolean, private readonly lockKey: string, private readonly lockToken: string, private readonly storesRetained = true,
    private readonly rewriteChunk = REWRITE_CHUNK) {
    this.lockTimer = setInterval(() => {
      redis.eval(REFRESH_LOCK, 1, lockKey, lockToken, String(LOCK_MS)).catch(() => undefined)
    }, LOCK_MS / 3)
    this.lockTimer.unref()
  }

  /**
   * One MULTI/EXEC (redis-transaction.ts). While `chunked` (a node's rewrite after an outage): one per
   * `rewriteChunk` sessions, each built and sent once the one before it was answered, so that neither
   * Redis nor this process is held by the whole state at once and each waits its own command timeout;
   * the commits after it wait for it, so that Redis applies everything in order.
   */
  async commit(ops: readonly WriteOp[]): Promise<void> {
    if (this.chunked) {
      const run = (async () => { for (const part of splitAtSessions(ops, this.rewriteChunk)) await this.send(part) })()
      const rewriting = this.rewriting = run.catch(() => undefined)
      try {
        return await run
      } finally {
        if (this.rewriting === rewriting) this.rewriting = undefined
      }
    }
    if (this.rewriting !== undefined) await this.rewriting
    return this.send(ops)
  }

  private async send(ops: readonly WriteOp[]): Promise<void> {
    try {
      await execute(transaction(this.redis, this.keys, ops, this.storesRetained))
    } catch (caught) {
      const error = caught as StoreError
      if (!isCommandTimeout(error.cause)) throw error
      // a Redis that accepts but does not answer: the commit fails (not acknowledged), and the
      // connection is made again, so that 'close' then 'ready' tell a cluster node to recover
      const ms = this.redis.options.commandTimeout ?? 0
      if (this.redis.status === 'ready') this.redis.disconnect(true)
      throw new StoreError('unavailable', `Redis did not answer a commit within ${ms / 1000} s`, {cause: error})
    }
  }

  async loadSessions(): Promise<SessionRows> {
    // a cluster node: only the sessions it held when it stopped (restarted with the same node id)
    if (!this.loadAll) return this.loadClients(await this.redis.smembers(this.keys.owned(this.nodeId)))
    const clientIds = await this.redis.hkeys(this.keys.sessions)
    return this.loadClients(clientIds, true)
  }

  /** The rows of these clients (all outbound rows and messages when `everything`: orphans included, for the index to clean up). */
  async loadClients(clientIds: readonly string[], everything = false): Promise<SessionRows> {
    const k = this.keys
    const p = this.redis.pipeline()
    if (clientIds.length > 0) p.hmget(k.sessions, ...clientIds)
    for (const c of clientIds) p.hgetall(k.subscriptions(c)).smembers(k.inbound(c))
    if (everything) p.hgetall(k.out).hgetall(k.outMessages).hgetall(k.messages)
    else for (const c of clientIds) p.smembers(k.outIds(c))
    const replies = await exec(p)
    let i = 0
    const rows: SessionRows = {sessions: [], subscriptions: [], messages: new Map(), outbound: [], inbound: []}
    const sessionTexts = clientIds.length > 0 ? replies[i++] as Array<string | null> : []
    clientIds.forEach((c, n) => {
      const text = sessionTexts[n]
      if (text != null) rows.sessions.push(parse(() => decodeSession(text), k.sessions, c))
      const subs = replies[i++] as Record<string, string>
      for (const [filter, o] of Object.entries(subs)) rows.subscriptions.push({clientId: c, filter, options: parse(() => decodeOptions(o), k.subscriptions(c), filter)})
      for (const id of replies[i++] as string[]) rows.inbound.push({clientId: c, packetId: Number(id)})
    })
    let metas: Array<[string, string]>
    let inline: Record<string, string>
    let messages: Record<string, string>
    if (everything) {
      metas = Object.entries(replies[i++] as Record<string, string>)
      inline = replies[i++] as Record<string, string>
      messages = replies[i++] as Record<string, string>
    } else {
      const ids = clientIds.flatMap(() => replies[i++] as string[])
      ;({metas, inline, messages} = await this.readOutbound(ids))
    }
    for (const [id, text] of metas) {
      const message = inline[id] === undefined ? undefined : parse(() => decodeMessage(inline[id]!), k.outMessages, id)
      rows.outbound.push(parse(() => decodeOutbound(Number(id), text, message), k.out, id))
    }
    rows.outbound.sort((a, b) => a.id - b.id)
    for (const [id, text] of Object.entries(messages)) rows.messages.set(Number(id), parse(() => decodeMessage(text), k.messages, id))
    return rows
  }

  private async readOutbound(ids: string[]): Promise<{metas: Array<[string, string]>; inline: Record<string, string>; messages: Record<string, string>}> {
    const k = this.keys
    if (ids.length === 0) return {metas: [], inline: {}, messages: {}}
    const [metaTexts, inlineTexts] = await exec(this.redis.pipeline().hmget(k.out, ...ids).hmget(k.outMessages, ...ids)) as [Array<string | null>, Array<string | null>]
    const metas: Array<[string, string]> = []
    const inline: Record<string, string> = {}
    const shared = new Set<string>()
    ids.forEach((id, n) => {
      const meta = metaTexts[n]
      if (meta == null) return
      metas.push([id, meta])
      const text = inlineTexts[n]
      if (text != null) inline[id] = text
      else shared.add(parse(() => String((JSON.parse(meta) as {m: string}).m), k.out, id))
    })
    const messages: Record<string, string> = {}
    if (shared.size > 0) {
      const list = [...shared]
      const texts = await this.redis.hmget(k.messages, ...list)
      list.forEach((id, n) => { if (texts[n] != null) messages[id] = texts[n]! })
    }
    return {metas, inline, messages}
  }

  async loadRetained(): Promise<StoredMessage[]> {
    if (!this.storesRetained) return []
    const all = await this.redis.hgetall(this.keys.retained)
    return Object.entries(all).map(([topic, text]) => parse(() => decodeMessage(text), this.keys.retained, topic))
  }

  async close(): Promise<void> {
    clearInterval(this.lockTimer)
    try {
      // Redis away: not waited for (the lock expires on its own)
      if (this.redis.status === 'ready') await this.redis.eval(RELEASE_LOCK, 1, this.lockKey, this.lockToken)
    } catch {
      // Redis gone: the lock expires on its own
    } finally {
      if (this.ownsClient) this.redis.disconnect()
    }
  }
}

async function exec(p: ChainableCommander): Promise<unknown[]> {
  const results = await p.exec()
  if (results === null) throw new StoreError('failed', 'the Redis pipeline was aborted')
  return results.map(([error, value]) => {
    if (error) throw new StoreError('failed', `Redis refused a read: ${error.message}`, {cause: error})
    return value
  })
}

function parse<T>(fn: () => T, key: string, field: string): T {
  try {
    return fn()
  } catch (error) {
    throw new StoreError('corrupt', `Redis key ${key} field ${field} is not a midge record (${(error as Error).message}); refusing to use it`, {cause: error})
  }
}

/**
 * Broker state in Redis (ioredis), under a key prefix: the SQLite store's semantics (writes buffered,
 * one MULTI/EXEC per flush, durable() once Redis answered EXEC), plus what a cluster node needs:
 * sessions loaded one at a time as their clients connect (loadSession) and handed on to another node
 * (releaseSession). Ids are unique across every store sharing the prefix, so a session's rows keep
 * their ids wherever it goes, and a message stored once for several sessions is reference-counted in
 * Redis, so it lives as long as any session on any node needs it.
 */
export class RedisStore extends BufferedStore {
  /** The range of ids this store takes them from (see ID_RANGE). */
  private idRange = 0

  private constructor(private readonly redisBackend: RedisBackend, readonly nodeId: string) {
    super(redisBackend)
  }

  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const owns = typeof options.redis === 'string'
    let client: Redis
    try {
      client = typeof options.redis === 'string'
        ? await connectRedis(options.redis, {timeoutMs: options.timeoutMs, commandTimeoutMs: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS, signal: options.signal})
        : options.redis
    } catch (error) {
      if (error instanceof RedisAborted) throw error
      throw new StoreError('failed', (error as Error).message, {cause: error})
    }
    const redis = defineScripts(client)
    const keys = new RedisKeys(options.prefix ?? 'midge')
    const token = randomUUID()
    const lockKey = keys.lock(options.nodeId)
    let backend: RedisBackend | undefined
    try {
      // a Redis that stops answering while the store opens its own connection fails the opening (one line), not hangs it
      const bounded = <T>(step: () => Promise<T>): Promise<T> => owns ? answersWithin(redis, options.timeoutMs ?? REDIS_START_TIMEOUT_MS, step, options.signal) : step()
      return await bounded(async () => {
        const version = Number(await redis.get(keys.schema) ?? 0)
        if (version > REDIS_SCHEMA_VERSION) {
          throw new StoreError('newer-schema', `the Redis keys under ${keys.prefix} have layout version ${version}, newer than the ${REDIS_SCHEMA_VERSION} this midge supports; upgrade midge or use another prefix`)
        }
        if (await redis.set(lockKey, token, 'PX', LOCK_MS, 'NX') !== 'OK') {
          throw new StoreError('locked', `node ${options.nodeId} already has the store under ${keys.prefix} open (is another broker running with this node id?)`)
        }
        backend = new RedisBackend(redis, keys, options.loadAll ?? true, options.nodeId, owns, lockKey, token, options.retained ?? true, options.rewriteChunk)
        const store = new RedisStore(backend, options.nodeId)
        await store.init() // reads only: a damaged record is refused before anything is written
        if (version === 0) await redis.set(keys.schema, String(REDIS_SCHEMA_VERSION))
        store.idRange = await redis.incr(keys.idRanges)
        store.startIdsAt(store.idRange * ID_RANGE)
        return store
      })
    } catch (caught) {
      const error = caught instanceof RedisTimeout ? new StoreError('failed', `Redis does not answer (${caught.message} while opening the store)`, {cause: caught}) : caught
      if (backend !== undefined) await backend.close()
      else {
        if (owns) redis.disconnect()
      }
      throw error instanceof StoreError || error instanceof RedisAborted ? error : new StoreError('failed', `cannot open the Redis store: ${(error as Error).message}`, {cause: error})
    }
  }

  get redis(): Redis {
    return this.redisBackend.redis
  }

  get keys(): RedisKeys {
    return this.redisBackend.keys
  }

  /** Reads one session's rows (written by whichever node had it) into this store; undefined if there is none. */
  async loadSession(clientId: string): Promise<StoredSessionState | undefined> {
    const rows = await this.redisBackend.loadClients([clientId])
    if (rows.sessions.length === 0) return undefined
    return this.adopt(rows)[0]
  }

  // --- after a Redis outage (cluster/recovery.ts) ----------------------------------------------------

  /** Commits nothing more, and keeps no write in memory, until rewrite(); resolves once nothing is on its way to Redis. */
  async suspendCommits(reason: string): Promise<void> {
    this.suspend(reason)
    await this.drained()
  }

  /**
   * Starts writing afresh what this node holds, after its rows were deleted from Redis: forgets every
   * session here and clears the failure, and takes this store's id range again in Redis (which may have
   * come back without its counter), so that no store opened later takes it.
   */
  async rewrite(): Promise<void> {
    await this.redis.eval(KEEP_RANGE, 1, this.keys.idRanges, String(this.idRange))
    this.resetIndex()
  }

  /**
   * flush() for the engine's rewrite after rewrite(): one MULTI/EXEC per `rewriteChunk` sessions (a node
   * with 100k sessions builds no single enormous transaction), one after the other, before any later commit.
   */
  flushRewrite(): Promise<void> {
    this.redisBackend.chunked = true
    try {
      return this.flush() // a pipelined backend's commit starts at once
    } finally {
      this.redisBackend.chunked = false
    }
  }

  /** Commits what is buffered, then forgets one session here: its rows stay in Redis for the node it moves to. */
  async releaseSession(clientId: string): Promise<void> {
    await this.flush()
    this.forget(clientId)
  }
}
