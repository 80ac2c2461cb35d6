// A cluster node's rewrite after a Redis outage, at the store: N sessions (record, 1 subscription, 2
// queued messages each, one message shared by all) buffered in one turn, then committed as one
// MULTI/EXEC (flush, `single`) or one per 500 sessions (flushRewrite, `chunked`), on a redis-server of
// its own (no AOF). Reports the commit's wall time and this process's CPU, and from Redis: the EXECs,
// their total and per-call time, the longest event its latency monitor saw (how long Redis was blocked)
// and the largest client input buffer (the queued transaction).
// Usage: node --import tsx test/unit/store-rewrite-bench.mts [sessions=20000] [modes=single,chunked,single,chunked]
import {Redis} from 'ioredis'
import {RedisStore} from '../../src/cluster/redis-store.js'
import {startRedis} from '../helpers/redis.js'

const sessions = Number(process.argv[2] ?? 20_000)
const modes = (process.argv[3] ?? 'single,chunked,single,chunked').split(',')
const server = await startRedis()
try {
  for (const [run, mode] of modes.entries()) console.log(JSON.stringify(await once(server.url, mode, sessions, run)))
} finally {
  await server.stop()
}

async function once(url: string, mode: string, n: number, run: number): Promise<Record<string, unknown>> {
  const admin = new Redis(url)
  await admin.flushall()
  const store = await RedisStore.open({redis: url, nodeId: `bench-${run}`, loadAll: false, retained: false})
  await admin.config('SET', 'latency-monitor-threshold', '1')
  await admin.latency('RESET')
  await admin.config('RESETSTAT')
  const message = (topic: string) => ({topic, payload: Buffer.alloc(64), qos: 1 as const, retain: false})
  const shared = message('all/t')
  const queued = (m: ReturnType<typeof message>) => ({message: m, qos: 1 as const, retain: false, state: 0 as never, packetId: 0, dup: false})
  // one turn, as Persistence.rewrite(): nothing is auto-committed before the flush
  for (let i = 0; i < n; i++) {
    const c = `c${i}`
    store.upsertSession({clientId: c, expiryInterval: 3600, protocolVersion: 5} as never)
    store.addSubscription(c, `t/${i}/#`, {qos: 1} as never)
    store.enqueue(c, queued(shared))
    store.enqueue(c, queued(message(`t/${i}/x`)))
  }
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await (mode === 'chunked' ? store.flushRewrite() : store.flush())
  const commitMs = Math.round(performance.now() - t0)
  const cpu = process.cpuUsage(cpu0)
  const exec = /cmdstat_exec:calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(await admin.info('commandstats'))!
  const latest = await admin.latency('LATEST') as Array<[string, number, number, number]>
  const input = Number(/client_recent_max_input_buffer:(\d+)/.exec(await admin.info('clients'))![1])
  const rows = await admin.hlen('midge:out')
  await store.close()
  admin.disconnect()
  return {mode, sessions: n, rows, commitMs, nodeCpuMs: Math.round((cpu.user + cpu.system) / 1000), execs: Number(exec[1]),
    execMsTotal: Math.round(Number(exec[2]) / 1000), execMsPerCall: Math.round(Number(exec[3]) / 100) / 10,
    redisBlockedMaxMs: Math.max(0, ...latest.map((e) => e[3])), inputBufferKB: Math.round(input / 1024)}
}
