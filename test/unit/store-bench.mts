// Store throughput for QoS 1-shaped traffic: each batch enqueues N messages (in flight, as sent to
// an online subscriber) and removes the N of the previous batch (their PUBACKs), one flush per batch.
// Usage: node --import tsx test/unit/store-bench.ts [total=1000000] [batch=100,1000] [sync=full,normal] [payload=100]
// sync may also be memory, or redis-always / redis-everysec / redis-noaof (a redis-server of its own with that AOF policy).
import {mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {OutboundState, SqliteStore, MemoryStore, type BrokerStore} from '../../src/broker/store/index.js'
import {RedisStore} from '../../src/cluster/redis-store.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'

const total = Number(process.argv[2] ?? 1_000_000)
const batches = (process.argv[3] ?? '100,1000').split(',').map(Number)
const syncs = (process.argv[4] ?? 'full,normal').split(',')
const payloadSize = Number(process.argv[5] ?? 100)

async function run(mode: string, batch: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'midge-store-bench-'))
  const [sync, where] = mode.split(':') as ['full' | 'normal' | 'memory', string | undefined]
  let redis: RedisServer | undefined
  let store: BrokerStore
  if ((sync as string).startsWith('redis-')) {
    const policy = (sync as string).slice('redis-'.length)
    redis = await startRedis(policy === 'noaof' ? {} : {appendfsync: policy as 'always' | 'everysec'})
    store = await RedisStore.open({redis: redis.url, nodeId: 'bench'})
  } else {
    store = sync === 'memory' ? await MemoryStore.open() : await SqliteStore.open({file: join(dir, 'midge.db'), sync, thread: where !== 'direct'})
  }
  store.upsertSession({clientId: 'sub', protocolVersion: 5, expiryInterval: 3600})
  await store.flush()
  const payload = Buffer.alloc(payloadSize, 0x61)
  let previous: number[] = []
  const started = process.hrtime.bigint()
  let packetId = 0
  for (let done = 0; done < total; done += batch) {
    const ids: number[] = []
    for (let i = 0; i < batch; i++) {
      packetId = packetId === 65535 ? 1 : packetId + 1
      ids.push(store.enqueue('sub', {
        message: {topic: `bench/${(done + i) % 100}`, payload, qos: 1, retain: false},
        qos: 1, retain: false, state: OutboundState.Publish, packetId, dup: false,
      }))
    }
    for (const id of previous) store.removeOutbound(id)
    previous = ids
    await store.flush()
  }
  for (const id of previous) store.removeOutbound(id)
  await store.flush()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const sizes = readdirSync(dir).map((f) => `${f} ${(statSync(join(dir, f)).size / 1024).toFixed(0)} KiB`).join(', ')
  await store.close()
  const after = readdirSync(dir).map((f) => `${f} ${(statSync(join(dir, f)).size / 1024).toFixed(0)} KiB`).join(', ')
  console.log(`${mode.padEnd(12)} batch ${String(batch).padStart(5)}: ${total} msgs in ${seconds.toFixed(2)} s = ` +
    `${Math.round(total / seconds).toLocaleString('en')} msg/s (${Math.round(total / batch / seconds)} commits/s); ` +
    `files while open: ${sizes || '-'}; after close: ${after || '-'}`)
  await redis?.stop()
  rmSync(dir, {recursive: true, force: true})
}

/** An offline subscriber: `total` messages queued, then all removed; file sizes at each step and after a reopen. */
async function backlog(batch: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'midge-store-bench-'))
  const file = join(dir, 'midge.db')
  const size = () => readdirSync(dir).map((f) => `${f} ${(statSync(join(dir, f)).size / 1048576).toFixed(1)} MiB`).join(', ')
  let store = await SqliteStore.open({file})
  store.upsertSession({clientId: 'sub', protocolVersion: 5, expiryInterval: 3600})
  const payload = Buffer.alloc(payloadSize, 0x61)
  const ids: number[] = []
  let started = process.hrtime.bigint()
  for (let done = 0; done < total; done += batch) {
    for (let i = 0; i < batch; i++) {
      ids.push(store.enqueue('sub', {message: {topic: `bench/${(done + i) % 100}`, payload, qos: 1, retain: false}, qos: 1, retain: false, state: OutboundState.Queued, packetId: 0, dup: false}))
    }
    await store.flush()
  }
  const queueSeconds = Number(process.hrtime.bigint() - started) / 1e9
  console.log(`backlog: ${total} queued in ${queueSeconds.toFixed(2)} s (${Math.round(total / queueSeconds).toLocaleString('en')} msg/s): ${size()}`)
  await store.close()
  started = process.hrtime.bigint()
  store = await SqliteStore.open({file})
  const [state] = await store.loadSessions()
  console.log(`backlog: reopened and loaded ${state.outbound.length} in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s`)
  for (let i = 0; i < ids.length; i += batch) {
    for (const id of ids.slice(i, i + batch)) store.removeOutbound(id)
    await store.flush()
  }
  console.log(`backlog: all removed: ${size()}`)
  await store.close()
  store = await SqliteStore.open({file})
  await store.close()
  console.log(`backlog: after a reopen (incremental vacuum): ${size()}`)
  rmSync(dir, {recursive: true, force: true})
}

if (syncs[0] === 'backlog' as string) await backlog(batches[0])
else for (const sync of syncs) for (const batch of batches) await run(sync, batch)
