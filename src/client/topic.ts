// Topic names and filters, checked before anything is sent. The rules are the shared ones in
// src/codec/topic.ts (the broker enforces the same); this file only says why a topic is refused.
import {escapeDiscouraged, hasDiscouragedText} from '../codec/checks.js'
import {isValidTopicFilter, isValidTopicName, matches, parseSharedFilter} from '../codec/topic.js'

/** (v5 1.5.4) senders SHOULD NOT use them, and brokers (Mosquitto, midge) close the connection. */
const CONTROL = 'cannot contain control characters or Unicode non-characters'

/** Returns why `topic` is not a valid topic name to publish to, or undefined if it is. */
export function validateTopicName(topic: string): string | undefined {
  if (isValidTopicName(topic)) return hasDiscouragedText(topic) ? `a topic ${CONTROL}` : undefined
  if (topic.length === 0) return 'a topic cannot be empty' // [MQTT-4.7.3-1]
  if (topic.includes('+') || topic.includes('#')) return 'a publish topic cannot contain + or #' // [MQTT-3.3.2-2]
  if (topic.includes('\0')) return 'a topic cannot contain U+0000' // [MQTT-4.7.3-2]
  if (Buffer.byteLength(topic) > 65_535) return 'a topic is at most 65535 bytes'
  return 'a topic must be well-formed UTF-8' // [MQTT-1.5.4-1]
}

/** Returns why `filter` is not a valid subscription filter, or undefined if it is. */
export function validateTopicFilter(filter: string): string | undefined {
  if (isValidTopicFilter(filter)) return hasDiscouragedText(filter) ? `a topic filter ${CONTROL}` : undefined
  if (filter.length === 0) return 'a topic filter cannot be empty' // [MQTT-4.7.3-1]
  if (filter.includes('\0')) return 'a topic filter cannot contain U+0000'
  if (Buffer.byteLength(filter) > 65_535) return 'a topic filter is at most 65535 bytes'
  if (filter.startsWith('$share/')) return 'a shared subscription is $share/{group}/{filter}, the group without + # or /' // [MQTT-4.8.2-1]
  if (/#./.test(filter) || /[^/]#/.test(filter)) return "'#' must be a whole level, and the last" // [MQTT-4.7.1-1]
  if (/[^/]\+|\+[^/]/.test(filter)) return "'+' must be a whole level" // [MQTT-4.7.1-2]
  return 'a topic filter must be well-formed UTF-8' // [MQTT-1.5.4-1]
}

/** A topic or client id for a message: quoted, with control characters written as \\uXXXX. */
export function shown(text: string): string {
  return hasDiscouragedText(text) ? `"${escapeDiscouraged(text)}"` : `'${text}'`
}

/** Why a client id or user name would be refused by brokers, or undefined if it would not. */
export function validateIdentity(text: string): string | undefined {
  return hasDiscouragedText(text) ? CONTROL : undefined
}

/** True if `topic` matches `filter` ('$' topics match only filters that name their first level). */
export function topicMatches(filter: string, topic: string): boolean {
  return matches(parseSharedFilter(filter)?.filter ?? filter, topic)
}
