// A bridge's `topic` lines and the topic remapping between the two brokers, as Mosquitto 2.0 does it
// (src/bridge_topic.c, lib/send_publish.c): the local topic is LOCAL_PREFIX + PATTERN and the remote
// topic REMOTE_PREFIX + PATTERN; a pattern of "" stands for nothing, so both prefixes are then needed
// and are the topics themselves. A message going out that matches a topic's local topic loses the
// local prefix and gains the remote one; coming in, the reverse. The first matching topic line with a
// prefix decides; a message that matches none keeps its topic.
import {isValidTopicFilter, isValidTopicName, matches} from '../../codec/topic.js'
import type {QoS} from '../../codec/index.js'

export type BridgeDirection = 'in' | 'out' | 'both'

/** One `topic PATTERN [in|out|both] [QOS] [LOCAL_PREFIX] [REMOTE_PREFIX]` line, resolved. */
export interface BridgeTopic {
  /** The pattern as written (undefined for the "" placeholder). */
  pattern?: string
  direction: BridgeDirection
  qos: QoS
  localPrefix?: string
  remotePrefix?: string
  /** The filter subscribed to on the local broker (out, both). */
  localTopic: string
  /** The filter subscribed to on the remote broker (in, both). */
  remoteTopic: string
}

/** A topic line that cannot be used: the message says why (the caller adds the file and line). */
export class BridgeTopicError extends Error {}

/**
 * Builds a topic from its parts (Mosquitto's bridge__add_topic): a pattern of `""` (or undefined)
 * is the empty placeholder, which needs both prefixes; prefixes must be valid topic names and
 * prefix + pattern a valid filter.
 */
export function bridgeTopic(pattern: string | undefined, direction: BridgeDirection = 'out', qos: QoS = 0,
  localPrefix?: string, remotePrefix?: string): BridgeTopic {
  const p = pattern === undefined || pattern === '""' ? undefined : pattern
  if (localPrefix !== undefined && !isValidTopicName(localPrefix)) throw new BridgeTopicError(`invalid local prefix '${localPrefix}'`)
  if (remotePrefix !== undefined && !isValidTopicName(remotePrefix)) throw new BridgeTopicError(`invalid remote prefix '${remotePrefix}'`)
  if (p === undefined && (localPrefix === undefined || remotePrefix === undefined)) {
    throw new BridgeTopicError('a "" pattern needs both a local and a remote prefix')
  }
  const localTopic = (localPrefix ?? '') + (p ?? '')
  const remoteTopic = (remotePrefix ?? '') + (p ?? '')
  if (!isValidTopicFilter(localTopic)) throw new BridgeTopicError(`invalid local topic '${localTopic}'`)
  if (!isValidTopicFilter(remoteTopic)) throw new BridgeTopicError(`invalid remote topic '${remoteTopic}'`)
  return {pattern: p, direction, qos, localPrefix, remotePrefix, localTopic, remoteTopic}
}

/** The topic a local message is published under on the remote broker. */
export function remoteTopicFor(topics: readonly BridgeTopic[], topic: string): string {
  for (const t of topics) {
    if (t.direction === 'in' || (t.localPrefix === undefined && t.remotePrefix === undefined)) continue
    if (!matches(t.localTopic, topic)) continue
    let mapped = topic
    if (t.localPrefix !== undefined && mapped.startsWith(t.localPrefix)) mapped = mapped.slice(t.localPrefix.length)
    if (t.remotePrefix !== undefined) mapped = t.remotePrefix + mapped
    return mapped
  }
  return topic
}

/** The topic a remote message is published under on the local broker. */
export function localTopicFor(topics: readonly BridgeTopic[], topic: string): string {
  for (const t of topics) {
    if (t.direction === 'out' || (t.localPrefix === undefined && t.remotePrefix === undefined)) continue
    if (!matches(t.remoteTopic, topic)) continue
    let mapped = topic
    if (t.remotePrefix !== undefined && mapped.startsWith(t.remotePrefix)) mapped = mapped.slice(t.remotePrefix.length)
    if (t.localPrefix !== undefined) mapped = t.localPrefix + mapped
    return mapped
  }
  return topic
}

/**
 * Parses the arguments of a mosquitto.conf `topic` line as Mosquitto does: space-separated tokens;
 * direction case-insensitive; `""` (or a `#` comment) in a prefix position means no prefix.
 */
export function parseTopicLine(args: string): BridgeTopic {
  const tokens = args.split(/\s+/).filter(Boolean)
  const [pattern, dir, qosText, local, remote, ...rest] = tokens
  if (pattern === undefined) throw new BridgeTopicError('a topic pattern is required')
  let direction: BridgeDirection = 'out'
  if (dir !== undefined && !dir.startsWith('#')) {
    const d = dir.toLowerCase()
    if (d !== 'in' && d !== 'out' && d !== 'both') throw new BridgeTopicError(`invalid direction '${dir}' (in, out or both)`)
    direction = d
  }
  let qos: QoS = 0
  if (qosText !== undefined && !dir!.startsWith('#') && !qosText.startsWith('#')) {
    if (!/^[0-2]$/.test(qosText)) throw new BridgeTopicError(`invalid QoS '${qosText}' (0, 1 or 2)`)
    qos = Number(qosText) as QoS
  }
  const commented = [dir, qosText].some((t) => t?.startsWith('#'))
  const prefix = (t: string | undefined) => t === undefined || t === '""' || t.startsWith('#') ? undefined : t
  const localPrefix = commented ? undefined : prefix(local)
  const remotePrefix = commented || local?.startsWith('#') ? undefined : prefix(remote)
  if (!commented && !local?.startsWith('#') && !remote?.startsWith('#') && rest.length > 0 && !rest[0]!.startsWith('#')) {
    throw new BridgeTopicError(`unexpected '${rest.join(' ')}' after the remote prefix`)
  }
  return bridgeTopic(pattern, direction, qos, localPrefix, remotePrefix)
}
