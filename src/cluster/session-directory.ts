import type {Redis} from 'ioredis'
import type {ClientInfo} from '../broker/auth/hooks.js'
import {silentLogger, type Logger} from '../broker/logger.js'
import type {SessionClaim, SessionDirectory, SessionDirectoryHost} from '../broker/session-directory.js'
import type {StoredSessionState} from '../broker/store/types.js'
import {clientInfo, decodeWill, encodeWill} from './recorded-will.js'
import type {RedisStore} from './redis-store.js'
import {answersWithin, REDIS_START_TIMEOUT_MS} from './redis-connect.js'
import {ClaimsUnderWay, type Claim} from './claims-under-way.js'
import {OwnershipBatch} from './session-batch.js'
import {sessionScripts, type SessionScripts} from './session-scripts.js'

export {encodeWill} from './recorded-will.js'

export interface RedisSessionDirectoryOptions {
  /** This node's store, opened with `loadAll: false`: its node id, Redis connection and prefix are the directory's. */
  store: RedisStore
  /** Whether a node is up (part of the cluster's heartbeats): a dead node is not waited for. */
  isNodeAlive(nodeId: string): Promise<boolean>
  /** How long a claim waits for the node holding the session to hand it over (default 5000 ms). */
  releaseTimeoutMs?: number
  /** How long start() waits for Redis to answer (default 10 s). */
  startTimeoutMs?: number
  logger?: Logger
}

type ControlMessage =
  | {t: 'release'; c: string; seq: number; from: string; id: string}
  | {t: 'released'; id: string}

/**
 * Sessions shared by the nodes of a cluster, on Redis: each client id has one owner node
 * (`<prefix>:owner:<clientId>`, set atomically with the previous owner returned). A node claims the
 * session when its client connects there: the previous owner is asked, on its control channel
 * `<prefix>:ctl:<nodeId>`, to disconnect the client (0x8E) and commit and drop its copy; the claimer
 * waits for its answer (bounded; not at all for a node that is gone), then loads the session from
 * Redis. Claims are numbered: a node hands a session over only after its own earlier claims of it
 * completed, so claims racing on several nodes end with exactly one holder, the last.
 *
 * A clean session (clean start, expiry 0) has nothing to load, so its claim does not hold the CONNACK
 * back: the session is attached at once and the claim settles after (claimLater); if it finds the
 * session elsewhere, that node hands it over (its client: 0x8E) and the rows it stored are deleted;
 * if a later claim elsewhere wins, this node hands it over in turn. Ownership steps go to Redis in
 * batches, one script call each (session-batch.ts).
 */
export class RedisSessionDirectory implements SessionDirectory {
  private host: SessionDirectoryHost | undefined
  private readonly redis: Redis & SessionScripts
  private readonly batch: OwnershipBatch
  private subscriber: Redis | undefined
  private readonly nodeId: string
  private readonly prefix: string
  private readonly timeoutMs: number
  private readonly logger: Logger
  /** Claims in progress on this node, per client id. */
  private readonly pending = new ClaimsUnderWay()
  /** Release requests this node sent, by id, waiting for their answer. */
  private readonly waiting = new Map<string, () => void>()
  private requests = 0
  /** Set while this node writes what it holds to Redis again after an outage: claims, hand-overs and adoptions wait for it. */
  recovering: Promise<unknown> | undefined
  /** Client ids whose connection here may have its will recorded in Redis (`<prefix>:wills:<node>`). */
  private readonly willed = new Set<string>()
  /** Claim and adoption steps under way (see guarded). */
  private readonly busy = new Set<Promise<unknown>>()

  private constructor(private readonly options: RedisSessionDirectoryOptions) {
    this.redis = sessionScripts(options.store.redis)
    this.nodeId = options.store.nodeId
    this.prefix = options.store.keys.prefix
    this.batch = new OwnershipBatch(this.redis, this.nodeId, this.prefix)
    this.timeoutMs = options.releaseTimeoutMs ?? 5000
    this.logger = options.logger ?? silentLogger
  }

  /** Starts listening on this node's control channel. */
  static async start(options: RedisSessionDirectoryOptions): Promise<RedisSessionDirectory> {
    const directory = new RedisSessionDirectory(options)
    const sub = options.store.redis.duplicate({lazyConnect: true})
    sub.on('error', () => undefined)
    sub.on('message', (_channel: string, text: string) => directory.onControl(text))
    try {
      await answersWithin(sub, options.startTimeoutMs ?? REDIS_START_TIMEOUT_MS, async () => {
        await sub.connect()
        await sub.subscribe(directory.channel(directory.nodeId))
      })
    } catch (error) {
      sub.disconnect()
      throw new Error(`cannot listen for session hand-overs on Redis: ${(error as Error).message}`, {cause: error})
    }
    directory.subscriber = sub
    return directory
  }

