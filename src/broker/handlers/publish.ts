import {isUtf8} from 'node:buffer'
import {MqttError, ProtocolError, ReasonCode, type InboundPublish, type PublishProperties, type QoS} from '../../codec/index.js'
import type {InterceptedPublish} from '../auth/hooks.js'
import type {ConnectedContext} from './context.js'
import type {Message} from '../message.js'
import {isValidTopicName} from '../../codec/topic.js'
import {mountTopic} from '../mount-point.js'
import {isReservedTopic} from '../reserved-topics.js'

/** PUBLISH from a client: checks, authorization, routing, acknowledgement. */
export function handlePublish(conn: ConnectedContext, packet: InboundPublish): Promise<void> | void {
  const {options} = conn.broker
  const qos = packet.qos
  // [MQTT-3.2.2-11] [MQTT-3.2.2-14] the server enforces what it announced in CONNACK
  if (qos > options.maxQos) throw new MqttError(ReasonCode.QoSNotSupported, `QoS ${qos} is above the maximum of ${options.maxQos}`)
  if (packet.retain && !options.retainAvailable) throw new MqttError(ReasonCode.RetainNotSupported, 'retained messages are not available')
  const props = packet.properties
  // [MQTT-3.3.4-6] a client does not send Subscription Identifiers
  if (props?.subscriptionIdentifier !== undefined) throw new ProtocolError('PUBLISH from a client with a subscription identifier')
  // (v5 3.3.2.1) an empty topic name without a topic alias is a protocol error
  if (conn.version === 5 && packet.topic === '' && props?.topicAlias === undefined) throw new ProtocolError('empty topic name without a topic alias')
  // [MQTT-3.3.2-14] a Response Topic is a topic name: no wildcards
  if (props?.responseTopic !== undefined && !isValidTopicName(props.responseTopic)) throw new ProtocolError(`invalid response topic '${props.responseTopic}'`)
  const sent = props?.topicAlias === undefined ? packet.topic : resolveAlias(conn, packet.topic, props.topicAlias)
  // [MQTT-3.3.2-2] no wildcards in a topic name; [MQTT-4.7.3-1] not empty
  if (!isValidTopicName(sent)) throw new MqttError(ReasonCode.TopicNameInvalid, `invalid topic name '${sent}'`)
  const mount = conn.listener?.mountPoint
  const topic = mount === undefined ? sent : mountTopic(mount, sent)
  if (qos === 2 && conn.session.inboundQos2.has(packet.messageId)) {
    // [MQTT-4.3.3-9] a resent QoS 2 PUBLISH is acknowledged again but not delivered twice
    conn.sendAck({cmd: 'pubrec', messageId: packet.messageId})
    return undefined
  }
  if (qos === 2 && conn.version === 5 && conn.session.inboundQos2.size >= options.receiveMaximum) {
    // [MQTT-3.3.4-9] more unacknowledged QoS 2 messages than our Receive Maximum
    throw new MqttError(ReasonCode.ReceiveMaximumExceeded, `more than ${options.receiveMaximum} QoS 2 messages in flight`)
  }
  if (props?.payloadFormatIndicator && !isUtf8(packet.payload)) {
    if (qos === 0) throw new MqttError(ReasonCode.PayloadFormatInvalid, 'payload is not valid UTF-8')
    return acknowledge(conn, packet, ReasonCode.PayloadFormatInvalid, 'payload is not valid UTF-8') // [MQTT-3.3.2-4]
  }
  const m = conn.broker.metrics
  const limit = options.messageSizeLimit
  if (limit > 0 && (packet.payload).length > limit) {
    // Mosquitto's message_size_limit: dropped; v5 QoS 1/2 told 0x83 ("implementation specific error")
    if (qos === 0) return undefined
    return acknowledge(conn, packet, conn.version === 5 ? ReasonCode.ImplementationSpecificError : ReasonCode.Success, `payload above the limit of ${limit} bytes`)
  }
  m.messagesReceived++
  m.publishBytesReceived += (packet.payload).length
  if (conn.listener !== undefined) conn.listener.stats.messagesReceived++
  // $SYS and $share/ only with an explicit ACL grant, as in Mosquitto (reserved-topics.ts)
  if (isReservedTopic(topic) && options.auth.grantsReserved?.(conn.clientInfo, topic) !== true) return publishAllowed(conn, packet, topic, false)
  const allowed = options.auth.authorizePublish?.(conn.clientInfo, topic, qos, packet.retain) ?? true
  if (typeof allowed === 'object') return allowed.then((ok) => publishAllowed(conn, packet, topic, ok))
  publishAllowed(conn, packet, topic, allowed)
  return undefined
}

