// The database thread of a SqliteStore: opens and checks the file, then applies batches and reads
// tables on request (see WorkerBackend in sqlite.ts).
import {parentPort, workerData} from 'node:worker_threads'
import type {Database as Db} from 'better-sqlite3'
import {StoreError} from './errors.js'
import {openDatabase, type WorkerReply, type WorkerRequest} from './sqlite.js'
import {BatchApplier, readRetainedTable, readSessionTables} from './sqlite-rows.js'

const port = parentPort!
const {file, sync} = workerData as {file: string; sync: 'full' | 'normal'}

function describe(error: unknown): NonNullable<WorkerReply['error']> {
  return error instanceof StoreError ? {code: error.code, message: error.message} : {message: (error as Error)?.message ?? String(error)}
}

let db: Db | undefined
let applier: BatchApplier | undefined
try {
  db = openDatabase(file, sync)
  applier = new BatchApplier(db)
  port.postMessage({id: 0} satisfies WorkerReply)
} catch (error) {
  port.postMessage({id: 0, error: describe(error)} satisfies WorkerReply)
}

if (db !== undefined && applier !== undefined) {
  const database = db
  const batches = applier
  // batches arrive back to back: after a failed one, none is applied (it may have depended on it)
  let failed: NonNullable<WorkerReply['error']> | undefined
  port.on('message', (request: WorkerRequest) => {
    if (failed !== undefined && request.cmd === 'commit') {
      port.postMessage({id: request.id, error: failed} satisfies WorkerReply)
      return
    }
    try {
      let result: unknown
      if (request.cmd === 'commit') {
        try {
          batches.apply(request.batch)
        } catch (error) {
          failed = describe(error)
          throw error
        }
      }
      if (request.cmd === 'loadSessions') result = readSessionTables(database)
      else if (request.cmd === 'loadRetained') result = readRetainedTable(database)
      if (request.cmd === 'close' && database.open) database.close()
      port.postMessage({id: request.id, result} satisfies WorkerReply)
    } catch (error) {
      port.postMessage({id: request.id, error: describe(error)} satisfies WorkerReply)
    }
  })
}
