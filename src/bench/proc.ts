// CPU time of another process (the broker) from /proc, like mqbench: utime + stime of all its threads.
import {readFileSync} from 'node:fs'

const CLOCK_TICKS = 100 // USER_HZ: 100 on every Linux architecture node runs on

/** CPU seconds used so far by `pid`, or undefined (not Linux, no such process, no permission). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is the state (field 3); utime and stime are fields 14 and 15
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}