function publishAllowed(conn: ConnectedContext, packet: InboundPublish, topic: string, ok: boolean): Promise<void> | void {
  if (!ok) {
    // v5: PUBACK/PUBREC 0x87; v3: the message is dropped silently (and still acknowledged)
    return acknowledge(conn, packet, conn.version === 5 ? ReasonCode.NotAuthorized : ReasonCode.Success, `not authorized to publish to '${topic}'`)
  }
  const original: InterceptedPublish = {topic, payload: packet.payload, qos: packet.qos, retain: packet.retain}
  const intercept = conn.broker.options.auth.interceptPublish
  if (intercept === undefined) return route(conn, packet, original)
  const verdict = intercept(conn.clientInfo, original)
  if (verdict instanceof Promise) return verdict.then((v) => intercepted(conn, packet, original, v))
  intercepted(conn, packet, original, verdict)
}

/** An interceptPublish hook's answer: rejected, routed as it came, or routed as the hook rewrote it. */
function intercepted(conn: ConnectedContext, packet: InboundPublish, original: InterceptedPublish, verdict: boolean | InterceptedPublish): void {
  const v5 = conn.version === 5
  if (verdict === false) return acknowledge(conn, packet, v5 ? ReasonCode.NotAuthorized : ReasonCode.Success, 'message rejected by the broker')
  if (verdict === true) return route(conn, packet, original)
  if (!isValidTopicName(verdict.topic)) {
    return acknowledge(conn, packet, v5 ? ReasonCode.ImplementationSpecificError : ReasonCode.Success, 'message rewritten to an invalid topic')
  }
  const {options} = conn.broker
  route(conn, packet, {...verdict, qos: Math.min(verdict.qos, options.maxQos) as QoS, retain: verdict.retain && options.retainAvailable})
}

function route(conn: ConnectedContext, packet: InboundPublish, m: InterceptedPublish): void {
  const {broker} = conn
  if (m.topic.startsWith('$CONTROL/')) {
    // Mosquitto: $CONTROL messages go to the feature that registered the topic (or nowhere), never to subscribers
    broker.control.get(m.topic)?.(conn.clientInfo, m.payload)
    return acknowledge(conn, packet, ReasonCode.Success)
  }
  const props = packet.properties
  const expiry = props?.messageExpiryInterval
  const message: Message = {
    topic: m.topic,
    payload: m.payload,
    qos: m.qos,
    retain: m.retain,
    properties: props === undefined ? undefined : forwardable(props),
    expiresAt: expiry === undefined ? undefined : broker.options.timers.now() + expiry * 1000,
    origin: conn.clientId,
    originUsername: conn.username ?? null,
    // set later on most messages: made with the object, which then grows no property storage per message
    encoded: undefined,
    ack: undefined,
  }
  const result = {overQuota: 0}
  // with persistence on, a QoS 1 PUBACK can go before the commit once every stored delivery is
  // acknowledged; in a cluster, a PUBACK or PUBREC also waits for the nodes it was forwarded to
  const acked = packet.qos > 0 ? broker.persistence?.acks : undefined
  acked?.expect(message)
  let receivers: number
  try {
    receivers = broker.publish(message, result)
  } catch (error) {
    acked?.unroutable(message) // the connection fails; the message is never acknowledged
    throw error
  }
  if (conn.version !== 5 || receivers > result.overQuota) return acknowledge(conn, packet, ReasonCode.Success, undefined, message)
  // v5: nobody to send it to (0x10), or every receiver's queue was full (0x97)
  if (receivers === 0) return acknowledge(conn, packet, ReasonCode.NoMatchingSubscribers, undefined, message)
  acknowledge(conn, packet, ReasonCode.QuotaExceeded, 'every matching subscriber\'s queue is full', message)
}

/** PUBACK / PUBREC with a reason code (v5), and a reason string for a refusal when the client allows it. */
function acknowledge(conn: ConnectedContext, packet: InboundPublish, reasonCode: number, reason?: string, message?: Message): void {
  if (packet.qos === 0) return
  const messageId = packet.messageId
  // [MQTT-4.3.3-8] hold the packet id until PUBREL, unless the message was refused
  if (packet.qos === 2 && reasonCode < 0x80) {
    const session = conn.session
    session.holdInbound(messageId)
    session.journal?.inbound(session, messageId, true)
  }
  const cmd = packet.qos === 1 ? 'puback' : 'pubrec'
  // sent once the message is durable (persistence on)
  if (conn.version !== 5 || reasonCode === ReasonCode.Success) return conn.sendAck({cmd, messageId}, message)
  const properties = reasonCode >= 0x80 && reason !== undefined ? conn.problem(reason) : undefined
  conn.sendAck(properties ? {cmd, messageId, reasonCode, properties} : {cmd, messageId, reasonCode}, message)
}

/** Resolves or records an inbound topic alias [MQTT-3.3.2-7..12] (the table is made on first use). */
function resolveAlias(conn: ConnectedContext, topic: string, alias: number): string {
  return conn.inboundAliasTable().resolve(topic, alias)
}

/** The properties a subscriber receives: everything but the alias, subscription ids and expiry (sent as remaining time). */
function forwardable(props: PublishProperties): PublishProperties | undefined {
  const {topicAlias: _a, subscriptionIdentifier: _s, messageExpiryInterval: _e, ...rest} = props
  for (const _ in rest) return rest
  return undefined
}
