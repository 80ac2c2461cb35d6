// How the publishers are paced: closed loop (the default: they pause while a bounded number of
// deliveries are sent but not yet received, so the run measures what the broker sustains and nothing
// is dropped for being ahead) or open loop (each on its schedule with --rate/-I, or, with --open-loop
// alone, as fast as their sockets take: overload on purpose).
import type {BenchConfig} from './config.js'

export type Loop = 'closed' | 'open'

/** Closed loop, QoS 0: deliveries outstanding per subscriber. */
export const QOS0_DEPTH = 5000
/**
 * Closed loop, QoS 1/2: deliveries outstanding in all, however many subscribers (so that no one of
 * them, however far behind the others, passes it): Mosquitto's and midge's default queue limit
 * (max_queued_messages 1000) drops beyond it.
 */
export const QOS12_OUTSTANDING = 1000
/**
 * Closed loop: bytes outstanding in all, half midge's slow-reader bound (16 MiB of unsent output per
 * connection), so that even a subscriber with every outstanding delivery stays within it.
 */
export const OUTSTANDING_BYTES = 8 * 1024 * 1024
/** Closed loop: deliveries outstanding in all, however many subscribers (mqbench's window). */
export const OUTSTANDING_TOTAL = 50_000

export interface Pacing {
  loop: Loop
  /** Open loop: total messages per second (0: as fast as the sockets take). */
  rate: number
  /** Closed loop: deliveries outstanding at most (0 in open loop). */
  maxOutstanding: number
}

/** The pacing a config asks for; the closed-loop bound from the QoS, payload and subscribers unless set. */
export function pacing(c: Pick<BenchConfig, 'mode' | 'rate' | 'intervalMs' | 'openLoop' | 'maxOutstanding' | 'qos' | 'payloadSize' | 'topic' | 'subscribers' | 'publishers'>): Pacing {
  const rate = c.rate > 0 ? c.rate : c.intervalMs > 0 && c.publishers > 0 ? (c.publishers * 1000) / c.intervalMs : 0
  if (rate > 0 || c.openLoop || c.maxOutstanding === 0) return {loop: 'open', rate, maxOutstanding: 0}
  // `bench pub` sees no deliveries: QoS 1/2 publishers wait for their acks (-F), QoS 0 ones for nothing
  if (c.mode !== 'e2e') return {loop: c.qos > 0 ? 'closed' : 'open', rate: 0, maxOutstanding: 0}
  return {loop: 'closed', rate: 0, maxOutstanding: c.maxOutstanding ?? defaultOutstanding(c)}
}

/** The closed-loop bound when none is given: what the broker's default limits hold without a drop. */
export function defaultOutstanding(c: Pick<BenchConfig, 'qos' | 'payloadSize' | 'topic' | 'subscribers'>): number {
  // the PUBLISH on the wire: fixed header, topic, packet id, properties
  const packet = c.payloadSize + Buffer.byteLength(c.topic) + 16
  const byBytes = Math.floor(OUTSTANDING_BYTES / packet)
  const byCount = c.qos > 0 ? QOS12_OUTSTANDING : Math.min(OUTSTANDING_TOTAL, QOS0_DEPTH * Math.max(1, c.subscribers))
  return Math.max(1, Math.min(byCount, byBytes))
}
