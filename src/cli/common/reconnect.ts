// --reconnect[=BACKOFF] of `sub` and `pub`: after a lost connection, connect again with an exponential
// back-off, counting and logging each reconnect. BACKOFF is MIN..MAX seconds (the wait doubles from
// MIN up to MAX) or one number (always that long). A broker that refuses the new CONNECT (bad
// credentials, banned) ends the run with its CONNACK code: only an unreachable broker is retried.
import {connect, ConnectionRefusedError, type ClientOptions, type MqttClient} from '../../client/index.js'
import {CliError, ExitCode} from './exit-codes.js'
import {shutdownSignal} from './signals.js'

export const DEFAULT_BACKOFF = '0.5..30'

export interface Backoff { min: number; max: number }

/** "MIN..MAX" or "SECONDS" (positive numbers, MIN <= MAX) -> seconds. */
export function parseBackoff(text: string): Backoff {
  const m = /^(\d+(?:\.\d+)?)(?:\.\.(\d+(?:\.\d+)?))?$/.exec(text)
  const min = m ? Number(m[1]) : Number.NaN
  const max = m?.[2] === undefined ? min : Number(m[2])
  if (!(min > 0 && max >= min)) throw new CliError(`--reconnect: '${text}' is not SECONDS or MIN..MAX seconds (e.g. ${DEFAULT_BACKOFF})`, ExitCode.Usage)
  return {min, max}
}

/**
 * oclif has no flag with an optional value: a bare --reconnect becomes --reconnect=DEFAULT_BACKOFF
 * (a value goes after "=", as with git's optional values).
 */
export function withReconnectDefault(argv: string[]): string[] {
  const end = argv.indexOf('--')
  return argv.map((a, i) => (a === '--reconnect' && (end === -1 || i < end) ? `--reconnect=${DEFAULT_BACKOFF}` : a))
}

export type Reconnect = (lost: Error | undefined) => Promise<MqttClient | undefined>

/**
 * Returns the function that reconnects after `lost`: it waits and retries until it is connected (the
 * new client), the signal aborts (undefined), or the broker refuses the connection (throws CliError
 * with the CONNACK code). The client id of the first connection is kept, so a -c session resumes.
 * Without a `signal`, SIGINT and SIGTERM stop it while it runs (and only then).
 */
export function reconnector(options: ClientOptions, backoff: Backoff, first: MqttClient, log: (line: string) => void, signal?: AbortSignal): Reconnect {
  let reconnects = 0
  const clientId = options.clientId || (options.clean === false ? first.clientId : options.clientId)
  return async (lost) => {
    const own = signal ? undefined : shutdownSignal()
    try {
      return await retry(lost, signal ?? own!.signal)
    } finally {
      own?.dispose()
    }
  }

  async function retry(lost: Error | undefined, signal: AbortSignal): Promise<MqttClient | undefined> {
    log(`connection lost (${lost?.message ?? 'closed by the broker'}); reconnecting`)
    let delay = backoff.min
    for (let attempt = 1; ; attempt++) {
      try {
        const {setTimeout: sleep} = await import('node:timers/promises') // loaded on the first reconnect, not at start
        await sleep(delay * 1000, undefined, {signal})
      } catch {
        return undefined // aborted
      }
      try {
        const client = await connect({...options, clientId, signal})
        reconnects++
        log(`reconnected after ${attempt} attempt${attempt === 1 ? '' : 's'} (${reconnects} reconnect${reconnects === 1 ? '' : 's'} so far)${client.connack.sessionPresent ? ', session resumed' : ''}`)
        return client
      } catch (error) {
        if (signal.aborted) return undefined
        if (error instanceof ConnectionRefusedError) throw new CliError(error.message, error.reasonCode)
        delay = Math.min(delay * 2, backoff.max)
        log(`reconnect attempt ${attempt} failed (${(error as Error).message}); next in ${delay}s`)
      }
    }
  }
}
