import type {QoS} from '../codec/index.js'
import type {ClusterLink} from './cluster-link.js'
import type {Message} from './message.js'
import type {Delivery, Session, SubscriptionOptions} from './session.js'
import {parseSharedFilter} from '../codec/topic.js'
import {TopicTree} from './topic-tree.js'

/** A shared group's member: the session and its options for the group's filter. */
interface SubEntry {
  readonly session: Session
  readonly options: SubscriptionOptions
}

/**
 * A session as the (non-shared) subscription tree knows it, with the router's scratch state for the
 * message being routed: a session that matches through several filters gets the message once, at the
 * highest QoS, with every subscription identifier. One per subscribed session, shared by its entries.
 */
interface Subscriber {
  readonly session: Session
  /** Its non-shared subscriptions: the subscriber is forgotten at 0. */
  filters: number
  /** The routing (Router.gen) the fields below belong to. */
  gen: number
  qos: QoS
  retainAsPublished: boolean
  subIds: number[] | undefined
}

interface FilterEntry {
  readonly subscriber: Subscriber
  readonly options: SubscriptionOptions
}

/** A `$share/{group}/{filter}` group: each message goes to one member [MQTT-4.8.2-4]. */
interface SharedGroup {
  /** The shared filter itself, `$share/{group}/{filter}`: what deliveries through it remember. */
  readonly key: string
  readonly members: SubEntry[]
  next: number
}

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
  private readonly subs = new TopicTree<FilterEntry>()
  private readonly shared = new TopicTree<SharedGroup>()
  private readonly subscribers = new Map<Session, Subscriber>()
  private gen = 0
  // the subscribers a message matched: hits[0 .. hitCount), kept between messages (emptied slot by slot:
  // `length = 0` would free the array's storage and the next message would allocate it again)
  private readonly hits: Array<Subscriber | undefined> = []
  private hitCount = 0
  private current: Message | undefined
  private readonly visitSub = (entry: FilterEntry) => this.collect(entry)
  private readonly visitShared = (group: SharedGroup) => this.collectShared(group)
  private sharedHits: SharedGroup[] = []
  /** The cluster this broker is a node of (told of filters added and removed; decides shared groups). */
  link: ClusterLink | undefined

  /**
   * @param upgradeQos deliver at the subscription's QoS even when the message's is lower (Mosquitto's
   *   upgrade_outgoing_qos); otherwise at the lower of the two [MQTT-3.8.4-8]
   */
  constructor(private readonly upgradeQos = false) {}

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
    if (share === undefined) {
      let subscriber = this.subscribers.get(session)
      if (subscriber === undefined) {
        subscriber = {session, filters: 0, gen: 0, qos: 0, retainAsPublished: false, subIds: undefined}
        this.subscribers.set(session, subscriber)
      }
      if (isNew || subscriber.filters === 0) subscriber.filters++
      if (this.subs.add(filter, session.clientId, {subscriber, options})) this.link?.subscribed(filter)
      return isNew
    }
    const entry = {session, options}
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
      const subscriber = this.subscribers.get(session)
      if (subscriber !== undefined && --subscriber.filters === 0) this.subscribers.delete(session)
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
      let count = this.hitCount
      for (let i = 0; i < this.hitCount; i++) {
        const s = hits[i]!
        // [MQTT-3.3.1-9] / v5 Retain As Published: a live message is forwarded with retain 0 unless asked
        const d: Delivery = {message: msg, qos: this.outgoingQos(s.qos, msg.qos), retain: s.retainAsPublished && msg.retain, subscriptionIds: s.subIds, sharedGroup: undefined}
        if (!s.session.deliver(d) && result) result.overQuota++
      }
      if (this.sharedSize > 0) {
        this.shared.forEachMatch(msg.topic, this.visitShared)
        const link = this.link
        for (const group of groups) {
          if (link !== undefined && !link.sharedHere(group.key, msg)) continue
          const member = pickMember(group)
          if (member === undefined) continue
          count++
          if (!member.session.deliver(this.through(member, group, msg)) && result) result.overQuota++
        }
      }
      return count
    } finally {
      for (let i = 0; i < this.hitCount; i++) hits[i] = undefined
      this.hitCount = 0
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
    return member.session.deliver(this.through(member, group, d.message))
  }

  /** The delivery of a message to a shared group's member. */
  private through(member: SubEntry, group: SharedGroup, msg: Message): Delivery {
    const o = member.options
    const ids = o.subscriptionId === undefined ? undefined : [o.subscriptionId]
    return {message: msg, qos: this.outgoingQos(o.qos, msg.qos), retain: o.retainAsPublished && msg.retain, subscriptionIds: ids, sharedGroup: group.key}
  }

  private collect(entry: FilterEntry): void {
    const s = entry.subscriber
    const o = entry.options
    // [MQTT-3.8.3-3] No Local: not sent back to the connection that published it
    if (o.noLocal && this.current!.origin === s.session.clientId) return
    if (s.gen !== this.gen) {
      s.gen = this.gen
      s.qos = o.qos
      s.retainAsPublished = o.retainAsPublished
      s.subIds = o.subscriptionId === undefined ? undefined : [o.subscriptionId]
      this.hits[this.hitCount++] = s
      return
    }
    if (o.qos > s.qos) s.qos = o.qos
    if (o.retainAsPublished) s.retainAsPublished = true
    if (o.subscriptionId !== undefined) (s.subIds ??= []).push(o.subscriptionId)
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
    const m = group.members[at]!
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
