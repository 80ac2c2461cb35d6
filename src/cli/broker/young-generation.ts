import {PerformanceObserver} from 'node:perf_hooks'
import v8 from 'node:v8'

/** The young generation the broker process keeps: what `--max-semi-space-size=4` gives. */
export const YOUNG_GENERATION_CAP_BYTES = 8 * 1024 * 1024

const STOP_GROWING = '--semi-space-growth-factor=1'
const GROW = '--semi-space-growth-factor=2' // V8's default

/**
 * Stops V8's young generation (new space) from growing past `capBytes`, in this process.
 *
 * V8 doubles the young generation when most of what it allocates survives, which is what a burst of
 * connections looks like (every socket and session lives on), up to 32 MB on 64-bit Node 20. A broker
 * then holds those 32 MB for as long as it runs, idle or not: over the first 10,000 connections, about
 * 1.5-2 kB of RSS per connection on top of the connections themselves. Capped at 8 MB (measured with
 * mqbench): QoS 1 throughput about 5% lower, QoS 0 and latency within the noise.
 *
 * `--max-semi-space-size` would do this, but only on the command line: V8 sizes the heap at startup. The
 * growth factor, however, is read at every growth, so after each garbage collection this sets it to 1
 * at the cap (no growth) and back to V8's default of 2 below it (V8 shrinks the young generation when
 * the process is idle; it may then grow back up to the cap).
 *
 * A growth factor of 1 is below what V8 accepts on the command line, and flags changed at run time are
 * only safe where they were tried (others, such as --single-threaded-gc, crash V8): so this runs only on
 * the Node majors it was measured on (V8 reads the flag in one place, SemiSpaceNewSpace::Grow, where 1
 * means "grow by nothing"). Elsewhere, and when the user sized the young generation themselves (a
 * `semi-space` option in NODE_OPTIONS or on node's command line), it does nothing.
 * Returns a function that stops watching.
 */
export function capYoungGeneration(capBytes = YOUNG_GENERATION_CAP_BYTES): () => void {
  if (!youngGenerationCapSupported() || userSized()) return () => {}
  let stopped = false
  const check = (): void => {
    const atCap = youngGenerationBytes() >= capBytes
    if (atCap === stopped) return
    v8.setFlagsFromString(atCap ? STOP_GROWING : GROW)
    stopped = atCap
  }
  const observer = new PerformanceObserver(check)
  observer.observe({entryTypes: ['gc']})
  check()
  return () => {
    observer.disconnect()
    if (stopped) v8.setFlagsFromString(GROW)
    stopped = false
  }
}

/** The committed size of V8's new space, in bytes. */
export function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0
}

/** Node majors whose V8 was checked to take the growth factor at run time (see capYoungGeneration). */
const CHECKED_NODE_MAJORS = new Set([20])

export function youngGenerationCapSupported(): boolean {
  return CHECKED_NODE_MAJORS.has(Number(process.versions.node.split('.')[0]))
}

function userSized(): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => /semi[-_]space/.test(arg))
}
