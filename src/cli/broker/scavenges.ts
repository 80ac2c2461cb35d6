import v8 from 'node:v8'

/**
 * Makes V8 collect the young generation (scavenge) on the main thread alone, in this process.
 *
 * By default V8 scavenges in parallel: the main thread hands parts of the work to helper threads and
 * waits for them. A broker's scavenges are small (the young generation is capped at 8 MB, see
 * young-generation.ts, and 2-3% of it survives under QoS 1 load), so the helpers save little, and on a
 * machine whose cores are busy (the load generator, other processes) a helper that took its share and
 * was then descheduled holds the main thread up for a scheduler time slice. Measured with mqbench qos1
 * on 2 cores: scavenge pauses p50 0.4 / p90 3.0 / p99 7.6 ms in parallel, 0.3 / 0.5 / 6 ms on the main
 * thread; half the time in scavenges, and 25-40% less broker CPU per message (docs/benchmarks.md).
 *
 * V8 reads the flag at every scavenge (ScavengerCollector::NumberOfScavengeTasks), so setting it at run
 * time is safe; this is done only on the Node majors where that was checked, and not when the user set
 * it themselves (`parallel-scavenge` in NODE_OPTIONS or on node's command line). Returns a function that
 * gives the helpers back.
 */
export function serialScavenges(): () => void {
  if (!serialScavengesSupported() || userSet()) return () => {}
  v8.setFlagsFromString('--no-parallel-scavenge')
  let undone = false
  return () => {
    if (undone) return
    undone = true
    v8.setFlagsFromString('--parallel-scavenge')
  }
}

/** Node majors whose V8 was checked to read --parallel-scavenge at every scavenge. */
const CHECKED_NODE_MAJORS = new Set([20])

export function serialScavengesSupported(): boolean {
  return CHECKED_NODE_MAJORS.has(Number(process.versions.node.split('.')[0]))
}

function userSet(): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => /parallel[-_]scavenge/.test(arg))
}
