import type {Database as Db, Statement} from 'better-sqlite3'
import type {ProtocolVersion, QoS} from '../../codec/index.js'
import {OpKind, type OutboundRow, type SessionRows, type WriteOp} from './write-ops.js'
import {decodeProperties, encodeProperties} from './properties.js'
import type {OutboundState, StoredMessage, StoredSession, StoredSubscriptionOptions, StoredWill} from './types.js'

/*
 * Batches as SQL parameters, so that they can be applied where the database is (this thread or a
 * worker): one buffer of statement numbers each followed by its tagged parameters. Payloads are
 * copied once into it, and it moves to the worker without a copy (nothing to clone, no garbage).
 */

const STATEMENTS = [
  /* 0 */ `INSERT OR REPLACE INTO sessions (client_id, protocol_version, username, expiry_interval, expires_at,
    will_topic, will_payload, will_qos, will_retain, will_properties, will_publish_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
  /* 1 */ 'DELETE FROM sessions WHERE client_id = ?',
  /* 2 */ 'DELETE FROM subscriptions WHERE client_id = ?',
  /* 3 */ 'DELETE FROM inbound_qos2 WHERE client_id = ?',
  /* 4 */ `INSERT OR REPLACE INTO subscriptions (client_id, filter, qos, no_local, retain_as_published, retain_handling,
    subscription_id) VALUES (?,?,?,?,?,?,?)`,
  /* 5 */ 'DELETE FROM subscriptions WHERE client_id = ? AND filter = ?',
  /* 6 */ 'INSERT INTO messages (id, topic, payload, qos, retain, properties, expires_at, origin) VALUES (?,?,?,?,?,?,?,?)',
  /* 7 */ 'DELETE FROM messages WHERE id = ?',
  /* 8 */ `INSERT INTO outbound (id, client_id, message_id, state, packet_id, qos, retain, dup, subscription_ids,
    shared_group, topic, payload, message_qos, message_retain, properties, expires_at, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  /* 9 */ 'UPDATE outbound SET state = ?, packet_id = ?, dup = ? WHERE id = ?',
  /* 10 */ 'DELETE FROM outbound WHERE id = ?',
  /* 11 */ 'INSERT OR IGNORE INTO inbound_qos2 (client_id, packet_id) VALUES (?,?)',
  /* 12 */ 'DELETE FROM inbound_qos2 WHERE client_id = ? AND packet_id = ?',
  /* 13 */ 'INSERT OR REPLACE INTO retained (topic, payload, qos, properties, expires_at, origin) VALUES (?,?,?,?,?,?)',
  /* 14 */ 'DELETE FROM retained WHERE topic = ?',
]
/** Parameters of each statement. */
const PARAMS = [11, 1, 1, 1, 7, 2, 8, 1, 17, 4, 1, 2, 2, 6, 1]

export type BatchValue = number | string | null

/** A batch ready to apply: its own ArrayBuffer, transferable to the database thread. */
export interface Batch {
  bytes: Uint8Array
}

// value tags
const NULL = 0
const DOUBLE = 1
const TEXT = 2
const BLOB = 3
const UINT = 4

/**
 * Writes statement numbers and their parameters into one buffer: after a statement number come
 * exactly its PARAMS values, each tagged (null, number, text or blob).
 */
class BatchWriter {
  private buf = Buffer.allocUnsafeSlow(64 * 1024)
  private at = 0
  private remaining = 0

  push(...values: BatchValue[]): void {
    for (const x of values) this.value(x)
  }

  private value(x: BatchValue): void {
    if (this.remaining === 0) {
      this.room(1)
      this.buf[this.at++] = x as number
      this.remaining = PARAMS[x as number]!
      return
    }
    this.remaining--
    if (x === null) {
      this.room(1)
      this.buf[this.at++] = NULL
    } else if (typeof x === 'number') {
      this.room(9)
      if (Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff) {
        this.buf[this.at++] = UINT
        this.at = this.buf.writeUInt32LE(x, this.at)
      } else {
        this.buf[this.at++] = DOUBLE
        this.at = this.buf.writeDoubleLE(x, this.at)
      }
    } else {
      this.room(5 + x.length * 3)
      this.buf[this.at] = TEXT
      const n = this.buf.write(x, this.at + 5, 'utf8')
      this.buf.writeUInt32LE(n, this.at + 1)
      this.at += 5 + n
    }
  }

  blob(b: Uint8Array | undefined): void {
    this.remaining--
    if (b === undefined) {
      this.room(1)
      this.buf[this.at++] = NULL
      return
    }
    this.room(5 + b.length)
    this.buf[this.at] = BLOB
    this.buf.writeUInt32LE(b.length, this.at + 1)
    this.buf.set(b, this.at + 5)
    this.at += 5 + b.length
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n))
    this.buf.copy(next, 0, 0, this.at)
    this.buf = next
  }

  finish(): Batch {
    return {bytes: new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.at)}
  }
}

