import type {LongTimer} from './session.js'
import type {Timers} from './timers.js'

/** setTimeout's limit: a longer delay is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Calls `fn` after `ms`, which may be longer than setTimeout allows (a session expiry interval can be
 * 136 years): the timer re-arms itself until the deadline. An exception from `fn` goes to `onError`,
 * never to the event loop. `handle.t` is the current timer, for clearTimeout.
 */
export function longTimer(timers: Timers, ms: number, fn: () => void, onError: (error: unknown) => void): LongTimer {
  const deadline = timers.now() + ms
  const handle: LongTimer = {t: undefined}
  const arm = (): void => {
    handle.t = timers.setTimeout(() => {
      if (deadline - timers.now() > 0) return arm()
      try {
        fn()
      } catch (error) {
        onError(error)
      }
    }, Math.min(Math.max(deadline - timers.now(), 0), MAX_TIMER_MS))
  }
  arm()
  return handle
}
