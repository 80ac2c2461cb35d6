import {constants, accessSync, closeSync, openSync, readSync, statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import Database, {type Database as Db, type Statement} from 'better-sqlite3'
import type {ProtocolVersion, QoS} from '../../codec/index.js'
import {BufferedStore, OpKind, type Backend, type OutboundRow, type SessionRows, type WriteOp} from './buffered.js'
import {StoreError} from './errors.js'
import {decodeProperties, encodeProperties} from './properties.js'
import {APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION} from './schema.js'
import type {OutboundState, StoredMessage, StoredSession, StoredSubscriptionOptions, StoredWill} from './types.js'

export interface SqliteStoreOptions {
  /** The database file (created if missing; its folder must exist). */
  file: string
  /**
   * 'full' (default): every commit is fsynced, so an acknowledged message survives a power loss.
   * 'normal': commits survive a crash of the broker process (kill -9) but the last ones may be lost
   * on a power loss; the WAL is synced at checkpoints only. Several times faster.
   */
  sync?: 'full' | 'normal'
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * Broker state in one SQLite file (better-sqlite3): WAL journal, one transaction per flush, prepared
 * statements. The file is checked before anything is written to it (SQLite header, integrity,
 * application id, schema version), and held with an exclusive lock while open, so a second broker
 * on the same file is refused rather than sharing it.
 */
export class SqliteStore extends BufferedStore {
  private constructor(backend: SqliteBackend, readonly file: string) {
    super(backend)
  }

  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const file = resolve(options.file)
    const db = openChecked(file)
    try {
      configure(db, options.sync ?? 'full')
      migrate(db)
    } catch (error) {
      db.close()
      throw classify(error, file)
    }
    const store = new SqliteStore(new SqliteBackend(db), file)
    await store.init()
    return store
  }
}

/** Opens the file for writing only once it is known to be a healthy midge database of a version we can read, or absent/empty. */
function openChecked(file: string): Db {
  const dir = dirname(file)
  let dirStat
  try {
    dirStat = statSync(dir)
  } catch (error) {
    throw new StoreError('not-writable', `cannot use ${dir} for the database: ${(error as Error).message}`, {cause: error})
  }
  if (!dirStat.isDirectory()) throw new StoreError('not-writable', `${dir} is not a directory`)
  try {
    accessSync(dir, constants.W_OK | constants.X_OK)
  } catch (error) {
    throw new StoreError('not-writable', `the folder ${dir} is not writable`, {cause: error})
  }
  let size = -1
  try {
    const st = statSync(file)
    if (!st.isFile()) throw new StoreError('not-writable', `${file} is not a regular file`)
    size = st.size
  } catch (error) {
    if (error instanceof StoreError) throw error
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StoreError('not-writable', `cannot use ${file}: ${(error as Error).message}`, {cause: error})
  }
  if (size >= 0) {
    try {
      accessSync(file, constants.R_OK | constants.W_OK)
    } catch (error) {
      throw new StoreError('not-writable', `${file} is not writable`, {cause: error})
    }
  }
  // an empty file is an empty database; anything else must start with SQLite's header. Checked
  // before SQLite opens it, so that no byte of a file that is not ours is changed.
  if (size > 0 && !startsWithHeader(file)) {
    throw new StoreError('corrupt', `${file} is not a SQLite database (it does not start with the SQLite header); refusing to use it`)
  }
  if (size < 0) {
    // a new file is private to its owner (it holds messages and client ids), as is its WAL after it
    try {
      closeSync(openSync(file, 'wx', 0o600))
    } catch (error) {
      throw new StoreError('not-writable', `cannot create ${file}: ${(error as Error).message}`, {cause: error})
    }
  }
  let db: Db
  try {
    db = new Database(file, {timeout: 200})
  } catch (error) {
    throw classify(error, file)
  }
  try {
    // held from the first read: no other process can use the file while we have it open
    db.pragma('locking_mode = EXCLUSIVE')
    check(db, file)
    return db
  } catch (error) {
    db.close()
    throw classify(error, file)
  }
}

function startsWithHeader(file: string): boolean {
  const fd = openSync(file, 'r')
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length)
    const n = readSync(fd, head, 0, head.length, 0)
    return n === head.length && head.equals(SQLITE_HEADER)
  } finally {
    closeSync(fd)
  }
}

