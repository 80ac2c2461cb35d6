import {constants, accessSync, closeSync, openSync, readSync, statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {Worker} from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import type {Database as Db} from 'better-sqlite3'
import {createRequire} from 'node:module'
import {BufferedStore} from './buffered.js'
import type {Backend, SessionRows, WriteOp} from './write-ops.js'
import {StoreError, type StoreErrorCode} from './errors.js'
import {APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION} from './schema.js'
import {
  BatchApplier, decodeRetainedTable, decodeSessionTables, encodeBatch, readRetainedTable, readSessionTables,
  type Batch, type SessionTables,
} from './sqlite-rows.js'
import type {StoredMessage} from './types.js'

export interface SqliteStoreOptions {
  /** The database file (created if missing; its folder must exist). */
  file: string
  /**
   * 'full' (default): every commit is fsynced, so an acknowledged message survives a power loss.
   * 'normal': commits survive a crash of the broker process (kill -9) but the last ones may be lost
   * on a power loss; the WAL is synced at checkpoints only. Several times faster.
   */
  sync?: 'full' | 'normal'
  /**
   * Run SQLite in a worker thread (default): commits, and their fsync, happen beside the event loop,
   * which goes on serving clients meanwhile. false: in this thread (simpler, for tools and tests).
   */
  thread?: boolean
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * Broker state in one SQLite file (better-sqlite3): WAL journal, one transaction per flush, prepared
 * statements, in a worker thread by default. The file is checked before anything is written to it
 * (SQLite header, integrity, application id, schema version), and held with an exclusive lock while
 * open, so a second broker on the same file is refused rather than sharing it.
 */
export class SqliteStore extends BufferedStore {
  private constructor(backend: Backend, readonly file: string) {
    super(backend)
  }

  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const file = resolve(options.file)
    const sync = options.sync ?? 'full'
    const backend = options.thread === false ? new DirectBackend(openDatabase(file, sync)) : await WorkerBackend.start(file, sync)
    const store = new SqliteStore(backend, file)
    try {
      await store.init()
    } catch (error) {
      await backend.close()
      throw error
    }
    return store
  }
}

/**
 * better-sqlite3, loaded where a database is opened: in the worker thread by default, so that the broker's
 * own thread (and a broker without --persistence) never maps the native library.
 */
function loadSqlite(): typeof BetterSqlite3 {
  return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
}

/** Opens, checks, configures and migrates the database; throws a StoreError saying why it cannot. */
export function openDatabase(file: string, sync: 'full' | 'normal'): Db {
  const db = openChecked(file)
  try {
    configure(db, sync)
    migrate(db)
    return db
  } catch (error) {
    db.close()
    throw classify(error, file)
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
    db = new (loadSqlite())(file, {timeout: 200})
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
    for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db)
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

/** SQLite in this thread. */
class DirectBackend implements Backend {
  private readonly applier: BatchApplier

  constructor(private readonly db: Db) {
    this.applier = new BatchApplier(db)
  }

  commit(ops: readonly WriteOp[]): void {
    this.applier.apply(encodeBatch(ops))
  }

  loadSessions(): SessionRows {
    return decodeSessionTables(readSessionTables(this.db))
  }

  loadRetained(): StoredMessage[] {
    return decodeRetainedTable(readRetainedTable(this.db))
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

/** What the worker (sqlite-worker.ts) is asked. */
type WorkerCommand = {cmd: 'commit'; batch: Batch} | {cmd: 'loadSessions' | 'loadRetained' | 'close'}
export type WorkerRequest = {id: number} & WorkerCommand
export type WorkerReply = {id: number; result?: unknown; error?: {code?: StoreErrorCode; message: string}}

/** SQLite in a worker thread: batches go over with their blobs transferred, rows come back raw. */
class WorkerBackend implements Backend {
  readonly pipelined = true
  private waiting: Array<readonly WriteOp[]> = []
  private group: Promise<void> | undefined
  private idle: Promise<void> = Promise.resolve()
  private nextId = 1
  private readonly pending = new Map<number, {resolve: (v: unknown) => void; reject: (e: Error) => void}>()
  private dead: Error | undefined
  private readonly exited: Promise<void>

  private constructor(private readonly worker: Worker) {
    worker.unref()
    worker.on('message', (reply: WorkerReply) => this.answer(reply))
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()))
    const fail = (error: Error) => {
      this.dead ??= error
      for (const p of this.pending.values()) p.reject(this.dead)
      this.pending.clear()
    }
    worker.on('error', fail)
    worker.once('exit', () => fail(new StoreError('failed', 'the database thread stopped')))
  }

  static async start(file: string, sync: 'full' | 'normal'): Promise<WorkerBackend> {
    const worker = startWorker({file, sync})
    const ready = await new Promise<WorkerReply>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    if (ready.error !== undefined) {
      await worker.terminate()
      throw ready.error.code === undefined ? new Error(ready.error.message) : new StoreError(ready.error.code, ready.error.message)
    }
    return new WorkerBackend(worker)
  }

  private request(message: WorkerCommand, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.dead !== undefined) return Promise.reject(this.dead)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      if (this.pending.size === 1) this.worker.ref() // an answer is awaited: keep the process alive for it
      this.worker.postMessage({...message, id}, transfer)
    })
  }

  private answer(reply: WorkerReply): void {
    const p = this.pending.get(reply.id)
    if (p === undefined) return
    this.pending.delete(reply.id)
    if (this.pending.size === 0) this.worker.unref()
    if (reply.error === undefined) p.resolve(reply.result)
    else p.reject(reply.error.code === undefined ? new Error(reply.error.message) : new StoreError(reply.error.code, reply.error.message))
  }

  /**
   * Group commit: one batch at a time goes to the database thread; the batches flushed while it is
   * busy wait and then go together, as one transaction (one fsync).
   */
  commit(ops: readonly WriteOp[]): Promise<void> {
    this.waiting.push(ops)
    this.group ??= this.idle.then(() => {
      const groups = this.waiting
      this.waiting = []
      this.group = undefined
      const batch = encodeBatch(groups.length === 1 ? groups[0]! : groups.flat())
      const sent = batch.bytes.length === 0 ? Promise.resolve() : this.request({cmd: 'commit', batch}, [batch.bytes.buffer as ArrayBuffer])
      this.idle = sent.then(() => undefined, () => undefined)
      return sent.then(() => undefined)
    })
    return this.group
  }

  async loadSessions(): Promise<SessionRows> {
    return decodeSessionTables(await this.request({cmd: 'loadSessions'}) as SessionTables)
  }

  async loadRetained(): Promise<StoredMessage[]> {
    return decodeRetainedTable(await this.request({cmd: 'loadRetained'}) as unknown[][])
  }

  async close(): Promise<void> {
    if (this.dead === undefined) await this.request({cmd: 'close'}).catch(() => undefined)
    await this.worker.terminate()
    await this.exited
  }
}

/** dist/broker/store/sqlite-worker.js when built; from the TypeScript sources (tests under tsx), through tsx's loader. */
function startWorker(workerData: {file: string; sync: 'full' | 'normal'}): Worker {
  const url = new URL(import.meta.url.endsWith('.ts') ? './sqlite-worker.ts' : './sqlite-worker.js', import.meta.url)
  if (!import.meta.url.endsWith('.ts')) return new Worker(url, {workerData})
  const tsx = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsx)}).then(({register}) => { register(); return import(${JSON.stringify(url.href)}) })`
  return new Worker(boot, {eval: true, workerData})
}
