import type {Redis} from 'ioredis'

/**
 * How long a node waits at start for Redis to answer (connect, the ready check, the first reads): a
 * Redis that accepts connections but does not answer (stalled, paused, a proxy whose backend is gone)
 * fails the start with one line instead of hanging it.
 */
export const REDIS_START_TIMEOUT_MS = 10_000

/**
 * Connects to Redis (redis://, rediss://, with /DB) and waits for it to answer, at most `timeoutMs`.
 * ioredis is loaded here, on first use, so that a broker without a cluster never loads it.
 */
export async function connectRedis(url: string,
  options: {connectionName?: string; timeoutMs?: number; commandTimeoutMs?: number; signal?: AbortSignal} = {}): Promise<Redis> {
  const {Redis: Client} = await import('ioredis')
  const redis = new Client(url, {
    lazyConnect: true, maxRetriesPerRequest: 3, connectionName: options.connectionName,
    // a command (a reconnection's ready check included) that gets no answer fails after this long
    ...(options.commandTimeoutMs === undefined ? {} : {commandTimeout: options.commandTimeoutMs}),
  })
  // ioredis logs unhandled 'error' events to the console: the callers see errors on their commands
  let cause: Error | undefined
  redis.on('error', (error: Error) => { cause ??= error })
  const timeoutMs = options.timeoutMs ?? REDIS_START_TIMEOUT_MS
  try {
    await answersWithin(redis, timeoutMs, () => redis.connect(), options.signal)
  } catch (error) {
    redis.disconnect()
    if (error instanceof RedisAborted) throw error
    if (error instanceof RedisTimeout) throw new Error(`cannot connect to Redis at ${logUrl(url)}: ${error.message}`, {cause: error})
    // the first error says why (ECONNREFUSED, a DNS failure); connect() only says the connection closed
    throw new Error(`cannot connect to Redis at ${logUrl(url)}: ${(cause ?? error as Error).message}`, {cause: cause ?? error})
  }
  return redis
}

/** How long the store's commands (its commits) wait for Redis to answer once running. */
export const REDIS_COMMAND_TIMEOUT_MS = 10_000

/** ioredis' error for a command that got no answer within its commandTimeout. */
export function isCommandTimeout(error: unknown): boolean {
  return (error as Error | undefined)?.message === 'Command timed out'
}

/** Redis did not answer in time. */
export class RedisTimeout extends Error {}

/** The wait for Redis was given up on purpose (SIGINT or SIGTERM during a node's start). */
export class RedisAborted extends Error {}

/**
 * Runs `step` (commands on `redis`), disconnecting `redis` if it has not settled after `timeoutMs`:
 * its pending commands then fail, and so does the step, with a RedisTimeout saying so; or at once when
 * `signal` aborts (a RedisAborted).
 */
export async function answersWithin<T>(redis: Redis, timeoutMs: number, step: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let expired = false
  const giveUp = (): void => {
    expired = true
    redis.disconnect()
  }
  const timer = setTimeout(giveUp, timeoutMs)
  signal?.addEventListener('abort', giveUp, {once: true})
  try {
    if (signal?.aborted) giveUp()
    return await step()
  } catch (error) {
    if (signal?.aborted) throw new RedisAborted(`stopped (${String(signal.reason)}) while waiting for Redis`, {cause: error})
    if (expired) throw new RedisTimeout(`no answer within ${timeoutMs / 1000} s`, {cause: error})
    throw error
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', giveUp)
  }
}

/** Waits `ms`, or less when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, {once: true})
  })
}

/** The URL without its password, for logs and errors. */
export function logUrl(url: string): string {
  try {
    const u = new URL(url)
    u.password = ''
    return u.toString()
  } catch {
    return url
  }
}
