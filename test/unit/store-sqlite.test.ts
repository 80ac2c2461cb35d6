import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, test} from 'node:test'

import Database from 'better-sqlite3'
import {OutboundState, SCHEMA_VERSION, SqliteStore, StoreError} from '../../src/broker/store/index.js'
import {random, testSeed} from '../helpers/random.js'
import {runStoreContract, type RowCounts} from './store-contract.js'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'midge-store-'))
  dirs.push(dir)
  return dir
}

/** Hash of every file in the folder (the database and any -wal/-shm beside it). */
function fingerprint(dir: string): string {
  const hash = createHash('sha256')
  for (const name of readdirSync(dir).sort()) hash.update(name).update(readFileSync(join(dir, name)))
  return hash.digest('hex')
}

function counts(file: string): RowCounts {
  const db = new Database(file, {readonly: true})
  try {
    const n = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as {n: number}).n
    return {
      sessions: n('sessions'), subscriptions: n('subscriptions'), messages: n('messages'), outbound: n('outbound'),
      inbound: n('inbound_qos2'), retained: n('retained'),
    }
  } finally {
    db.close()
  }
}

const isRefusal = (code: string, pattern?: RegExp) => (e: unknown) =>
  e instanceof StoreError && e.code === code && (pattern === undefined || pattern.test(e.message))

// The database thread runs the built store (dist/, as `npm test` builds it first): from src/ under tsx,
// every thread would load tsx and its TypeScript again, seconds per open on a busy machine.
const built = await import(new URL('../../dist/broker/store/index.js', import.meta.url).href) as typeof import('../../src/broker/store/index.js')
// A worker inherits this process's execArgv, `--import tsx` included, which the built worker does not need.
process.execArgv = process.execArgv.filter((a, i, all) => !(a === 'tsx' && all[i - 1] === '--import') && !(a === '--import' && all[i + 1] === 'tsx'))

for (const thread of [true, false]) runStoreContract(thread ? 'sqlite (database thread, built)' : 'sqlite (in this thread)', () => {
  const dir = tempDir()
  const file = join(dir, 'midge.db')
  return {
    open: () => (thread ? built.SqliteStore : SqliteStore).open({file, thread}),
    storeError: thread ? built.StoreError : StoreError,
    counts: () => counts(file),
    setNewerSchema: () => {
      const db = new Database(file)
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
      db.close()
    },
    corrupt: () => {
      // scramble the b-tree pages after the schema page, keeping the header intact
      const size = readFileSync(file).length
      const fd = openSync(file, 'r+')
      for (let page = 1; page * 4096 < size; page += 2) writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, page * 4096)
      closeSync(fd)
    },
    fingerprint: () => fingerprint(dir),
    cleanup: () => rmSync(dir, {recursive: true, force: true}),
  }
})

