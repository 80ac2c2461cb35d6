import {OpKind, type OutboundRow, type SessionRows, type WriteOp} from './write-ops.js'
import {OutboundState, type OutboundChange, type OutboundRecord, type StoredMessage} from './types.js'

/*
 * BufferedStore's index of outbound rows and the messages they reference, and the row operations that
 * keep the backend in step with it.
 *
 * A message going to several sessions is stored once (a `messages` row) and referenced by one
 * outbound row per session; the index counts references by message object identity and deletes the
 * message row with its last reference. A message with a single reference when its batch is committed
 * (the common case: one subscriber) is written inline in its outbound row instead, which halves the
 * rows written per message. An operation of the current batch may still be changed or cancelled; one
 * of an earlier batch is on its way to the backend and is left alone.
 */

interface OutEntry {
  /** The row as last written (or about to be). */
  row: OutboundRow
  /** The operation writing this row, which may still be changed or cancelled while `batch` is the current one. */
  pending: (WriteOp & {k: typeof OpKind.PutOutbound | typeof OpKind.UpdateOutbound}) | undefined
  batch: number
}

interface MessageEntry {
  refs: number
  readonly expiresAt: number | undefined
  pending: (WriteOp & {k: typeof OpKind.PutMessage}) | undefined
  batch: number
  /** The outbound row that first referenced it: where it is written inline if it stays the only one. */
  owner: OutEntry | undefined
  /** Stored inline in its owner's row (then it has no row of its own and no other reference). */
  inline: boolean
}

/** Where the index's operations go: the store's write buffer, and the number of the batch it is filling. */
export interface OpSink {
  add(op: WriteOp): void
  batch(): number
}

export class OutboundIndex {
  private readonly outbound = new Map<number, OutEntry>()
  private readonly byClient = new Map<string, Set<number>>()
  private readonly messages = new Map<number, MessageEntry>()
  private readonly messageIds = new WeakMap<StoredMessage, number>()
  /** Messages first written in the current batch. */
  private newMessages: MessageEntry[] = []
  private nextOutboundId = 1
  private nextMessageId = 1

  constructor(private readonly sink: OpSink) {}

  /** Outbound and message ids from here on are at least `first` (stores sharing one backend take disjoint ranges). */
  startIdsAt(first: number): void {
    if (this.nextOutboundId < first) this.nextOutboundId = first
    if (this.nextMessageId < first) this.nextMessageId = first
  }

  /** Indexes the outbound rows and messages read from the backend; deletes orphans (no session, or no message). */
  load(snap: SessionRows, bumpIds: boolean, hasSession: (clientId: string) => boolean): void {
    if (bumpIds) for (const id of snap.messages.keys()) if (id >= this.nextMessageId) this.nextMessageId = id + 1
    for (const row of snap.outbound) {
      if (bumpIds && row.id >= this.nextOutboundId) this.nextOutboundId = row.id + 1
      if (bumpIds && row.messageId >= this.nextMessageId) this.nextMessageId = row.messageId + 1
      const message = row.inline ?? snap.messages.get(row.messageId)
      if (!hasSession(row.clientId) || message === undefined) {
        this.sink.add({k: OpKind.DeleteOutbound, id: row.id})
        continue
      }
      const out: OutEntry = {row, pending: undefined, batch: 0}
      this.outbound.set(row.id, out)
      this.clientSet(row.clientId).add(row.id)
      let entry = this.messages.get(row.messageId)
      if (entry === undefined) {
        entry = {refs: 0, expiresAt: message.expiresAt, pending: undefined, batch: 0, owner: out, inline: row.inline !== undefined}
        this.messages.set(row.messageId, entry)
      }
      entry.refs++
    }
    for (const id of snap.messages.keys()) {
      const entry = this.messages.get(id)
      if (entry === undefined || entry.inline) this.sink.add({k: OpKind.DeleteMessage, id})
    }
  }

  /** Whether the outbound row is indexed (it was not removed since it was read). */
  has(id: number): boolean {
    return this.outbound.has(id)
  }

  /** A message object read back from the backend: the engine may pass it back, and it is known by identity. */
  remember(message: StoredMessage, messageId: number): void {
    this.messageIds.set(message, messageId)
  }

