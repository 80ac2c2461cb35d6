import {MqttError, ProtocolError, ReasonCode, reasonName, type QoS, type InboundSubscribe, type Subscription} from '../../codec/index.js'
import type {ConnectedContext} from './context.js'
import type {SubscriptionOptions} from '../session.js'
import {hasWildcard, isValidTopicFilter, parseSharedFilter} from '../../codec/topic.js'
import {mountFilter} from '../mount-point.js'

/** SUBSCRIBE: validate each filter, authorize, subscribe, SUBACK, then send matching retained messages. */
export function handleSubscribe(conn: ConnectedContext, packet: InboundSubscribe): Promise<void> | undefined {
  const {options} = conn.broker
  // [MQTT-3.8.3-3] (v3.1.1) [MQTT-3.8.3-2] (v5) at least one filter; none is a protocol error
  if (packet.subscriptions.length === 0) throw new ProtocolError('SUBSCRIBE without topic filters')
  const subscriptionId = packet.properties?.subscriptionIdentifier
  if (subscriptionId !== undefined) {
    if (!options.subscriptionIdentifiersAvailable) {
      throw new MqttError(ReasonCode.SubscriptionIdentifiersNotSupported, 'subscription identifiers are not available')
    }
    if (subscriptionId === 0) throw new ProtocolError('subscription identifier 0') // (v5 3.8.2.1.2) 1..268435455
  }
  for (const sub of packet.subscriptions) {
    // [MQTT-4.7.3-1] a topic filter is at least one character long: an empty one breaks the protocol
    // (the whole SUBSCRIBE, not one refused filter)
    if (sub.topic === '') throw new ProtocolError('SUBSCRIBE with an empty topic filter')
    // (v3.1 3.9) a 3.1 SUBACK has no failure code: an invalid filter closes the connection, as in Mosquitto
    if (conn.version === 3 && !isValidTopicFilter(sub.topic)) throw new ProtocolError(`invalid topic filter '${sub.topic}'`)
    // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error
    if (sub.nl && parseSharedFilter(sub.topic) !== undefined) throw new ProtocolError(`No Local on shared subscription '${sub.topic}'`)
  }
  const mount = conn.listener?.mountPoint
  // a mount point prefixes every valid filter; an invalid one is refused as it was sent
  if (mount !== undefined) {
    packet = {...packet, subscriptions: packet.subscriptions.map((s) => isValidTopicFilter(s.topic) ? {...s, topic: mountFilter(mount, s.topic)} : s)}
  }
  const hook = options.auth.authorizeSubscribe
  if (hook === undefined) return subscribeAll(conn, packet, undefined)
  const verdicts = packet.subscriptions.map((s) => isValidTopicFilter(s.topic) ? hook(conn.clientInfo, s.topic, s.qos) : false)
  if (verdicts.some((v) => typeof v === 'object')) {
    return Promise.all(verdicts).then((v) => subscribeAll(conn, packet, v))
  }
  return subscribeAll(conn, packet, verdicts as boolean[])
}

function subscribeAll(conn: ConnectedContext, packet: InboundSubscribe, allowed: boolean[] | undefined): undefined {
  const {broker} = conn
  const session = conn.session
  const subscriptionId = packet.properties?.subscriptionIdentifier
  const granted: number[] = []
  const problems: string[] = []
  const retainedFor: Array<{sub: Subscription; options: SubscriptionOptions}> = []
  packet.subscriptions.forEach((sub, i) => {
    const code = check(conn, sub, allowed?.[i] ?? true)
    if (code !== undefined) {
      problems.push(`'${sub.topic}': ${reasonName(code)}`)
      // v3.1.1 has one failure code; 3.1 none, so a 3.1 client is granted its QoS on paper and nothing is
      // subscribed (as Mosquitto does)
      granted.push(conn.version === 5 ? code : conn.version === 4 ? 0x80 : Math.min(sub.qos, broker.options.maxQos))
      return
    }
    const qos = Math.min(sub.qos, broker.options.maxQos) as QoS
    const options: SubscriptionOptions = {
      // a v3 bridge (try_private) neither gets its own messages back nor loses their retain flag
      qos, noLocal: conn.isBridge || (sub.nl ?? false), retainAsPublished: conn.isBridge || (sub.rap ?? false), retainHandling: (sub.rh ?? 0) as 0 | 1 | 2,
      subscriptionId,
    }
    const isNew = broker.router.subscribe(session, sub.topic, options)
    session.journal?.subscribed(session, sub.topic, options)
    granted.push(qos)
    // [MQTT-3.3.1-10] Retain Handling 0: send retained; 1: only for a new subscription; 2: never.
    // (v5 4.8.2) shared subscriptions get no retained messages
    if (options.retainHandling === 0 || (options.retainHandling === 1 && isNew)) {
      if (parseSharedFilter(sub.topic) === undefined) retainedFor.push({sub, options})
    }
  })
  const refused = problems.length > 0 ? conn.problem(problems.join('; ')) : undefined
  conn.sendAck(refused ? {cmd: 'suback', messageId: packet.messageId, granted, properties: refused} : {cmd: 'suback', messageId: packet.messageId, granted})
  if (broker.events.heard('subscribe')) broker.events.emit('subscribe', {clientId: conn.clientId, subscriptions: packet.subscriptions.map((s, i) => ({filter: s.topic, code: granted[i]!}))})
  for (const {sub, options} of retainedFor) broker.sendRetained(session, sub.topic, options)
  return undefined
}

/** The refusal code for one subscription, or undefined if it may be made. */
function check(conn: ConnectedContext, sub: Subscription, allowed: boolean): number | undefined {
  const {options} = conn.broker
  if (!isValidTopicFilter(sub.topic)) return ReasonCode.TopicFilterInvalid
  const shared = parseSharedFilter(sub.topic)
  if (shared !== undefined && !options.sharedSubscriptionAvailable) return ReasonCode.SharedSubscriptionsNotSupported
  if (!options.wildcardSubscriptionAvailable && hasWildcard(shared?.filter ?? sub.topic)) return ReasonCode.WildcardSubscriptionsNotSupported
  if (!allowed) return ReasonCode.NotAuthorized
  return undefined
}