describe('SqliteStore on disk', () => {
  let dir: string
  beforeEach(() => { dir = tempDir() })
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
  })

  test('creates a WAL database with the current schema version and its application id', async () => {
    const file = join(dir, 'midge.db')
    const store = await SqliteStore.open({file})
    await store.close()
    const db = new Database(file, {readonly: true})
    assert.equal(db.pragma('user_version', {simple: true}), SCHEMA_VERSION)
    assert.equal(db.pragma('application_id', {simple: true}), 0x4d494447)
    assert.equal(db.pragma('journal_mode', {simple: true}), 'wal')
    db.close()
  })

  test('an empty file is taken as a new database', async () => {
    const file = join(dir, 'empty.db')
    writeFileSync(file, '')
    const store = await SqliteStore.open({file})
    store.upsertSession({clientId: 'c', protocolVersion: 4, expiryInterval: 60})
    await store.close()
    assert.equal(counts(file).sessions, 1)
  })

  test('a file that is not a database is refused and left byte for byte unchanged', async () => {
    const file = join(dir, 'midge.db')
    writeFileSync(file, 'persistence true\npersistence_location /var/lib/mosquitto\n'.repeat(200))
    const before = fingerprint(dir)
    await assert.rejects(SqliteStore.open({file}), isRefusal('corrupt', /not a SQLite database/))
    assert.equal(fingerprint(dir), before)
  })

  test('a file with a SQLite header and garbage after it is refused and left unchanged', async () => {
    const file = join(dir, 'midge.db')
    writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(8192, 0x5a)]))
    const before = fingerprint(dir)
    await assert.rejects(SqliteStore.open({file}), isRefusal('corrupt'))
    assert.equal(fingerprint(dir), before)
  })

  test('another application\'s SQLite database is refused and left unchanged', async () => {
    const file = join(dir, 'other.db')
    const db = new Database(file)
    db.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (\'mine\')')
    db.close()
    const before = fingerprint(dir)
    await assert.rejects(SqliteStore.open({file}), isRefusal('foreign', /another application/))
    assert.equal(fingerprint(dir), before)
  })

  test('a path that cannot be written is refused with a clear error', async () => {
    const notDir = join(dir, 'a-file')
    writeFileSync(notDir, 'x')
    await assert.rejects(SqliteStore.open({file: join(notDir, 'midge.db')}), isRefusal('not-writable', /a-file/))
    await assert.rejects(SqliteStore.open({file: join(dir, 'missing', 'midge.db')}), isRefusal('not-writable', /missing/))
    mkdirSync(join(dir, 'is-a-dir.db'))
    await assert.rejects(SqliteStore.open({file: join(dir, 'is-a-dir.db')}), isRefusal('not-writable', /not a regular file/))
    if (process.getuid?.() !== 0) {
      mkdirSync(join(dir, 'ro'), {mode: 0o500})
      await assert.rejects(SqliteStore.open({file: join(dir, 'ro', 'midge.db')}), isRefusal('not-writable'))
    }
  })

  test('sync normal is accepted and durable across a reopen', async () => {
    const file = join(dir, 'midge.db')
    const store = await SqliteStore.open({file, sync: 'normal'})
    store.upsertSession({clientId: 'c', protocolVersion: 5, expiryInterval: 60})
    await store.flush()
    await store.close({discard: true})
    assert.equal(counts(file).sessions, 1)
  })

  test('kill -9 of a writing process: every flushed write is found, the database is intact', async () => {
    const file = join(dir, 'midge.db')
    const seed = testSeed(0x5eed) // where each round kills the writer
    const rnd = random(seed)
    for (let round = 0; round < 3; round++) {
      const killAt = 20 + Math.floor(rnd() * 30)
      // the child flushes batches of 100 messages and reports each flushed batch; it is killed mid-stream
      // the built store, as the broker runs it (no tsx to load in each child); a file, not -e: the
      // store's database thread would inherit -e's --input-type
      const script = join(dir, `writer-${round}.mjs`)
      writeFileSync(script, `
        import {SqliteStore, OutboundState} from ${JSON.stringify(new URL('../../dist/broker/store/index.js', import.meta.url).href)}
        const store = await SqliteStore.open({file: ${JSON.stringify(file)}})
        store.upsertSession({clientId: 'c', protocolVersion: 5, expiryInterval: 60})
        for (let batch = 0; ; batch++) {
          for (let i = 0; i < 100; i++) {
            store.enqueue('c', {message: {topic: 'r${round}/' + batch, payload: Buffer.alloc(200, i), qos: 1, retain: false},
              qos: 1, retain: false, state: OutboundState.Queued, packetId: 0, dup: false})
          }
          await store.flush()
          process.stdout.write(batch + '\\n')
        }
      `)
      const child = spawn(process.execPath, [script], {stdio: ['ignore', 'pipe', 'inherit']})
      let acknowledged = -1
      let buffered = ''
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString()
          const lines = buffered.split('\n')
          buffered = lines.pop()!
          for (const line of lines) acknowledged = Number(line)
          if (acknowledged >= killAt) child.kill('SIGKILL')
        })
        child.on('exit', () => resolve())
      })
      assert.ok(acknowledged >= killAt, `seed ${seed} round ${round}: the writer died before batch ${killAt}`)
      const store = await SqliteStore.open({file})
      const [state] = await store.loadSessions()
      const topics = new Map<string, number>()
      for (const o of state.outbound) topics.set(o.message.topic, (topics.get(o.message.topic) ?? 0) + 1)
      for (let b = 0; b <= acknowledged; b++) assert.equal(topics.get(`r${round}/${b}`), 100, `seed ${seed} round ${round} batch ${b}`)
      for (const [topic, n] of topics) assert.equal(n, 100, `seed ${seed}: ${topic}: batches are all or nothing`)
      assert.equal(state.outbound.every((o) => o.state === OutboundState.Queued), true)
      await store.close()
    }
    assert.equal(existsSync(file), true)
  })
})
