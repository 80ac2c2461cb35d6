import {CommitChain} from './commit-chain.js'
import {StoreError} from './errors.js'
import {OutboundIndex} from './outbound-index.js'
import {OpKind, type Backend, type SessionRows, type WriteOp} from './write-ops.js'
import type {
  BrokerStore, OutboundChange, OutboundRecord, StoredMessage, StoredOutbound,
  StoredSession, StoredSessionState, StoredSubscriptionOptions,
} from './types.js'

/*
 * The part every store shares: the write buffer and the in-memory index behind it.
 *
 * Every call turns into row-level operations appended to a buffer; `flush()` hands the buffer to
 * the backend, which applies it as one transaction (CommitChain orders the commits). Operations that
 * undo each other before a flush cancel out: a message enqueued and acknowledged within one batch
 * never reaches the backend. Outbound rows and their messages are indexed by OutboundIndex; the index
 * here also answers the expiry sweeps.
 */

export class BufferedStore implements BrokerStore {
  private ops: WriteOp[] = []
  private readonly sessions = new Map<string, StoredSession>()
  private readonly pendingSession = new Map<string, WriteOp & {k: typeof OpKind.PutSession}>()
  private readonly rows: OutboundIndex
  private readonly pendingRetained = new Map<string, WriteOp & {cancelled: boolean}>()
  /** Numbers the batches: an operation of an earlier batch is on its way to the backend and is no longer changed. */
  private batch = 1
  /** Retained topics with an expiry deadline. */
  private readonly retainedExpiry = new Map<string, number>()
  /** Rows read at open, handed to the first loads (unless something was written since). */
  private initialSessions: SessionRows | undefined
  private initialRetained: StoredMessage[] | undefined
  private closed = false
  private readonly commits: CommitChain

  protected constructor(private readonly backend: Backend) {
    this.commits = new CommitChain(backend, () => this.flush())
    this.rows = new OutboundIndex({add: (op) => this.add(op), batch: () => this.batch})
  }

  /** Reads the backend once: builds the index and keeps the rows for the first load calls. */
  protected async init(): Promise<void> {
    const snap = await this.backend.loadSessions()
    this.initialSessions = snap
    this.initialRetained = await this.backend.loadRetained()
    for (const m of this.initialRetained) if (m.expiresAt !== undefined) this.retainedExpiry.set(m.topic, m.expiresAt)
    this.index(snap, true)
  }

  /**
   * Adds sessions read from the backend after open (a session moving to this node from another one
   * sharing the backend) to the index; returns their state. Their ids come from the other store's range.
   */
  protected adopt(snap: SessionRows): StoredSessionState[] {
    this.writable()
    this.index(snap, false)
    return this.states(snap)
  }

  /**
   * Drops one session from the index and leaves its rows in the backend (it moves to another node).
   * Call it after a flush, once nothing writes to the session any more.
   */
  protected forget(clientId: string): void {
    this.rows.forgetClient(clientId)
    this.sessions.delete(clientId)
    this.pendingSession.delete(clientId)
  }

  /** Outbound and message ids from here on are at least `first` (stores sharing one backend take disjoint ranges). */
  protected startIdsAt(first: number): void {
    this.rows.startIdsAt(first)
  }

  private index(snap: SessionRows, bumpIds: boolean): void {
    for (const s of snap.sessions) this.sessions.set(s.clientId, s)
    this.rows.load(snap, bumpIds, (clientId) => this.sessions.has(clientId))
    for (const {clientId, filter} of snap.subscriptions) {
      if (!this.sessions.has(clientId)) this.add({k: OpKind.DeleteSubscription, clientId, filter})
    }
    for (const {clientId, packetId} of snap.inbound) {
      if (!this.sessions.has(clientId)) this.add({k: OpKind.DeleteInbound, clientId, packetId})
    }
  }

  get pending(): number { return this.ops.length }

  /** The commit that failed (every later flush and durable() rejects with it), if one did. */
  get failure(): StoreError | undefined { return this.commits.failed }

