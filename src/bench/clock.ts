// The bench's clocks, in microseconds as plain numbers (no BigInt kept around).
// `mono` is CLOCK_MONOTONIC (process.hrtime): the same in every thread and every process on one host,
// so a publisher in one worker (or in another `bench pub` process) and a subscriber elsewhere agree.
// `wall` is the system clock with sub-millisecond resolution, for `bench pub` and `bench sub` on two
// hosts whose clocks are synchronised (NTP/PTP).
import {performance} from 'node:perf_hooks'

export type ClockName = 'mono' | 'wall'
export type Clock = () => number

export const monoMicros: Clock = () => Number(process.hrtime.bigint()) / 1000
export const wallMicros: Clock = () => (performance.timeOrigin + performance.now()) * 1000

export function clockFor(name: ClockName): Clock {
  return name === 'wall' ? wallMicros : monoMicros
}