/** Read-only checks: integrity, owner, version. */
function check(db: Db, file: string): void {
  const version = db.pragma('user_version', {simple: true}) as number
  const appId = db.pragma('application_id', {simple: true}) as number
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {n: number}).n
  if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0 || version !== 0)) {
    throw new StoreError('foreign', `${file} is a SQLite database of another application; refusing to use it`)
  }
  if (version > SCHEMA_VERSION) {
    throw new StoreError('newer-schema', `${file} has schema version ${version}, written by a newer midge (this one reads up to ${SCHEMA_VERSION}); upgrade midge or use another folder`)
  }
  const problems = (db.pragma('quick_check(5)') as Array<{quick_check: string}>).map((r) => r.quick_check)
  if (problems.length !== 1 || problems[0] !== 'ok') {
    throw new StoreError('corrupt', `${file} is damaged (integrity check: ${problems.join('; ')}); refusing to use it`)
  }
}

function configure(db: Db, sync: 'full' | 'normal'): void {
  const fresh = (db.pragma('user_version', {simple: true}) as number) === 0
  // must be chosen before the first table exists: lets deleted pages be returned to the file system
  if (fresh) db.pragma('auto_vacuum = INCREMENTAL')
  const mode = db.pragma('journal_mode = WAL', {simple: true})
  if (mode !== 'wal') throw new StoreError('not-writable', `cannot switch the database to WAL mode (got ${String(mode)})`)
  db.pragma(`synchronous = ${sync === 'normal' ? 'NORMAL' : 'FULL'}`)
  db.pragma('journal_size_limit = 67108864')
  db.pragma('cache_size = -16384')
  db.pragma('foreign_keys = OFF')
}