  /** Stops listening (the node leaves; what it holds stays owned by it, for adoptDeadNode elsewhere). */
  async close(): Promise<void> {
    const sub = this.subscriber
    this.subscriber = undefined
    sub?.disconnect()
  }

  /**
   * Resolves once both of its Redis connections are up (after a Redis restart: the control channel
   * is subscribed again), so that a hand-over asked for now is heard. Rejects after `timeoutMs`.
   */
  async ready(timeoutMs = REDIS_START_TIMEOUT_MS): Promise<void> {
    for (const r of [this.redis, this.subscriber]) {
      if (r === undefined || r.status === 'ready') continue
      let timer: NodeJS.Timeout | undefined
      let onReady = (): void => undefined
      try {
        await new Promise<void>((resolve, reject) => {
          onReady = resolve
          r.once('ready', onReady)
          timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs / 1000} s (${r.status})`)), timeoutMs)
        })
      } finally {
        clearTimeout(timer)
        r.off('ready', onReady)
      }
    }
  }

  bind(host: SessionDirectoryHost): void {
    this.host = host
  }

  private get broker(): SessionDirectoryHost {
    if (this.host === undefined) throw new Error('the session directory is not bound to a broker')
    return this.host
  }

  private channel(nodeId: string): string { return `${this.prefix}:ctl:${nodeId}` }
  private ownerKey(clientId: string): string { return `${this.prefix}:owner:${clientId}` }
  private get seqKey(): string { return `${this.prefix}:claimseq` }

  // --- SessionDirectory ----------------------------------------------------------------------------

  async claim(claim: SessionClaim): Promise<StoredSessionState | undefined> {
    const clean = claim.cleanStart && claim.expiryInterval === 0
    if (this.redis.status !== 'ready') {
      // a session that ends with its connection has nothing in Redis to take: served unclaimed (a second
      // holder of the id elsewhere is disconnected when Redis is back, see recovery.ts)
      if (clean) return undefined
      // no waiting for a reconnect: the client is refused now (0x88) and retries
      throw new Error(`Redis is not connected (${this.redis.status})`)
    }
    // nothing to load: attached now, claimed after (not while a recovery holds claims back)
    if (clean && this.recovering === undefined) {
      this.claimLater(claim)
      return undefined
    }
    return this.guarded(() => this.claimNow(claim))
  }

  /** A claim whose session waits for it: resolves with the state to load (undefined: none, or held here). */
  private async claimNow(claim: SessionClaim): Promise<StoredSessionState | undefined> {
    const c = claim.client.clientId
    const entry = this.pending.open(c)
    try {
      const [previous, previousWill, value, stored] = await this.ask(entry, claim, true)
      await this.takeFrom(c, previous, previousWill, value)
      if (this.broker.hasSession(c)) return undefined
      // nobody held it and the store has no row for it (a new client): nothing to load, and no node
      // can be writing one, so the second round trip is saved (it was half of a CONNECT's cost)
      if (previous === '' && stored === 0) return undefined
      return await this.options.store.loadSession(c)
    } finally {
      this.pending.complete(c, entry)
    }
  }

  /**
   * A clean session's claim, settled after its CONNACK. Its session is new (clean start), so nothing
   * of an older one can reach its client; what the claim finds is dealt with here: the node that held
   * the session hands it over (its client: 0x8E), and the rows the session had in Redis are deleted
   * (a clean start discards the session everywhere) before this claim counts as complete, which a
   * later claim of the client on any node waits for (release). Two nodes claiming at once: Redis
   * orders them, the later claim keeps the client, the other node's client gets 0x8E.
   */
  private claimLater(claim: SessionClaim): void {
    const c = claim.client.clientId
    const entry = this.pending.open(c)
    this.ask(entry, claim, false).then(async ([previous, previousWill, value, stored]) => {
      const from = await this.takeFrom(c, previous, previousWill, value)
      if (from !== this.nodeId && (from !== undefined || stored === 1)) await this.discard(c)
    }).catch((error: unknown) => {
      // Redis went away meanwhile: the session is served unclaimed, as in an outage (recovery.ts, which
      // says so once; a line per client would flood the log); anything else is worth a line
      const err = (error as Error)?.message ?? String(error)
      if (this.redis.status === 'ready') this.logger.warn({clientId: c, err}, 'cannot claim a clean session in Redis; held unclaimed')
      else this.logger.debug({clientId: c, err}, 'Redis went away before a clean session was claimed; held unclaimed until it answers')
    }).finally(() => this.pending.complete(c, entry))
  }

  /** Sends the claim (in the next batch); once Redis answered, waits for this node's earlier claims of the client. */
  private async ask(entry: Claim, claim: SessionClaim, waited: boolean): Promise<[string, string, string, number]> {
    const c = claim.client.clientId
    const will = claim.will === undefined ? '' : encodeWill(claim.client, claim.will, claim.expiryInterval)
    if (will !== '') this.willed.add(c) // before the call: a failed call may still have recorded it
    const reply = await this.batch.claim(c, will, waited)
    // the claim deleted any will recorded here (unless a later claim here recorded one since)
    if (will === '' && this.pending.isLatest(c, entry)) this.willed.delete(c)
    this.pending.numbered(entry, seqOf(reply[2]))
    await this.pending.afterEarlier(c, entry)
    return reply
  }

  /** The client's previous owner hands the session over (or, gone, has its lost connection's will published); returns that node. */
  private async takeFrom(c: string, previous: string, previousWill: string, value: string): Promise<string | undefined> {
    const from = nodeOf(previous)
    if (from === undefined || from === this.nodeId) return from
    const released = await this.requestRelease(from, c, seqOf(value))
    // the connection that node lost: its will is due, unless its delay lets this reconnect cancel it
    const lost = previousWill === '' ? undefined : decodeWill(previousWill)
    if (!released && lost !== undefined && (lost.will.properties?.willDelayInterval ?? 0) === 0) {
      this.broker.adoptSession(undefined, lost.client, lost.will)
    }
    return from
  }

  /** Deletes what Redis stores of a client's session (a clean start discarded it): its rows come into this store's index and go. */
  private async discard(c: string): Promise<void> {
    const state = await this.options.store.loadSession(c)
    if (state === undefined) return
    this.options.store.deleteSession(c)
    await this.options.store.flush()
  }

  disconnected(clientId: string): void {
    // no will recorded here for it (none given, or ended() deleted it): nothing to send
    if (!this.willed.has(clientId)) return
    // after the current turn: a connection replacing this one here (local takeover) is attached by then
    setImmediate(() => {
      if (!this.willed.has(clientId) || this.host?.isConnected(clientId)) return
      this.willed.delete(clientId)
      this.batch.willGone(clientId).catch(() => undefined)
    })
  }

  ended(clientId: string): void {
    // after the current turn: a session replacing this one here (clean start, local takeover) keeps the ownership
    setImmediate(() => this.endOwnership(clientId))
  }

  /** Drops the ownership of a session that ended here, once no claim of it here is under way (a claim's session may replace it). */
  private endOwnership(clientId: string): void {
    if (this.host?.hasSession(clientId)) return
    const claims = this.pending.of(clientId)
    if (claims !== undefined) {
      Promise.all(claims.map((p) => p.done)).then(() => setImmediate(() => this.endOwnership(clientId)), () => undefined)
      return
    }
    this.willed.delete(clientId) // the script deletes the will recorded here
    this.batch.ended(clientId).catch(() => undefined)
  }

  /**
   * Runs a step of a claim or adoption once no recovery is under way, known to settled() until the
   * session it attaches is in the broker (the broker attaches it in the continuation of the claim).
   */
  private async guarded<T>(run: () => Promise<T>): Promise<T> {
    while (this.recovering !== undefined) await this.recovering.catch(() => undefined)
    const step = run()
    this.busy.add(step)
    try {
      return await step
    } finally {
      setImmediate(() => this.busy.delete(step))
    }
  }

  /** Resolves once every claim or adoption under way on this node has attached its session (or failed). */
  async settled(): Promise<void> {
    while (this.busy.size > 0 || this.pending.size > 0) {
      await Promise.allSettled([...this.busy, ...this.pending.all().map((p) => p.done)])
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Recovery recorded (or deleted) the will of a connection here. */
  willRecorded(clientId: string, recorded: boolean): void {
    if (recorded) this.willed.add(clientId)
    else this.willed.delete(clientId)
  }

  // --- a dead node's sessions ----------------------------------------------------------------------

  /**
   * Takes over the sessions a dead node held (each by one surviving node only, whichever gets it
   * first), publishes the wills of the connections it lost, and keeps the sessions that outlive their
   * connection for their clients to resume (their expiry counts from now). Returns how many it took.
   */
  async adoptDeadNode(deadNodeId: string): Promise<number> {
    const clients = await this.guarded(() => this.redis.smembers(`${this.prefix}:owned:${deadNodeId}`))
    let adopted = 0
    for (const c of clients) {
      // taken and attached in one step: a recovery never sees a session owned here but not yet held
      if (await this.guarded(() => this.adoptOne(deadNodeId, c))) adopted++
    }
    return adopted
  }

  private async adoptOne(deadNodeId: string, c: string): Promise<boolean> {
    const taken = await this.redis.midgeAdopt(this.ownerKey(c), this.seqKey, deadNodeId, this.nodeId, c, this.prefix)
    if (taken === null) return false
    const [value, willText] = taken
    const entry = this.pending.open(c)
    this.pending.numbered(entry, seqOf(value))
    try {
      await this.pending.afterEarlier(c, entry)
      const state = await this.options.store.loadSession(c)
      const lost = willText === '' ? undefined : decodeWill(willText)
      const client: ClientInfo = lost?.client ?? (state === undefined ? {clientId: c, protocolVersion: 4} : clientInfo(state.session))
      this.broker.adoptSession(state, client, lost?.will)
    } finally {
      this.pending.complete(c, entry)
    }
    // nothing to keep: nobody owns it now (ended() waits for the adoption's entry to go)
    if (!this.broker.hasSession(c)) this.ended(c)
    return true
  }

  // --- hand-overs ----------------------------------------------------------------------------------

  /** Asks a node to hand a session over; true once it did, false if it is gone (or did not answer in time). */
  private async requestRelease(nodeId: string, clientId: string, seq: number): Promise<boolean> {
    const id = `${this.nodeId}:${++this.requests}`
    let timer: NodeJS.Timeout | undefined
    const answered = new Promise<boolean>((resolve) => {
      this.waiting.set(id, () => resolve(true))
      timer = setTimeout(() => resolve(false), this.timeoutMs)
    })
    try {
      const request: ControlMessage = {t: 'release', c: clientId, seq, from: this.nodeId, id}
      const listeners = await this.redis.publish(this.channel(nodeId), JSON.stringify(request))
      if (listeners === 0) {
        if (await this.alive(nodeId)) this.logger.warn({clientId, node: nodeId}, 'the node holding the session does not listen for hand-overs; taking it')
        return false
      }
      if (await answered) return true
      const alive = await this.alive(nodeId)
      if (alive) this.logger.warn({clientId, node: nodeId, timeoutMs: this.timeoutMs}, 'the node holding the session did not hand it over in time; taking it')
      return false
    } finally {
      clearTimeout(timer)
      this.waiting.delete(id)
    }
  }

  private alive(nodeId: string): Promise<boolean> {
    return this.options.isNodeAlive(nodeId).catch(() => false)
  }

  private onControl(text: string): void {
    let message: ControlMessage
    try {
      message = JSON.parse(text) as ControlMessage
    } catch {
      return
    }
    if (message.t === 'released') return this.waiting.get(message.id)?.()
    if (message.t !== 'release') return
    this.release(message.c, message.seq).catch((error: unknown) => {
      this.logger.error({clientId: message.c, err: (error as Error)?.message ?? String(error)}, 'cannot hand a session over')
    }).finally(() => {
      const answer: ControlMessage = {t: 'released', id: message.id}
      this.redis.publish(this.channel(message.from), JSON.stringify(answer)).catch(() => undefined)
    })
  }

  /** Hands a session over to the claim numbered `seq`, once this node's earlier claims of it are complete. */
  private async release(clientId: string, seq: number): Promise<void> {
    while (this.recovering !== undefined) await this.recovering.catch(() => undefined)
    await this.pending.before(clientId, seq)
    await this.broker.releaseSession(clientId)
    await this.options.store.releaseSession(clientId)
  }
}

function nodeOf(ownerValue: string): string | undefined {
  const bar = ownerValue.lastIndexOf('|')
  return bar < 0 ? undefined : ownerValue.slice(0, bar)
}

function seqOf(ownerValue: string): number {
  return Number(ownerValue.slice(ownerValue.lastIndexOf('|') + 1))
}