  /**
   * Stops committing until resetIndex(): writes made meanwhile are dropped (see add), so that a store
   * whose state is about to be written afresh neither commits a part of it nor keeps it in memory.
   */
  protected suspend(reason: string): void {
    this.commits.suspend(reason)
    this.ops = []
  }

  /** Resolves once every batch handed to the backend has been committed or has failed. */
  protected async drained(): Promise<void> {
    await this.commits.settled.catch(() => undefined)
  }

  /**
   * Forgets every session, outbound row and message (not the retained topics), drops what is buffered
   * and clears the chain's failure: the engine then writes its state again (Persistence.rewrite), with
   * ids continuing from where they were. Call after drained(), once the backend is ready for it.
   */
  protected resetIndex(): void {
    this.ops = []
    this.sessions.clear()
    this.pendingSession.clear()
    this.rows.clear()
    this.pendingRetained.clear()
    this.initialSessions = undefined
    this.batch++
    this.commits.recover()
  }

  // --- sessions ------------------------------------------------------------------------------------

  upsertSession(session: StoredSession): void {
    this.writable()
    const copy = {...session}
    this.sessions.set(session.clientId, copy)
    const previous = this.pendingSession.get(session.clientId)
    if (previous !== undefined) previous.cancelled = true
    const op = {k: OpKind.PutSession, cancelled: false, session: copy} as const
    this.pendingSession.set(session.clientId, op)
    this.add(op)
  }

  deleteSession(clientId: string): void {
    this.writable()
    this.rows.removeClient(clientId)
    this.sessions.delete(clientId)
    const previous = this.pendingSession.get(clientId)
    if (previous !== undefined) previous.cancelled = true
    this.pendingSession.delete(clientId)
    this.add({k: OpKind.DeleteSession, clientId})
  }

  addSubscription(clientId: string, filter: string, options: StoredSubscriptionOptions): void {
    this.writable()
    this.add({k: OpKind.PutSubscription, clientId, filter, options: {...options}})
  }

  removeSubscription(clientId: string, filter: string): void {
    this.writable()
    this.add({k: OpKind.DeleteSubscription, clientId, filter})
  }

  addInboundQos2(clientId: string, packetId: number): void {
    this.writable()
    this.add({k: OpKind.PutInbound, clientId, packetId})
  }

  removeInboundQos2(clientId: string, packetId: number): void {
    this.writable()
    this.add({k: OpKind.DeleteInbound, clientId, packetId})
  }

  // --- outbound messages ---------------------------------------------------------------------------

  enqueue(clientId: string, record: OutboundRecord): number {
    this.writable()
    return this.rows.enqueue(clientId, record)
  }

  updateOutbound(id: number, change: OutboundChange): void {
    this.writable()
    this.rows.update(id, change)
  }

  removeOutbound(id: number): void {
    this.writable()
    this.rows.remove(id)
  }

  // --- retained ------------------------------------------------------------------------------------

  setRetained(message: StoredMessage): void {
    this.writable()
    const op = {k: OpKind.PutRetained, cancelled: false, message} as const
    this.replaceRetained(message.topic, op)
  }

  deleteRetained(topic: string): void {
    this.writable()
    this.replaceRetained(topic, {k: OpKind.DeleteRetained, cancelled: false, topic})
  }

  private replaceRetained(topic: string, op: WriteOp & {cancelled: boolean}): void {
    const expiresAt = op.k === OpKind.PutRetained ? op.message.expiresAt : undefined
    if (expiresAt === undefined) this.retainedExpiry.delete(topic)
    else this.retainedExpiry.set(topic, expiresAt)
    const previous = this.pendingRetained.get(topic)
    if (previous !== undefined) previous.cancelled = true
    this.pendingRetained.set(topic, op)
    this.add(op)
  }

  // --- reads ---------------------------------------------------------------------------------------

  async loadSessions(): Promise<StoredSessionState[]> {
    let snap = this.initialSessions
    this.initialSessions = undefined
    if (snap === undefined) {
      await this.flush()
      snap = await this.backend.loadSessions()
    }
    return this.states(snap)
  }

