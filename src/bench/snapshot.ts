// A reading of the run at one instant: its totals over all shards and the CPU clocks (ours, and the
// broker's when its pid is known). The result's window, rates and CPU figures are differences of two.
import type {Clock} from './clock.js'
import {processCpuSeconds} from './proc.js'
import {Stat, type SharedStats} from './stats.js'

export interface Snapshot {t: number; sent: number; received: number; acked: number; cpu: NodeJS.CpuUsage; broker: number | undefined}

export function takeSnapshot(clock: Clock, stats: SharedStats, brokerPid: number | undefined): Snapshot {
  return {
    t: clock(), sent: stats.total(Stat.Sent), received: stats.total(Stat.Received), acked: stats.total(Stat.Acked),
    cpu: process.cpuUsage(), broker: brokerPid ? processCpuSeconds(brokerPid) : undefined,
  }
}
