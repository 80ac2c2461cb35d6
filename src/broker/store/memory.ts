import {BufferedStore} from './buffered.js'
import {OpKind, type Backend, type OutboundRow, type SessionRows, type WriteOp} from './write-ops.js'
import {StoreError} from './errors.js'
import type {StoredMessage, StoredSession, StoredSubscriptionOptions} from './types.js'

/** The schema version the memory store writes (kept in step with the SQLite one for the contract tests). */
export const MEMORY_SCHEMA_VERSION = 1

/**
 * The "disk" of a memory store: what survives close and reopen within one process. Only committed
 * batches reach it. Tests reopen a store on the same backing to check what a restart would find.
 */
export class MemoryBacking {
  schemaVersion = MEMORY_SCHEMA_VERSION
  readonly sessions = new Map<string, StoredSession>()
  readonly subscriptions = new Map<string, Map<string, StoredSubscriptionOptions>>()
  readonly messages = new Map<number, StoredMessage>()
  readonly outbound = new Map<number, OutboundRow>()
  readonly inbound = new Map<string, Set<number>>()
  readonly retained = new Map<string, StoredMessage>()
  commits = 0
  /** Open stores (at most one, as with the SQLite file lock). */
  inUse = false
}

class MemoryBackend implements Backend {
  constructor(private readonly b: MemoryBacking) {}

  commit(ops: readonly WriteOp[]): void {
    const b = this.b
    for (const op of ops) {
      switch (op.k) {
        case OpKind.PutSession:
          if (!op.cancelled) b.sessions.set(op.session.clientId, op.session)
          break
        case OpKind.DeleteSession:
          b.sessions.delete(op.clientId)
          b.subscriptions.delete(op.clientId)
          b.inbound.delete(op.clientId)
          break
        case OpKind.PutSubscription: {
          let subs = b.subscriptions.get(op.clientId)
          if (subs === undefined) b.subscriptions.set(op.clientId, (subs = new Map()))
          subs.set(op.filter, op.options)
          break
        }
        case OpKind.DeleteSubscription:
          b.subscriptions.get(op.clientId)?.delete(op.filter)
          break
        case OpKind.PutMessage:
          if (!op.cancelled) b.messages.set(op.id, copyMessage(op.message))
          break
        case OpKind.DeleteMessage:
          b.messages.delete(op.id)
          break
        case OpKind.PutOutbound:
          if (!op.cancelled) b.outbound.set(op.row.id, copyRow(op.row))
          break
        case OpKind.UpdateOutbound: {
          const row = b.outbound.get(op.row.id)
          if (!op.cancelled && row !== undefined) b.outbound.set(op.row.id, {...row, state: op.row.state, packetId: op.row.packetId, dup: op.row.dup})
          break
        }
        case OpKind.DeleteOutbound:
          b.outbound.delete(op.id)
          break
        case OpKind.PutInbound: {
          let ids = b.inbound.get(op.clientId)
          if (ids === undefined) b.inbound.set(op.clientId, (ids = new Set()))
          ids.add(op.packetId)
          break
        }
        case OpKind.DeleteInbound:
          b.inbound.get(op.clientId)?.delete(op.packetId)
          break
        case OpKind.PutRetained:
          if (!op.cancelled) b.retained.set(op.message.topic, copyMessage(op.message))
          break
        case OpKind.DeleteRetained:
          if (!op.cancelled) b.retained.delete(op.topic)
          break
      }
    }
    b.commits++
  }

  loadSessions(): SessionRows {
    const b = this.b
    const subscriptions: SessionRows['subscriptions'] = []
    for (const [clientId, subs] of b.subscriptions) for (const [filter, options] of subs) subscriptions.push({clientId, filter, options})
    const inbound: SessionRows['inbound'] = []
    for (const [clientId, ids] of b.inbound) for (const packetId of ids) inbound.push({clientId, packetId})
    const messages = new Map<number, StoredMessage>()
    for (const [id, m] of b.messages) messages.set(id, copyMessage(m))
    return {
      sessions: [...b.sessions.values()],
      subscriptions,
      messages,
      outbound: [...b.outbound.values()].sort((x, y) => x.id - y.id).map(copyRow),
      inbound,
    }
  }

  loadRetained(): StoredMessage[] {
    return [...this.b.retained.values()].map(copyMessage)
  }

  close(): void {
    this.b.inUse = false
  }
}

function copyRow(row: OutboundRow): OutboundRow {
  const copy = {...row}
  if (row.inline !== undefined) copy.inline = copyMessage(row.inline)
  else delete copy.inline
  return copy
}

function copyMessage(m: StoredMessage): StoredMessage {
  return {
    topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain,
    ...(m.properties === undefined ? {} : {properties: m.properties}),
    ...(m.expiresAt === undefined ? {} : {expiresAt: m.expiresAt}),
    ...(m.origin === undefined ? {} : {origin: m.origin}),
  }
}

/** A store kept in process memory: the reference implementation of the contract, and a test double. */
export class MemoryStore extends BufferedStore {
  private constructor(backing: MemoryBacking) {
    super(new MemoryBackend(backing))
  }

  static async open(backing = new MemoryBacking()): Promise<MemoryStore> {
    if (backing.schemaVersion > MEMORY_SCHEMA_VERSION) {
      throw new StoreError('newer-schema', `the store has schema version ${backing.schemaVersion}, newer than the ${MEMORY_SCHEMA_VERSION} this midge supports`)
    }
    if (backing.inUse) throw new StoreError('locked', 'the store is in use')
    backing.inUse = true
    const store = new MemoryStore(backing)
    await store.init()
    return store
  }
}
