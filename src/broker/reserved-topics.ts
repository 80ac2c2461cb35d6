/**
 * Topic names clients may not publish to unless an ACL grants it explicitly, as in Mosquitto
 * (src/security.c, acl__check_dollar): the broker's own `$SYS/...` statistics, which a client could
 * otherwise forge, and `$share/...`, which names shared subscriptions and is no topic anybody can
 * subscribe to [MQTT-4.8.2-1]. A bridge's connection notification `$SYS/broker/connection/NAME/state`
 * stays open to every client, since a remote broker's bridge publishes it.
 *
 * An ACL grant is explicit by construction: a filter that starts with a wildcard matches no topic
 * that starts with '$' [MQTT-4.7.2-1], so only a rule that names `$SYS` or `$share` can grant one.
 */
export function isReservedTopic(topic: string): boolean {
  if (topic.charCodeAt(0) !== 0x24) return false // '$'
  if (topic.startsWith('$share/')) return true
  if (topic !== '$SYS' && !topic.startsWith('$SYS/')) return false
  return !isBridgeState(topic)
}

/** `$SYS/broker/connection/NAME/state`, NAME one level. */
function isBridgeState(topic: string): boolean {
  const levels = topic.split('/')
  return levels.length === 5 && levels[1] === 'broker' && levels[2] === 'connection' && levels[4] === 'state'
}
