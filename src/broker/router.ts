import type {QoS} from '../codec/index.js'
import type {ClusterLink} from './cluster-link.js'
import type {Message} from './message.js'
import type {Delivery, Session, SubscriptionOptions} from './session.js'
import {parseSharedFilter} from '../codec/topic.js'
import {TopicTree} from './topic-tree.js'

interface SubEntry {
  readonly session: Session
  readonly options: SubscriptionOptions
}

/** A `$share/{group}/{filter}` group: each message goes to one member [MQTT-4.8.2-4]. */
interface SharedGroup {
  /** The shared filter itself, `$share/{group}/{filter}`: what deliveries through it remember. */
  readonly key: string
  readonly members: SubEntry[]
  next: number
}

/** Delivers to one session; false when the session's quota (a full queue) refused the message. */
export type RouteTarget = (session: Session, message: Message, qos: QoS, retain: boolean, subscriptionIds: number[] | undefined, sharedGroup: string | undefined) => boolean

/** What routing one message came to, for the publisher's acknowledgement. */
export interface RouteResult {
  /** Receivers that refused it for their quota. */
  overQuota: number
}

/**
 * The subscription registry and the routing of one message to every matching session. Matching goes
 * through level tries; a client with overlapping subscriptions gets the message once, at the highest
 * granted QoS, with all their subscription identifiers [MQTT-3.3.4-2] [MQTT-3.3.4-3] [MQTT-3.3.4-5].
 */
export class Router {
  private readonly subs = new TopicTree<SubEntry>()
  private readonly shared = new TopicTree<SharedGroup>()
  private gen = 0
  private readonly hits: Session[] = []
  private current: Message | undefined
  private readonly visitSub = (entry: SubEntry) => this.collect(entry)
  private readonly visitShared = (group: SharedGroup) => this.collectShared(group)
  private sharedHits: SharedGroup[] = []
  /** The cluster this broker is a node of (told of filters added and removed; decides shared groups). */
  link: ClusterLink | undefined

  /**
   * @param upgradeQos deliver at the subscription's QoS even when the message's is lower (Mosquitto's
   *   upgrade_outgoing_qos); otherwise at the lower of the two [MQTT-3.8.4-8]
   */
  constructor(private readonly target: RouteTarget, private readonly upgradeQos = false) {}

  /** The QoS a message goes out with through a subscription of QoS `granted`. */
  outgoingQos(granted: QoS, published: QoS): QoS {
    return this.upgradeQos || granted < published ? granted : published
  }

  get size(): number { return this.subs.size + this.sharedSize }
  private sharedSize = 0

  /** Adds or replaces a session's subscription [MQTT-3.8.4-3]; returns whether it is new. */
  subscribe(session: Session, filter: string, options: SubscriptionOptions): boolean {
    const share = parseSharedFilter(filter)
    const isNew = session.setSubscription(filter, options)
    const entry = {session, options}
    if (share === undefined) {
      if (this.subs.add(filter, session.clientId, entry)) this.link?.subscribed(filter)
      return isNew
    }
    let group = this.shared.get(share.filter, share.group)
    if (group === undefined) {
      group = {key: filter, members: [], next: 0}
      this.shared.add(share.filter, share.group, group)
    }
    const at = group.members.findIndex((m) => m.session.clientId === session.clientId)
    if (at >= 0) group.members[at] = entry
    else { group.members.push(entry); this.sharedSize++; this.link?.subscribed(filter) }
    return isNew
  }

  unsubscribe(session: Session, filter: string): boolean {
    if (!session.deleteSubscription(filter)) return false
    const share = parseSharedFilter(filter)
    if (share === undefined) {
      const removed = this.subs.remove(filter, session.clientId)
      if (removed) this.link?.unsubscribed(filter)
      return removed
    }
    const group = this.shared.get(share.filter, share.group)
    if (group === undefined) return true
    const at = group.members.findIndex((m) => m.session.clientId === session.clientId)
    if (at >= 0) { group.members.splice(at, 1); this.sharedSize--; this.link?.unsubscribed(filter) }
    if (group.members.length === 0) this.shared.remove(share.filter, share.group)
    return true
  }

  removeAll(session: Session): void {
    for (const filter of [...session.subscriptions.keys()]) this.unsubscribe(session, filter)
  }

