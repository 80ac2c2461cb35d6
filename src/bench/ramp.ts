// `bench --ramp FROM..TO/s over DURATION`: the publish rate rises in equal steps, each an open-loop run
// at a fixed rate; the answer is the highest step whose end-to-end latency p99 stayed under a limit.
import {parseDuration, parseQuantity} from './units.js'

export interface RampSpec {
  /** msg/s of the ramp's start and end (the first step is one step above `from`). */
  from: number
  to: number
  /** Seconds, over all the steps. */
  over: number
  steps: number
}

export interface RampStep {
  rate: number
  /** Delivered per second in the step. */
  achieved: number
  sent: number
  received: number
  lost: number
  /** End-to-end latency of the step, µs (null when nothing was measured). */
  p50: number | null
  p99: number | null
  passed: boolean
}

/** The longest a step lasts when the ramp has few seconds: 1 s; at most 10 steps. */
const MAX_STEPS = 10

/** `0..50000/s over 60s`, `1k..20k over 30s` (`/s` optional; `over` defaults to 60 s). Throws a TypeError. */
export function parseRamp(text: string): RampSpec {
  const [range, time, extra] = text.trim().split(/\s+over\s+/i)
  const ends = range.split('..')
  if (extra !== undefined || ends.length !== 2) throw new TypeError(`'${text}' is not a ramp (e.g. '0..50000/s over 60s')`)
  const from = parseQuantity(ends[0])
  const to = parseQuantity(ends[1])
  const over = time === undefined ? 60 : parseDuration(time)
  if (!(to > from)) throw new TypeError(`'${text}': the end rate must be above the start`)
  if (!(over >= 1)) throw new TypeError(`'${text}': the ramp must last 1 s or more`)
  return {from, to, over, steps: Math.min(MAX_STEPS, Math.floor(over))}
}

/** The rate of each step, rounded to whole messages per second. */
export function rampRates(r: RampSpec): number[] {
  return Array.from({length: r.steps}, (_, k) => Math.max(1, Math.round(r.from + ((r.to - r.from) * (k + 1)) / r.steps)))
}

/** The highest passing rate below the first failing step (null: the first step failed already). */
export function rampResult(steps: RampStep[]): number | null {
  let best: number | null = null
  for (const s of steps) {
    if (!s.passed) break
    best = s.rate
  }
  return best
}
