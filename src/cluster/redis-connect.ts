import type {Redis} from 'ioredis'

/**
 * Connects to Redis (redis://, rediss://, with /DB) and waits for it to answer. ioredis is loaded here,
 * on first use, so that a broker without a cluster never loads it.
 */
export async function connectRedis(url: string, options: {connectionName?: string} = {}): Promise<Redis> {
  const {Redis: Client} = await import('ioredis')
  const redis = new Client(url, {lazyConnect: true, maxRetriesPerRequest: 3, connectionName: options.connectionName})
  // ioredis logs unhandled 'error' events to the console: the callers see errors on their commands
  let cause: Error | undefined
  redis.on('error', (error: Error) => { cause ??= error })
  try {
    await redis.connect()
  } catch (error) {
    redis.disconnect()
    // the first error says why (ECONNREFUSED, a DNS failure); connect() only says the connection closed
    throw new Error(`cannot connect to Redis at ${url}: ${(cause ?? error as Error).message}`, {cause: cause ?? error})
  }
  return redis
}
