// Topic names and filters (MQTT 5 §4.7), checked before anything is sent.

/** Returns why `topic` is not a valid topic name to publish to, or undefined if it is. */
export function validateTopicName(topic: string): string | undefined {
  if (topic.length === 0) return 'a topic cannot be empty' // [MQTT-4.7.3-1]
  if (topic.includes('+') || topic.includes('#')) return 'a publish topic cannot contain + or #' // [MQTT-3.3.2-2]
  if (topic.includes('\0')) return 'a topic cannot contain U+0000' // [MQTT-4.7.3-2]
  if (Buffer.byteLength(topic) > 65_535) return 'a topic is at most 65535 bytes'
  return undefined
}

/** Returns why `filter` is not a valid subscription filter, or undefined if it is. */
export function validateTopicFilter(filter: string): string | undefined {
  if (filter.length === 0) return 'a topic filter cannot be empty' // [MQTT-4.7.3-1]
  if (filter.includes('\0')) return 'a topic filter cannot contain U+0000'
  if (Buffer.byteLength(filter) > 65_535) return 'a topic filter is at most 65535 bytes'
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return "'#' must be a whole level, and the last" // [MQTT-4.7.1-1]
    if (level.includes('+') && level !== '+') return "'+' must be a whole level" // [MQTT-4.7.1-2]
  }
  return undefined
}

/** True if `topic` matches `filter` ('$' topics match only filters that name their first level). */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter.startsWith('$share/')) filter = filter.split('/').slice(2).join('/')
  const f = filter.split('/')
  const t = topic.split('/')
  if (t[0].startsWith('$') && (f[0] === '+' || f[0] === '#')) return false // [MQTT-4.7.2-1]
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}
