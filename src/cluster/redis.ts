import type {Redis, RedisOptions} from 'ioredis'

/** Makes ioredis connections to the cluster's Redis; part 2 (sessions) opens its own through it. */
export type RedisFactory = (purpose: string) => Promise<Redis>

/**
 * Checks a `--cluster` URL: redis:// or rediss://, with an optional database number. Throws an
 * Error with a one-line message otherwise.
 */
export function checkClusterUrl(url: string): URL {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new Error(`not a Redis URL: ${JSON.stringify(url)} (expected redis://HOST:PORT[/DB])`)
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`not a Redis URL: ${JSON.stringify(url)} (expected redis://HOST:PORT[/DB])`)
  const db = u.pathname.replace(/^\//, '')
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`the Redis database in ${JSON.stringify(url)} must be a number`)
  return u
}

/**
 * A factory of connections to `url`. ioredis is imported here, on first use, so a broker without
 * `--cluster` never loads it. Every connection: no offline queue (a command while Redis is away fails
 * at once instead of piling up), reconnects forever with a backoff capped at 2 s, names itself
 * `midge:{node}:{purpose}` in CLIENT LIST.
 */
export function redisFactory(url: string, node: string, extra: Partial<RedisOptions> = {}): RedisFactory {
  checkClusterUrl(url)
  return async (purpose) => {
    const {Redis} = await import('ioredis')
    return new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: `midge:${node}:${purpose}`,
      retryStrategy: (times) => Math.min(times * 100, 2000),
      ...extra,
    })
  }
}
