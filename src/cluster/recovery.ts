import type {WillMessage} from '../codec/index.js'
import type {BrokerEngine} from '../broker/internal.js'
import type {Logger} from '../broker/logger.js'
import type {RedisStore} from './redis-store.js'
import {encodeWill, type RedisSessionDirectory} from './session-directory.js'
import {sessionScripts} from './session-scripts.js'

/** Client ids per reclaim script call: one call is one Redis command, which blocks Redis while it runs. */
const CHUNK = 500

export interface RecoveryResult {
  /** Sessions written to Redis again (those that outlive their connection). */
  sessions: number
  /** Their queued and in-flight messages. */
  messages: number
  /** Sessions held here that another node claimed or adopted meanwhile: dropped here, their clients disconnected (v5: 0x8E). */
  lost: number
  /** Sessions that ended here while Redis was away: deleted from Redis. */
  ended: number
}

/**
 * A cluster node's sessions after Redis was away (or after the other nodes took this one for dead):
 * Redis may have lost writes (restarted without them), the store's commit chain may have failed (then
 * nothing more was acknowledged), and other nodes may have taken sessions held here. When Redis answers
 * again the node, with claims and hand-overs held back meanwhile:
 *
 * 1. stops committing (what is buffered is dropped: it is all written again below);
 * 2. for every session it holds, asks Redis atomically (session-scripts.ts, RECLAIM) whether another
 *    node's claim replaced its own: such a session is dropped here and its client disconnected (the
 *    later claim wins, as in a takeover); every other one has its rows deleted and its owner key kept
 *    or set again (with a new claim number when Redis lost it), its connection's will recorded again;
 *    sessions that ended here meanwhile are deleted from Redis if still owned here;
 * 3. forgets its store's index, clears the chain's failure, and has the engine write the whole state of
 *    each session it holds (record, subscriptions, QoS 2 ids, queued and in-flight messages) as one commit.
 *
 * Nothing acknowledged is lost: an acknowledgement was sent only after its commit, and what was
 * committed is either still in Redis or written again here; nothing is acknowledged while the chain is
 * failed, and the acknowledgements after recovery wait for the rewrite's commit like any other.
 */
export class SessionRecovery {
  private running: Promise<void> | undefined
  private again = false
  private dropped = false
  private readonly scripts

  constructor(private readonly broker: BrokerEngine, private readonly store: RedisStore, private readonly directory: RedisSessionDirectory,
    private readonly logger: Logger, private readonly onDone: (r: RecoveryResult) => void = () => {}) {
    this.scripts = sessionScripts(store.redis)
    store.redis.on('close', this.onClose)
    store.redis.on('ready', this.onReady)
  }

  private readonly onClose = (): void => { this.dropped = true }
  private readonly onReady = (): void => {
    if (!this.dropped) return
    this.dropped = false
    this.run().catch(() => undefined)
  }

  /** Stops watching the store's connection. */
  stop(): void {
    this.store.redis.off('close', this.onClose)
    this.store.redis.off('ready', this.onReady)
  }

  /** Runs a recovery now (again after the one under way, if any). Rejects when Redis failed meanwhile (the next reconnection retries). */
  run(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true
      return this.running
    }
    const run = this.recover().finally(() => {
      this.running = undefined
      if (this.directory.recovering === run) this.directory.recovering = undefined
      if (this.again) {
        this.again = false
        this.run().catch(() => undefined)
      }
    })
    this.running = run
    this.directory.recovering = run
    return run
  }

  private async recover(): Promise<void> {
    const log = this.logger
    const node = this.store.nodeId
    try {
      // hand-overs asked of this node from now on are heard (its control channel subscribed again)
      await this.directory.ready()
      await this.directory.settled()
      await this.store.suspendCommits('Redis was away: this node writes its sessions to it again')
      const result = await this.reclaim()
      await this.store.rewrite()
      // from here to the flush, in one turn: the index is empty and the engine writes it afresh
      const written = this.broker.persistence?.rewrite() ?? {sessions: 0, messages: 0}
      Object.assign(result, written)
      await this.store.flushRewrite()
      log.info({node, ...result},
        `cluster: Redis answers again; node ${node} wrote its ${plural(result.sessions, 'stored session')} (${plural(result.messages, 'message')}) to it` +
        (result.lost > 0 ? `; ${plural(result.lost, 'session')} taken by other nodes meanwhile, their clients disconnected` : '') +
        (result.ended > 0 ? `; ${plural(result.ended, 'session')} that ended meanwhile deleted` : ''))
      this.onDone(result)
    } catch (error) {
      log.error({node, err: (error as Error)?.message ?? String(error)},
        `cluster: cannot write node ${node}'s sessions to Redis (${(error as Error)?.message ?? String(error)}); retrying when it answers again`)
      this.dropped = true // the next 'ready' runs it again
      throw error
    }
  }

  /** Step 2: which sessions are still this node's; drops the others here. */
  private async reclaim(): Promise<RecoveryResult> {
    const redis = this.scripts
    const {prefix} = this.store.keys
    const node = this.store.nodeId
    const seq = `${prefix}:claimseq`
    const held = [...this.broker.sessions.keys()]
    const heldSet = new Set(held)
    const ended = (await redis.smembers(this.store.keys.owned(node))).filter((c) => !heldSet.has(c))
    const lost: string[] = []
    for (let i = 0; i < held.length; i += CHUNK) {
      const args = held.slice(i, i + CHUNK).flatMap((c) => {
        const will = this.willOf(c)
        this.directory.willRecorded(c, will !== '')
        return [c, will]
      })
      lost.push(...await redis.midgeReclaim(seq, node, prefix, 'keep', ...args))
    }
    for (let i = 0; i < ended.length; i += CHUNK) {
      await redis.midgeReclaim(seq, node, prefix, 'drop', ...ended.slice(i, i + CHUNK).flatMap((c) => [c, '']))
    }
    for (const c of lost) {
      // the chain is suspended: releasing writes nothing, and its flush rejects (expected)
      await this.broker.releaseSession(c).catch(() => undefined)
    }
    return {sessions: 0, messages: 0, lost: lost.length, ended: ended.length}
  }

  /** The will of the client's connection here, as the directory records it ('' for none). */
  private willOf(clientId: string): string {
    const session = this.broker.sessions.get(clientId)
    const will = (session?.link as {will?: WillMessage} | undefined)?.will
    if (session === undefined || will === undefined) return ''
    return encodeWill(session.client, will, session.expiryInterval)
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
