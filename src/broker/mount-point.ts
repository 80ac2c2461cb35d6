import {parseSharedFilter} from '../codec/topic.js'

/*
 * Mosquitto's mount_point: the clients of a listener live under a topic prefix. What they publish and
 * subscribe to (wills and retained messages included) is prefixed on the way in, and deliveries to
 * them lose the prefix on the way out, so clients of other listeners see the full topic and the
 * listener's clients see theirs. The prefix is taken as written (Mosquitto users write `site/`).
 */

/** A topic name a client of the mount point sent, as the broker routes it. */
export function mountTopic(mount: string, topic: string): string {
  return mount + topic
}

/** A topic filter: the prefix goes after `$share/{group}/`, so shared subscriptions stay shared. */
export function mountFilter(mount: string, filter: string): string {
  const shared = parseSharedFilter(filter)
  return shared === undefined ? mount + filter : `$share/${shared.group}/${mount}${shared.filter}`
}

/** The topic a client of the mount point is sent, or undefined when the topic is outside it (never sent). */
export function unmountTopic(mount: string, topic: string): string | undefined {
  return topic.length > mount.length && topic.startsWith(mount) ? topic.slice(mount.length) : undefined
}