const bool = (b: boolean): number => (b ? 1 : 0)

/** Turns buffered operations (cancelled ones left out) into a batch. */
export function encodeBatch(ops: readonly WriteOp[]): Batch {
  const v = new BatchWriter()
  const blob = (b: Uint8Array | undefined): void => v.blob(b)
  for (const op of ops) {
    switch (op.k) {
      case OpKind.PutSession: {
        if (op.cancelled) break
        const s = op.session
        const w = s.will
        v.push(0, s.clientId, s.protocolVersion, s.username ?? null, s.expiryInterval, s.expiresAt ?? null, w?.topic ?? null)
        blob(w?.payload)
        v.push(w?.qos ?? null, w === undefined ? null : bool(w.retain), encodeProperties(w?.properties), w?.publishAt ?? null)
        break
      }
      case OpKind.DeleteSession:
        v.push(1, op.clientId, 2, op.clientId, 3, op.clientId)
        break
      case OpKind.PutSubscription: {
        const o = op.options
        v.push(4, op.clientId, op.filter, o.qos, bool(o.noLocal), bool(o.retainAsPublished), o.retainHandling, o.subscriptionId ?? null)
        break
      }
      case OpKind.DeleteSubscription:
        v.push(5, op.clientId, op.filter)
        break
      case OpKind.PutMessage: {
        if (op.cancelled) break
        const m = op.message
        v.push(6, op.id, m.topic)
        blob(m.payload)
        v.push(m.qos, bool(m.retain), encodeProperties(m.properties), m.expiresAt ?? null, m.origin ?? null)
        break
      }
      case OpKind.DeleteMessage:
        v.push(7, op.id)
        break
      case OpKind.PutOutbound: {
        if (op.cancelled) break
        const r = op.row
        const m = r.inline
        v.push(8, r.id, r.clientId, r.messageId, r.state, r.packetId, r.qos, bool(r.retain), bool(r.dup),
          r.subscriptionIds === undefined ? null : r.subscriptionIds.join(','), r.sharedGroup ?? null, m?.topic ?? null)
        blob(m?.payload)
        v.push(m?.qos ?? null, m === undefined ? null : bool(m.retain), encodeProperties(m?.properties), m?.expiresAt ?? null, m?.origin ?? null)
        break
      }
      case OpKind.UpdateOutbound:
        if (!op.cancelled) v.push(9, op.row.state, op.row.packetId, bool(op.row.dup), op.row.id)
        break
      case OpKind.DeleteOutbound:
        v.push(10, op.id)
        break
      case OpKind.PutInbound:
        v.push(11, op.clientId, op.packetId)
        break
      case OpKind.DeleteInbound:
        v.push(12, op.clientId, op.packetId)
        break
      case OpKind.PutRetained: {
        if (op.cancelled) break
        const m = op.message
        v.push(13, m.topic)
        blob(m.payload)
        v.push(m.qos, encodeProperties(m.properties), m.expiresAt ?? null, m.origin ?? null)
        break
      }
      case OpKind.DeleteRetained:
        if (!op.cancelled) v.push(14, op.topic)
        break
    }
  }
  return v.finish()
}

/** Applies batches to a database, each as one transaction, with prepared statements. */
export class BatchApplier {
  private readonly statements: Statement[]
  private readonly run: (batch: Batch) => void

  constructor(db: Db) {
    this.statements = STATEMENTS.map((sql) => db.prepare(sql))
    this.run = db.transaction((batch: Batch) => this.applyAll(batch))
  }

  apply(batch: Batch): void {
    if (batch.bytes.length > 0) this.run(batch)
  }

  private applyAll({bytes}: Batch): void {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let i = 0; i < buf.length;) {
      // a batch this module encoded: every statement number is one of PARAMS'
      const s = buf[i++]!
      const n = PARAMS[s]!
      const args = new Array<unknown>(n)
      for (let p = 0; p < n; p++) {
        const tag = buf[i++]
        if (tag === NULL) {
          args[p] = null
        } else if (tag === UINT) {
          args[p] = buf.readUInt32LE(i)
          i += 4
        } else if (tag === DOUBLE) {
          args[p] = buf.readDoubleLE(i)
          i += 8
        } else {
          const len = buf.readUInt32LE(i)
          i += 4
          args[p] = tag === TEXT ? buf.toString('utf8', i, i + len) : buf.subarray(i, i + len)
          i += len
        }
      }
      this.statements[s]!.run(...args)
    }
  }
}

// --- reading ---------------------------------------------------------------------------------------

