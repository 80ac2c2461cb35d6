// Why deliveries were lost, in words for the summary and the JSON document: from what the bench saw
// (lost connections, the loop it ran, the QoS) and, when the broker says so (--embedded: its
// /metrics), the broker's own drop counts by reason.
import type {BenchResult} from './result.js'
import {formatCount} from './units.js'

/** What each of midge's drop reasons means, for the summary. */
const REASONS: Record<string, string> = {
  'slow-reader': "a subscriber's unsent output passed the broker's bound, so QoS 0 deliveries to it were dropped",
  'queue-full': "a session's queue was at its limit (max_queued_messages / _bytes)",
  expired: 'the message expired before it could be sent (Message Expiry Interval)',
  'too-large': "larger than the subscriber's Maximum Packet Size",
  'no-packet-id': 'no free packet id for the subscriber',
  'delivery-failed': 'the delivery failed',
  'not-authorized': 'the ACL refused the delivery',
  'session-ended': 'the session ended with the delivery still queued',
}

/** Drop reasons midge's /metrics page counts: `midge_messages_dropped_total{reason="slow-reader"} 12`. */
export function parseDropMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^midge_messages_dropped_total\{reason="([^"]+)"\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/gm)) {
    const n = Number(m[2])
    if (n > 0 && m[1] !== 'offline-qos0') out[m[1]] = n
  }
  return out
}

/** One sentence per cause of loss; none when nothing was lost. */
export function explainLoss(r: BenchResult, brokerDrops: Record<string, number> | null): string[] {
  const m = r.messages
  if (m.lost === 0) return []
  const out: string[] = []
  const p = r.parameters
  if (r.connections.lost > 0) out.push(`${formatCount(r.connections.lost)} connections were lost during the run: what was on its way to or from them is missing`)
  if (m.refused > 0) {
    const reasons = Object.entries(r.errors).filter(([reason]) => reason.startsWith('PUBACK') || reason.startsWith('PUBREC'))
    out.push(`the broker refused ${formatCount(m.refused)} publishes${reasons.length ? ` (${reasons.map(([reason]) => reason).join(', ')})` : ''}: they were never delivered`)
  }
  if (brokerDrops && Object.keys(brokerDrops).length > 0) {
    for (const [reason, n] of Object.entries(brokerDrops).sort((a, b) => b[1] - a[1])) {
      out.push(`the broker dropped ${formatCount(n)} (${reason}): ${REASONS[reason] ?? reason}`)
    }
  } else if (r.connections.lost === 0 && m.refused === 0) {
    out.push(p.qos === 0
      ? 'the broker dropped QoS 0 deliveries it could not write or queue (a slow-reader bound, or its queue limit)'
      : "the broker dropped deliveries beyond a session's queue limit (Mosquitto: max_queued_messages, 1,000 by default)")
  }
  if (p.loop === 'open') {
    out.push(p.rate > 0
      ? `open loop at ${formatCount(p.rate)} msg/s: more than the broker delivered; a closed-loop run (no --rate) measures what it sustains`
      : 'open loop: the publishers sent as fast as their sockets took, more than the broker delivered; the default closed loop measures what it sustains')
  } else if (p.loop === 'closed' && p.maxOutstanding > 0) {
    out.push(`closed loop with up to ${formatCount(p.maxOutstanding)} deliveries outstanding: more than the broker holds for its subscribers; a lower --max-outstanding stays within its bounds`)
  }
  if (r.interrupted) out.push('interrupted: deliveries still on their way were not waited for')
  return out
}