  /**
   * Routes a message to every matching session; returns how many sessions it was offered to. The
   * per-message scratch state (hits, shared hits, the current message) is cleared whatever happens,
   * so an exception while routing one message can never leak into the routing of the next.
   */
  route(msg: Message, result?: RouteResult): number {
    this.current = msg
    this.gen++
    const hits = this.hits
    const groups = this.sharedHits
    try {
      this.subs.forEachMatch(msg.topic, this.visitSub)
      let count = hits.length
      for (let i = 0; i < hits.length; i++) {
        const s = hits[i]
        const qos = this.outgoingQos(s.matchQos, msg.qos)
        // [MQTT-3.3.1-9] / v5 Retain As Published: a live message is forwarded with retain 0 unless asked
        if (!this.target(s, msg, qos, s.matchRetainAsPublished && msg.retain, s.matchSubIds, undefined) && result) result.overQuota++
      }
      if (this.sharedSize > 0) {
        this.shared.forEachMatch(msg.topic, this.visitShared)
        const link = this.link
        for (const group of groups) {
          if (link !== undefined && !link.sharedHere(group.key, msg)) continue
          const member = pickMember(group)
          if (member === undefined) continue
          count++
          const o = member.options
          const ids = o.subscriptionId === undefined ? undefined : [o.subscriptionId]
          if (!this.target(member.session, msg, this.outgoingQos(o.qos, msg.qos), o.retainAsPublished && msg.retain, ids, group.key) && result) result.overQuota++
        }
      }
      return count
    } finally {
      hits.length = 0
      groups.length = 0
      this.current = undefined
    }
  }

  /**
   * Shared-subscription redelivery policy. When a member's connection goes away, the messages of its
   * group that it has not acknowledged (queued ones, and QoS 1 ones in flight; see
   * Session.handOffShared for QoS 2) go at once to another member of the same group that is connected,
   * round-robin, at that member's granted QoS; with no other member connected they stay with the
   * session, for when it reconnects. When the member's session ends, what is left goes to any other
   * member, connected or not, and is dropped (counted) if there is none. Returns whether another member
   * took the message.
   */
  redeliver(d: Delivery, from: Session, connectedOnly: boolean): boolean {
    const share = parseSharedFilter(d.sharedGroup!)
    const group = share && this.shared.get(share.filter, share.group)
    if (group === undefined) return false
    const member = pickMember(group, from, connectedOnly)
    if (member === undefined) return false
    const o = member.options
    const msg = d.message
    const ids = o.subscriptionId === undefined ? undefined : [o.subscriptionId]
    return this.target(member.session, msg, this.outgoingQos(o.qos, msg.qos), o.retainAsPublished && msg.retain, ids, group.key)
  }

  private collect(entry: SubEntry): void {
    const s = entry.session
    const o = entry.options
    // [MQTT-3.8.3-3] No Local: not sent back to the connection that published it
    if (o.noLocal && this.current!.origin === s.clientId) return
    if (s.matchGen !== this.gen) {
      s.matchGen = this.gen
      s.matchQos = o.qos
      s.matchRetainAsPublished = o.retainAsPublished
      s.matchSubIds = o.subscriptionId === undefined ? undefined : [o.subscriptionId]
      this.hits.push(s)
      return
    }
    if (o.qos > s.matchQos) s.matchQos = o.qos
    if (o.retainAsPublished) s.matchRetainAsPublished = true
    if (o.subscriptionId !== undefined) (s.matchSubIds ??= []).push(o.subscriptionId)
  }

  private collectShared(group: SharedGroup): void {
    this.sharedHits.push(group)
  }
}

/**
 * Round-robin over the members, preferring one that is connected and keeping up, then one that is
 * connected, then (unless connectedOnly) any; never `except`.
 */
function pickMember(group: SharedGroup, except?: Session, connectedOnly = false): SubEntry | undefined {
  const n = group.members.length
  let connected: SubEntry | undefined
  let any: SubEntry | undefined
  for (let i = 0; i < n; i++) {
    const at = (group.next + i) % n
    const m = group.members[at]
    if (m.session === except) continue
    if (m.session.link?.writable) {
      group.next = (at + 1) % n
      return m
    }
    if (m.session.link !== undefined) connected ??= m
    else any ??= m
  }
  const chosen = connected ?? (connectedOnly ? undefined : any)
  if (chosen !== undefined) group.next = (group.members.indexOf(chosen) + 1) % n
  return chosen
}