function migrate(db: Db): void {
  const from = db.pragma('user_version', {simple: true}) as number
  // BEGIN EXCLUSIVE takes the write lock now (kept afterwards, in exclusive locking mode), even when
  // there is nothing to migrate
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v](db)
    if (from !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`)
    if (from === 0) db.pragma(`application_id = ${APPLICATION_ID}`)
  }).exclusive()
  // return most free pages to the file system when more than a quarter of the file is free
  const pages = db.pragma('page_count', {simple: true}) as number
  const free = db.pragma('freelist_count', {simple: true}) as number
  if (free > 256 && free * 4 > pages) db.pragma('incremental_vacuum')
}

/** Turns SQLite's errors into StoreErrors that say what to do. */
function classify(error: unknown, file: string): Error {
  if (error instanceof StoreError) return error
  const code = (error as {code?: string})?.code ?? ''
  const message = (error as Error)?.message ?? String(error)
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError('corrupt', `${file} is damaged or not a database (${message}); refusing to use it`, {cause: error})
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError('locked', `${file} is in use by another process (is another broker running on it?)`, {cause: error})
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_IOERR')) {
    return new StoreError('not-writable', `cannot write ${file}: ${message}`, {cause: error})
  }
  return error instanceof Error ? error : new Error(message)
}

const bool = (b: boolean): number => (b ? 1 : 0)

class SqliteBackend implements Backend {
  private readonly putSession: Statement
  private readonly deleteSession: Statement
  private readonly deleteSessionSubs: Statement
  private readonly deleteSessionInbound: Statement
  private readonly putSub: Statement
  private readonly deleteSub: Statement
  private readonly putMessage: Statement
  private readonly deleteMessage: Statement
  private readonly putOutbound: Statement
  private readonly updateOutbound: Statement
  private readonly deleteOutbound: Statement
  private readonly putInbound: Statement
  private readonly deleteInbound: Statement
  private readonly putRetained: Statement
  private readonly deleteRetained: Statement
  private readonly apply: (ops: readonly WriteOp[]) => void

  constructor(private readonly db: Db) {
    this.putSession = db.prepare(`INSERT OR REPLACE INTO sessions (client_id, protocol_version, username, expiry_interval, expires_at,
      will_topic, will_payload, will_qos, will_retain, will_properties, will_publish_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`)
    this.deleteSession = db.prepare('DELETE FROM sessions WHERE client_id = ?')
    this.deleteSessionSubs = db.prepare('DELETE FROM subscriptions WHERE client_id = ?')
    this.deleteSessionInbound = db.prepare('DELETE FROM inbound_qos2 WHERE client_id = ?')
    this.putSub = db.prepare(`INSERT OR REPLACE INTO subscriptions (client_id, filter, qos, no_local, retain_as_published,
      retain_handling, subscription_id) VALUES (?,?,?,?,?,?,?)`)
    this.deleteSub = db.prepare('DELETE FROM subscriptions WHERE client_id = ? AND filter = ?')
    this.putMessage = db.prepare(`INSERT OR REPLACE INTO messages (id, topic, payload, qos, retain, properties, expires_at, origin)
      VALUES (?,?,?,?,?,?,?,?)`)
    this.deleteMessage = db.prepare('DELETE FROM messages WHERE id = ?')
    this.putOutbound = db.prepare(`INSERT OR REPLACE INTO outbound (id, client_id, message_id, state, packet_id, qos, retain, dup,
      subscription_ids, shared_group, topic, payload, message_qos, message_retain, properties, expires_at, origin)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
    this.updateOutbound = db.prepare('UPDATE outbound SET state = ?, packet_id = ?, dup = ? WHERE id = ?')
    this.deleteOutbound = db.prepare('DELETE FROM outbound WHERE id = ?')
    this.putInbound = db.prepare('INSERT OR IGNORE INTO inbound_qos2 (client_id, packet_id) VALUES (?,?)')
    this.deleteInbound = db.prepare('DELETE FROM inbound_qos2 WHERE client_id = ? AND packet_id = ?')
    this.putRetained = db.prepare(`INSERT OR REPLACE INTO retained (topic, payload, qos, properties, expires_at, origin)
      VALUES (?,?,?,?,?,?)`)
    this.deleteRetained = db.prepare('DELETE FROM retained WHERE topic = ?')
    this.apply = db.transaction((ops: readonly WriteOp[]) => {
      for (const op of ops) this.run(op)
    })
  }

  commit(ops: readonly WriteOp[]): void {
    this.apply(ops)
  }

  private run(op: WriteOp): void {
    switch (op.k) {
      case OpKind.PutSession: {
        if (op.cancelled) return
        const s = op.session
        const w = s.will
        this.putSession.run(s.clientId, s.protocolVersion, s.username ?? null, s.expiryInterval, s.expiresAt ?? null,
          w?.topic ?? null, w?.payload ?? null, w?.qos ?? null, w === undefined ? null : bool(w.retain),
          encodeProperties(w?.properties), w?.publishAt ?? null)
        return
      }
      case OpKind.DeleteSession:
        this.deleteSession.run(op.clientId)
        this.deleteSessionSubs.run(op.clientId)
        this.deleteSessionInbound.run(op.clientId)
        return
      case OpKind.PutSubscription: {
        const o = op.options
        this.putSub.run(op.clientId, op.filter, o.qos, bool(o.noLocal), bool(o.retainAsPublished), o.retainHandling, o.subscriptionId ?? null)
        return
      }
      case OpKind.DeleteSubscription:
        this.deleteSub.run(op.clientId, op.filter)
        return
      case OpKind.PutMessage: {
        if (op.cancelled) return
        const m = op.message
        this.putMessage.run(op.id, m.topic, m.payload, m.qos, bool(m.retain), encodeProperties(m.properties), m.expiresAt ?? null, m.origin ?? null)
        return
      }
      case OpKind.DeleteMessage:
        this.deleteMessage.run(op.id)
        return
      case OpKind.PutOutbound: {
        if (op.cancelled) return
        const r = op.row
        const m = r.inline
        this.putOutbound.run(r.id, r.clientId, r.messageId, r.state, r.packetId, r.qos, bool(r.retain), bool(r.dup),
          r.subscriptionIds === undefined ? null : r.subscriptionIds.join(','), r.sharedGroup ?? null,
          m?.topic ?? null, m?.payload ?? null, m?.qos ?? null, m === undefined ? null : bool(m.retain),
          encodeProperties(m?.properties), m?.expiresAt ?? null, m?.origin ?? null)
        return
      }
      case OpKind.UpdateOutbound:
        if (!op.cancelled) this.updateOutbound.run(op.row.state, op.row.packetId, bool(op.row.dup), op.row.id)
        return
      case OpKind.DeleteOutbound:
        this.deleteOutbound.run(op.id)
        return
      case OpKind.PutInbound:
        this.putInbound.run(op.clientId, op.packetId)
        return
      case OpKind.DeleteInbound:
        this.deleteInbound.run(op.clientId, op.packetId)
        return
      case OpKind.PutRetained: {
        if (op.cancelled) return
        const m = op.message
        this.putRetained.run(m.topic, m.payload, m.qos, encodeProperties(m.properties), m.expiresAt ?? null, m.origin ?? null)
        return
      }
      case OpKind.DeleteRetained:
        if (!op.cancelled) this.deleteRetained.run(op.topic)
        return
    }
  }

  loadSessions(): SessionRows {
    const db = this.db
    const sessions = (db.prepare('SELECT * FROM sessions').all() as SessionRow[]).map(toSession)
    const subscriptions = (db.prepare('SELECT * FROM subscriptions').all() as SubscriptionRow[]).map((r) => ({
      clientId: r.client_id, filter: r.filter, options: toSubscriptionOptions(r),
    }))
    const messages = new Map<number, StoredMessage>()
    for (const r of db.prepare('SELECT * FROM messages').iterate() as IterableIterator<MessageRow>) messages.set(r.id, toMessage(r, r.retain === 1))
    const outbound: OutboundRow[] = []
    for (const r of db.prepare('SELECT * FROM outbound ORDER BY id').iterate() as IterableIterator<OutboundDbRow>) {
      const row: OutboundRow = {
        id: r.id, clientId: r.client_id, messageId: r.message_id, state: r.state as OutboundState, packetId: r.packet_id,
        qos: r.qos as QoS, retain: r.retain === 1, dup: r.dup === 1,
      }
      if (r.subscription_ids !== null) (row as {subscriptionIds?: number[]}).subscriptionIds = r.subscription_ids.split(',').map(Number)
      if (r.shared_group !== null) (row as {sharedGroup?: string}).sharedGroup = r.shared_group
      if (r.topic !== null) row.inline = toMessage({...r, topic: r.topic, payload: r.payload!, qos: r.message_qos!}, r.message_retain === 1)
      outbound.push(row)
    }
    const inbound = (db.prepare('SELECT client_id, packet_id FROM inbound_qos2').all() as Array<{client_id: string; packet_id: number}>)
      .map((r) => ({clientId: r.client_id, packetId: r.packet_id}))
    return {sessions, subscriptions, messages, outbound, inbound}
  }

  loadRetained(): StoredMessage[] {
    return (this.db.prepare('SELECT * FROM retained').all() as Array<Omit<MessageRow, 'id' | 'retain'>>).map((r) => toMessage(r, true))
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

interface SessionRow {
  client_id: string
  protocol_version: number
  username: string | null
  expiry_interval: number
  expires_at: number | null
  will_topic: string | null
  will_payload: Buffer | null
  will_qos: number | null
  will_retain: number | null
  will_properties: string | null
  will_publish_at: number | null
}

interface SubscriptionRow {
  client_id: string
  filter: string
  qos: number
  no_local: number
  retain_as_published: number
  retain_handling: number
  subscription_id: number | null
}

interface MessageRow {
  id: number
  topic: string
  payload: Buffer
  qos: number
  retain: number
  properties: string | null
  expires_at: number | null
  origin: string | null
}

interface OutboundDbRow {
  id: number
  client_id: string
  message_id: number
  state: number
  packet_id: number
  qos: number
  retain: number
  dup: number
  subscription_ids: string | null
  shared_group: string | null
  topic: string | null
  payload: Buffer | null
  message_qos: number | null
  message_retain: number | null
  properties: string | null
  expires_at: number | null
  origin: string | null
}

function toSession(r: SessionRow): StoredSession {
  let will: StoredWill | undefined
  if (r.will_topic !== null) {
    const properties = decodeProperties(r.will_properties)
    will = {
      topic: r.will_topic, payload: r.will_payload ?? Buffer.alloc(0), qos: (r.will_qos ?? 0) as QoS, retain: r.will_retain === 1,
      ...(properties === undefined ? {} : {properties}),
      ...(r.will_publish_at === null ? {} : {publishAt: r.will_publish_at}),
    }
  }
  return {
    clientId: r.client_id, protocolVersion: r.protocol_version as ProtocolVersion, expiryInterval: r.expiry_interval,
    ...(r.username === null ? {} : {username: r.username}),
    ...(r.expires_at === null ? {} : {expiresAt: r.expires_at}),
    ...(will === undefined ? {} : {will}),
  }
}

function toSubscriptionOptions(r: SubscriptionRow): StoredSubscriptionOptions {
  return {
    qos: r.qos as QoS, noLocal: r.no_local === 1, retainAsPublished: r.retain_as_published === 1,
    retainHandling: r.retain_handling as 0 | 1 | 2,
    ...(r.subscription_id === null ? {} : {subscriptionId: r.subscription_id}),
  }
}

function toMessage(r: Omit<MessageRow, 'id' | 'retain'>, retain: boolean): StoredMessage {
  const properties = decodeProperties(r.properties)
  return {
    topic: r.topic, payload: r.payload, qos: r.qos as QoS, retain,
    ...(properties === undefined ? {} : {properties}),
    ...(r.expires_at === null ? {} : {expiresAt: r.expires_at}),
    ...(r.origin === null ? {} : {origin: r.origin}),
  }
}