type Row = unknown[]

/** Every session table as raw rows (outbound in id order): cheap to hand from a worker. */
export interface SessionTables {
  sessions: Row[]
  subscriptions: Row[]
  messages: Row[]
  outbound: Row[]
  inbound: Row[]
}

export function readSessionTables(db: Db): SessionTables {
  const all = (sql: string): Row[] => db.prepare(sql).raw().all() as Row[]
  return {
    sessions: all(`SELECT client_id, protocol_version, username, expiry_interval, expires_at, will_topic, will_payload, will_qos,
      will_retain, will_properties, will_publish_at FROM sessions`),
    subscriptions: all('SELECT client_id, filter, qos, no_local, retain_as_published, retain_handling, subscription_id FROM subscriptions'),
    messages: all('SELECT id, topic, payload, qos, retain, properties, expires_at, origin FROM messages'),
    outbound: all(`SELECT id, client_id, message_id, state, packet_id, qos, retain, dup, subscription_ids, shared_group, topic, payload,
      message_qos, message_retain, properties, expires_at, origin FROM outbound ORDER BY id`),
    inbound: all('SELECT client_id, packet_id FROM inbound_qos2'),
  }
}

export function readRetainedTable(db: Db): Row[] {
  return db.prepare('SELECT topic, payload, qos, properties, expires_at, origin FROM retained').raw().all() as Row[]
}

/** A blob as a Buffer (a worker hands over Uint8Arrays), without copying. */
function buffer(b: unknown): Buffer {
  if (Buffer.isBuffer(b)) return b
  const u = b as Uint8Array | null
  return u === null ? Buffer.alloc(0) : Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

const opt = <K extends string, V>(key: K, value: V | null): {[k in K]?: V} => (value === null ? {} : {[key]: value} as {[k in K]: V})

function message(topic: string, payload: unknown, qos: unknown, retain: boolean, properties: unknown, expiresAt: unknown, origin: unknown): StoredMessage {
  return {
    topic, payload: buffer(payload), qos: qos as QoS, retain,
    ...opt('properties', decodeProperties(properties as string | null) ?? null),
    ...opt('expiresAt', expiresAt as number | null),
    ...opt('origin', origin as string | null),
  }
}

export function decodeSessionTables(t: SessionTables): SessionRows {
  const sessions = t.sessions.map((r): StoredSession => {
    let will: StoredWill | undefined
    if (r[5] !== null) {
      will = {
        topic: r[5] as string, payload: buffer(r[6]), qos: (r[7] ?? 0) as QoS, retain: r[8] === 1,
        ...opt('properties', decodeProperties(r[9] as string | null) ?? null),
        ...opt('publishAt', r[10] as number | null),
      }
    }
    return {
      clientId: r[0] as string, protocolVersion: r[1] as ProtocolVersion, expiryInterval: r[3] as number,
      ...opt('username', r[2] as string | null),
      ...opt('expiresAt', r[4] as number | null),
      ...(will === undefined ? {} : {will}),
    }
  })
  const subscriptions = t.subscriptions.map((r) => ({
    clientId: r[0] as string, filter: r[1] as string,
    options: {
      qos: r[2] as QoS, noLocal: r[3] === 1, retainAsPublished: r[4] === 1, retainHandling: r[5] as 0 | 1 | 2,
      ...opt('subscriptionId', r[6] as number | null),
    } satisfies StoredSubscriptionOptions,
  }))
  const messages = new Map<number, StoredMessage>()
  for (const r of t.messages) messages.set(r[0] as number, message(r[1] as string, r[2], r[3], r[4] === 1, r[5], r[6], r[7]))
  const outbound = t.outbound.map((r): OutboundRow => {
    const row: OutboundRow = {
      id: r[0] as number, clientId: r[1] as string, messageId: r[2] as number, state: r[3] as OutboundState, packetId: r[4] as number,
      qos: r[5] as QoS, retain: r[6] === 1, dup: r[7] === 1,
    }
    if (r[8] !== null) (row as {subscriptionIds?: number[]}).subscriptionIds = (r[8] as string).split(',').map(Number)
    if (r[9] !== null) (row as {sharedGroup?: string}).sharedGroup = r[9] as string
    if (r[10] !== null) row.inline = message(r[10] as string, r[11], r[12], r[13] === 1, r[14], r[15], r[16])
    return row
  })
  const inbound = t.inbound.map((r) => ({clientId: r[0] as string, packetId: r[1] as number}))
  return {sessions, subscriptions, messages, outbound, inbound}
}

export function decodeRetainedTable(rows: Row[]): StoredMessage[] {
  return rows.map((r) => message(r[0] as string, r[1], r[2], true, r[3], r[4], r[5]))
}