  /** The state of the indexed sessions among the rows. */
  private states(snap: SessionRows): StoredSessionState[] {
    const states = new Map<string, {session: StoredSession; subscriptions: Map<string, StoredSubscriptionOptions>; outbound: StoredOutbound[]; inboundQos2: number[]}>()
    for (const session of snap.sessions) {
      if (this.sessions.has(session.clientId)) states.set(session.clientId, {session, subscriptions: new Map(), outbound: [], inboundQos2: []})
    }
    for (const {clientId, filter, options} of snap.subscriptions) states.get(clientId)?.subscriptions.set(filter, options)
    for (const {clientId, packetId} of snap.inbound) states.get(clientId)?.inboundQos2.push(packetId)
    for (const row of snap.outbound) {
      const state = states.get(row.clientId)
      const message = row.inline ?? snap.messages.get(row.messageId)
      if (state === undefined || message === undefined || !this.rows.has(row.id)) continue
      this.rows.remember(message, row.messageId)
      state.outbound.push({
        id: row.id, message, qos: row.qos, retain: row.retain, state: row.state, packetId: row.packetId, dup: row.dup,
        ...(row.subscriptionIds === undefined ? {} : {subscriptionIds: row.subscriptionIds}),
        ...(row.sharedGroup === undefined ? {} : {sharedGroup: row.sharedGroup}),
      })
    }
    return [...states.values()]
  }

  async loadRetained(): Promise<StoredMessage[]> {
    const rows = this.initialRetained
    this.initialRetained = undefined
    if (rows !== undefined) return rows
    await this.flush()
    return this.backend.loadRetained()
  }

  async expireSessions(now: number): Promise<StoredSession[]> {
    const expired: StoredSession[] = []
    for (const session of this.sessions.values()) {
      if (session.expiresAt !== undefined && session.expiresAt <= now) expired.push(session)
    }
    for (const session of expired) this.deleteSession(session.clientId)
    await this.flush()
    return expired
  }

  async expireMessages(now: number): Promise<number> {
    const ids = this.rows.expired(now)
    for (const id of ids) this.removeOutbound(id)
    await this.flush()
    return ids.length
  }

  async expireRetained(now: number): Promise<number> {
    const topics: string[] = []
    for (const [topic, expiresAt] of this.retainedExpiry) if (expiresAt <= now) topics.push(topic)
    for (const topic of topics) this.deleteRetained(topic)
    await this.flush()
    return topics.length
  }

  // --- commits -------------------------------------------------------------------------------------

  flush(): Promise<void> {
    if (this.commits.failed !== undefined) return Promise.reject(this.commits.failed)
    if (this.ops.length === 0) return this.commits.settled
    const ops = this.ops
    this.ops = []
    this.rows.sealBatch()
    this.batch++
    this.pendingSession.clear()
    this.pendingRetained.clear()
    return this.commits.commit(ops)
  }

  durable(): Promise<void> {
    return this.commits.durable(this.ops.length)
  }

  async close(options: {discard?: boolean} = {}): Promise<void> {
    if (this.closed) return
    try {
      if (options.discard) this.ops = []
      else if (this.commits.failed === undefined) await this.flush()
      else await this.commits.settled.catch(() => undefined)
    } finally {
      this.closed = true
      this.commits.stop()
      await this.backend.close()
    }
  }

  /** Buffers a row operation, to be committed by the next flush (which comes even if nobody asks for one). */
  private add(op: WriteOp): void {
    // after a failed commit nothing more is committed: what would be kept here is dropped, so that the
    // buffer does not grow while the backend is away (a cluster node writes its state afresh when it is back)
    if (this.commits.failed !== undefined) return
    this.ops.push(op)
    this.commits.written()
  }

  private writable(): void {
    if (this.closed) throw new StoreError('closed', 'the store is closed')
    // rows read at open no longer tell the whole story
    this.initialSessions = undefined
    this.initialRetained = undefined
  }
}