  enqueue(clientId: string, record: OutboundRecord): number {
    const message = record.message
    const batch = this.sink.batch()
    let messageId = this.messageIds.get(message)
    let entry = messageId === undefined ? undefined : this.messages.get(messageId)
    if (entry === undefined || entry.inline) {
      // new, or stored inline in another row: this one gets its own copy
      messageId = this.nextMessageId++
      const op = {k: OpKind.PutMessage, cancelled: false, id: messageId, message} as const
      entry = {refs: 0, expiresAt: message.expiresAt, pending: op, batch, owner: undefined, inline: false}
      this.messages.set(messageId, entry)
      this.messageIds.set(message, messageId)
      this.newMessages.push(entry)
      this.sink.add(op)
    }
    entry.refs++
    const id = this.nextOutboundId++
    const row: OutboundRow = {
      id, clientId, messageId: messageId!, qos: record.qos, retain: record.retain, state: record.state,
      packetId: record.packetId, dup: record.dup,
      subscriptionIds: record.subscriptionIds === undefined ? undefined : [...record.subscriptionIds],
      sharedGroup: record.sharedGroup,
    }
    const op = {k: OpKind.PutOutbound, cancelled: false, row} as const
    this.sink.add(op)
    const out: OutEntry = {row, pending: op, batch}
    entry.owner ??= out
    this.outbound.set(id, out)
    this.clientSet(clientId).add(id)
    return id
  }

  update(id: number, change: OutboundChange): void {
    const entry = this.outbound.get(id)
    if (entry === undefined) return
    const batch = this.sink.batch()
    if (entry.batch !== batch) {
      // the first change in this batch: a fresh row, so a batch being committed is never touched
      entry.row = {...entry.row}
      entry.pending = {k: OpKind.UpdateOutbound, cancelled: false, row: entry.row}
      entry.batch = batch
      this.sink.add(entry.pending)
    }
    const row = entry.row
    if (change.state !== undefined) row.state = change.state
    if (change.packetId !== undefined) row.packetId = change.packetId
    if (change.dup !== undefined) row.dup = change.dup
  }

  remove(id: number): void {
    const entry = this.outbound.get(id)
    if (entry === undefined) return
    const batch = this.sink.batch()
    this.outbound.delete(id)
    const ids = this.byClient.get(entry.row.clientId)
    ids?.delete(id)
    if (ids?.size === 0) this.byClient.delete(entry.row.clientId)
    const pending = entry.batch === batch ? entry.pending : undefined
    if (pending !== undefined) pending.cancelled = true
    // a row first written in this batch never reaches the backend; otherwise it is deleted there
    if (pending?.k !== OpKind.PutOutbound) this.sink.add({k: OpKind.DeleteOutbound, id})
    const messageId = entry.row.messageId
    const message = this.messages.get(messageId)!
    if (--message.refs > 0) return
    this.messages.delete(messageId)
    if (message.batch === batch && message.pending !== undefined) message.pending.cancelled = true
    else if (!message.inline) this.sink.add({k: OpKind.DeleteMessage, id: messageId})
  }

  /** Removes every outbound row of the client (its session is deleted). */
  removeClient(clientId: string): void {
    const ids = this.byClient.get(clientId)
    if (ids !== undefined) for (const id of [...ids]) this.remove(id)
    this.byClient.delete(clientId)
  }

  /** Drops the client's rows from the index and leaves them in the backend (its session moves to another node). */
  forgetClient(clientId: string): void {
    for (const id of this.byClient.get(clientId) ?? []) {
      const entry = this.outbound.get(id)
      this.outbound.delete(id)
      const message = entry === undefined ? undefined : this.messages.get(entry.row.messageId)
      if (message !== undefined && --message.refs === 0) this.messages.delete(entry!.row.messageId)
    }
    this.byClient.delete(clientId)
  }

  /** The ids of the queued rows whose message has expired by `now`. */
  expired(now: number): number[] {
    const ids: number[] = []
    for (const [id, {row}] of this.outbound) {
      if (row.state !== OutboundState.Queued) continue
      const expiresAt = this.messages.get(row.messageId)?.expiresAt
      if (expiresAt !== undefined && expiresAt <= now) ids.push(id)
    }
    return ids
  }

  /**
   * The current batch is about to be handed over: a message of this batch that its first row is still
   * the only one to reference goes inline in that row (whose PutOutbound is in this batch too).
   */
  sealBatch(): void {
    for (const entry of this.newMessages) {
      const owner = entry.owner
      if (entry.pending!.cancelled || entry.refs !== 1 || owner === undefined || this.outbound.get(owner.row.id) !== owner) continue
      owner.row.inline = entry.pending!.message
      entry.pending!.cancelled = true
      entry.inline = true
    }
    this.newMessages = []
  }

  /** Forgets every row and message; ids continue from where they were. */
  clear(): void {
    this.outbound.clear()
    this.byClient.clear()
    this.messages.clear()
    this.newMessages = []
  }

  private clientSet(clientId: string): Set<number> {
    let ids = this.byClient.get(clientId)
    if (ids === undefined) this.byClient.set(clientId, (ids = new Set()))
    return ids
  }
}
