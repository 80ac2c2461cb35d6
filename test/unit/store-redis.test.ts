import {execFileSync} from 'node:child_process'
import {Redis} from 'ioredis'
import {RedisStore} from '../../src/cluster/redis-store.js'
import {startRedis} from '../helpers/redis.js'
import {runStoreContract, type RowCounts} from './store-contract.js'

/** Sums a per-key count over every key matching the pattern. */
async function sumOver(redis: Redis, pattern: string, count: (key: string) => Promise<number>): Promise<number> {
  let n = 0
  for await (const keys of redis.scanStream({match: pattern, count: 1000}) as AsyncIterable<string[]>) {
    for (const key of keys) n += await count(key)
  }
  return n
}

// each test gets its own redis-server, and its own client to inspect it
runStoreContract('redis', async () => {
  const server = await startRedis({args: ['--enable-debug-command', 'yes']})
  const inspect = new Redis(server.url, {lazyConnect: true})
  await inspect.connect()
  const prefix = 'test'
  return {
    open: () => RedisStore.open({redis: server.url, prefix, nodeId: 'node-a'}),
    counts: async (): Promise<RowCounts> => ({
      sessions: await inspect.hlen(`${prefix}:sessions`),
      subscriptions: await sumOver(inspect, `${prefix}:sub:*`, (k) => inspect.hlen(k)),
      messages: await inspect.hlen(`${prefix}:msg`),
      outbound: await inspect.hlen(`${prefix}:out`),
      inbound: await sumOver(inspect, `${prefix}:in:*`, (k) => inspect.scard(k)),
      retained: await inspect.hlen(`${prefix}:retained`),
    }),
    setNewerSchema: async () => { await inspect.set(`${prefix}:schema`, '2') },
    // a session record that is not one (as a foreign writer or a bad restore would leave it)
    corrupt: async () => { await inspect.hset(`${prefix}:sessions`, 'c', '{"c": "c", "x":') },
    // a digest of the whole data set (synchronous, as the contract asks: through redis-cli)
    fingerprint: () => execFileSync('redis-cli', ['-p', String(server.port), 'DEBUG', 'DIGEST'], {encoding: 'utf8'}).trim(),
    cleanup: async () => {
      inspect.disconnect()
      await server.stop()
    },
  }
})
