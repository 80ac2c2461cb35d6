import type {Packet} from '../codec/index.js'

/** Longest reason string sent, in code points: reasons quote client input (a topic can be 65,535 bytes). */
const MAX_REASON = 256

/**
 * A packet whose reason string is at most MAX_REASON code points (cut with an ellipsis): a reason
 * quoting a 65,535-byte topic could not be encoded at all (found by the fuzzer: "cannot encode pubrec").
 */
export function boundReasonString(packet: Packet): Packet {
  const properties = (packet as {properties?: {reasonString?: string}}).properties
  const reason = properties?.reasonString
  if (reason === undefined || reason.length <= MAX_REASON) return packet
  const points = Array.from(reason)
  if (points.length <= MAX_REASON) return packet
  return {...packet, properties: {...properties, reasonString: `${points.slice(0, MAX_REASON - 1).join('')}…`}} as Packet
}
