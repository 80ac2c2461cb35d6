import {isUtf8} from 'node:buffer'
import {randomUUID} from 'node:crypto'
import {ProtocolError, ReasonCode, type ConnackProperties, type InboundConnect} from '../../codec/index.js'
import {ConnState} from '../conn-state.js'
import type {AuthOutcome} from '../enhanced-auth.js'
import {mountTopic} from '../mount-point.js'
import {OutboundAliases} from '../topic-alias.js'
import {isValidTopicName} from '../../codec/topic.js'
import {acceptingConnack, fitConnack, refuse} from './connack.js'
import type {HandlerContext} from './context.js'

const NEVER_EXPIRES = 0xffff_ffff
/** No properties (a v3 CONNECT, no extra CONNACK properties): shared, never written to. */
const NO_PROPERTIES: Readonly<ConnackProperties & NonNullable<InboundConnect['properties']>> = Object.freeze({})

/** CONNECT: validate, authenticate (possibly async), attach the session, answer CONNACK. */
export function handleConnect(conn: HandlerContext, packet: InboundConnect): Promise<void> | undefined {
  const {options} = conn.broker
  const version = packet.protocolVersion ?? 4
  // Mosquitto's try_private: a bridge sets 0x80 on a v3.1/v3.1.1 protocol level (v5 bridges use No Local instead)
  conn.setVersion(version, packet.bridgeMode === true && version !== 5)
  conn.setMaxPacketSize(options.maxPacketSize)

  // [MQTT-3.1.2-22] v3.1.1: a password needs a user name
  if (version !== 5 && packet.password !== undefined && packet.username === undefined) {
    throw new ProtocolError('password flag set without user name flag')
  }
  let clientId = packet.clientId
  let assigned = false
  if (clientId === '') {
    // v3.1 requires 1-23 characters; [MQTT-3.1.3-8] v3.1.1 allows an empty id only with clean session
    if (version === 3 || (version === 4 && !packet.clean) || !(conn.listener?.allowZeroLengthClientId ?? options.allowZeroLengthClientId)) {
      return refuse(conn, ReasonCode.ClientIdentifierNotValid, 'empty client id')
    }
    clientId = (conn.listener?.autoIdPrefix ?? options.autoIdPrefix) + randomUUID() // [MQTT-3.1.3-6]
    assigned = true
  }
  // a v3 client cannot be told to use a lower keepalive: refused with 0x02, as Mosquitto does
  if (version !== 5 && exceedsMaxKeepalive(packet.keepalive ?? 0, options.maxKeepalive)) {
    return refuse(conn, ReasonCode.ClientIdentifierNotValid, `keepalive above the maximum of ${options.maxKeepalive}`)
  }
  const props = packet.properties
  if (props?.receiveMaximum === 0) throw new ProtocolError('receive maximum of 0') // (v5 3.1.2.11.3) value 0 is a protocol error
  if (props?.maximumPacketSize === 0) throw new ProtocolError('maximum packet size of 0')
  // what the client announced applies to every answer from now on, a refusing CONNACK included
  if (props !== undefined && (props.receiveMaximum !== undefined || props.maximumPacketSize !== undefined ||
    props.topicAliasMaximum !== undefined || props.requestProblemInformation !== undefined)) {
    conn.setPeer({
      receiveMaximum: props.receiveMaximum ?? 65_535,
      maximumPacketSize: props.maximumPacketSize ?? Number.MAX_SAFE_INTEGER,
      topicAliasMaximum: props.topicAliasMaximum ?? 0,
      requestProblemInformation: props.requestProblemInformation ?? true,
    })
  }

  const will = packet.will
  if (will) {
    if (!isValidTopicName(will.topic)) return refuse(conn, ReasonCode.TopicNameInvalid, 'invalid will topic')
    const responseTopic = will.properties?.responseTopic
    if (responseTopic !== undefined && !isValidTopicName(responseTopic)) throw new ProtocolError('invalid will response topic') // (v5 3.1.3.2.5) a topic name
    if ((will.qos ?? 0) > options.maxQos) return refuse(conn, ReasonCode.QoSNotSupported, 'will QoS above the maximum') // [MQTT-3.2.2-12]
    // Mosquitto's message_size_limit covers wills too: refused like an oversized PUBLISH
    const limit = options.messageSizeLimit
    if (limit > 0 && (will.payload).length > limit) return refuse(conn, ReasonCode.PacketTooLarge, `will payload above the limit of ${limit} bytes`)
    if (will.retain && !options.retainAvailable) return refuse(conn, ReasonCode.RetainNotSupported, 'retain not available') // [MQTT-3.2.2-13]
    if (will.properties?.payloadFormatIndicator && !isUtf8(will.payload)) {
      return refuse(conn, ReasonCode.PayloadFormatInvalid, 'will payload is not UTF-8')
    }
  }
  const authMethod = props?.authenticationMethod
  // (v5 3.1.2.11.10) Authentication Data without an Authentication Method is a protocol error
  if (authMethod === undefined && props?.authenticationData !== undefined) throw new ProtocolError('authentication data without a method')
  // a client certificate's identity is the user name, and the certificate the authentication (Mosquitto)
  const identity = conn.certifiedUsername
  if (identity !== undefined) packet = {...packet, username: identity, password: undefined}
  if (authMethod !== undefined) {
    const auth = conn.broker.enhancedAuth
    // [MQTT-4.12.0-1] an unknown method is refused with 0x8C
    if (!auth.knows(authMethod)) return refuse(conn, ReasonCode.BadAuthenticationMethod, `unknown authentication method '${authMethod}'`)
    conn.beginAuthentication(authMethod)
    return settleAuth(conn, auth.start(conn, {packet, clientId, assigned}))
  }
  if (identity !== undefined || conn.internal) return completeConnect(conn, packet, clientId, assigned, true)

  const verdict = options.auth.authenticate?.({
    clientId, username: packet.username, password: packet.password, protocolVersion: version, remoteAddress: conn.remoteAddress,
    signal: conn.closedSignal, listener: conn.listener?.id, certificateSubject: conn.certificateSubject,
  }) ?? true
  if (typeof verdict === 'object') {
    conn.connectReceived()
    return verdict.then((v) => completeConnect(conn, packet, clientId, assigned, v))
  }
  return completeConnect(conn, packet, clientId, assigned, verdict)
}

/** Finishes CONNECT once the client is authenticated (or refuses it). */
function completeConnect(conn: HandlerContext, packet: InboundConnect, clientId: string, assigned: boolean,
  verdict: boolean | number, extra: ConnackProperties = NO_PROPERTIES, username = packet.username): Promise<void> | undefined {
  if (conn.state >= ConnState.Closing) return undefined
  if (verdict !== true) {
    conn.broker.metrics.authFailures++
    return refuse(conn, verdict === false ? ReasonCode.BadUserNameOrPassword : verdict, 'not authorized')
  }
  const {broker} = conn
  const {options} = broker
  const v5 = conn.version === 5
  const props = packet.properties ?? NO_PROPERTIES
  conn.identify(clientId, username)
  // written to only for a v5 client: a v3 one shares the empty object
  const connack: ConnackProperties = v5 ? {...extra} : NO_PROPERTIES
  let keepalive = packet.keepalive ?? 0
  if (v5 && exceedsMaxKeepalive(keepalive, options.maxKeepalive)) {
    keepalive = options.maxKeepalive // [MQTT-3.2.2-21] the client must use the Server Keep Alive
    connack.serverKeepAlive = keepalive
  }
  let expiry: number
  if (v5) {
    const asked = props.sessionExpiryInterval ?? 0
    expiry = broker.capSessionExpiry(asked)
    if (expiry !== asked) connack.sessionExpiryInterval = expiry
  } else {
    expiry = packet.clean ? 0 : options.persistentClientExpiration ?? NEVER_EXPIRES
  }
  let properties: ConnackProperties | undefined
  if (v5) {
    if (assigned) connack.assignedClientIdentifier = clientId
    if (options.receiveMaximum < 65_535) connack.receiveMaximum = options.receiveMaximum
    if (options.maxQos < 2) connack.maximumQoS = options.maxQos
    if (!options.retainAvailable) connack.retainAvailable = false
    if (options.maxPacketSize < 268_435_455) connack.maximumPacketSize = options.maxPacketSize
    connack.topicAliasMaximum = options.topicAliasMaximum
    if (!options.wildcardSubscriptionAvailable) connack.wildcardSubscriptionAvailable = false
    if (!options.subscriptionIdentifiersAvailable) connack.subscriptionIdentifiersAvailable = false
    if (!options.sharedSubscriptionAvailable) connack.sharedSubscriptionAvailable = false
    if (props.requestResponseInformation && options.responseInformation !== undefined) {
      // [MQTT-3.1.2-28] only when asked for; the client id makes it the client's own
      connack.responseInformation = options.responseInformation.replaceAll('%c', clientId)
    }
    properties = fitConnack(conn, ReasonCode.Success, connack)
    if (properties === undefined) {
      conn.close(false, 'no CONNACK fits the client\'s Maximum Packet Size')
      return undefined
    }
  }
  const cleanStart = packet.clean ?? true
  const mount = conn.listener?.mountPoint
  const will = mount === undefined || packet.will === undefined ? packet.will : {...packet.will, topic: mountTopic(mount, packet.will.topic)}
  // in a cluster the session is first taken from wherever it is; later packets wait for it
  if (options.sessions !== undefined) {
    conn.connectReceived()
    return broker.claimSession(conn, cleanStart, expiry, will).then(() => {
      if (conn.state < ConnState.Closing) attachAndAck(conn, clientId, cleanStart, expiry, will, keepalive, properties)
    }, (error: unknown) => {
      options.logger.warn({clientId, err: (error as Error)?.message ?? String(error)}, 'cannot take the session from the cluster')
      if (conn.state < ConnState.Closing) refuse(conn, ReasonCode.ServerUnavailable, 'the session is not available')
    })
  }
  attachAndAck(conn, clientId, cleanStart, expiry, will, keepalive, properties)
  return undefined
}

/** Attaches the session, answers CONNACK and resumes what the session had in flight and queued. */
function attachAndAck(conn: HandlerContext, clientId: string, cleanStart: boolean, expiry: number, will: InboundConnect['will'],
  keepalive: number, properties: ConnackProperties | undefined): void {
  const {broker} = conn
  const {options} = broker
  const v5 = conn.version === 5
  const {session, present} = broker.attach(conn, clientId, cleanStart, expiry)
  conn.becomeConnected({
    session,
    will,
    // [MQTT-3.3.2-11] aliases to the client only when it accepts them, up to its maximum
    outboundAliases: v5 && options.outboundTopicAliases && conn.peer.topicAliasMaximum > 0 ? new OutboundAliases(conn.peer.topicAliasMaximum) : undefined,
  })
  conn.connectReceived() // the CONNECT timeout is over
  if (v5) conn.send({cmd: 'connack', sessionPresent: present, reasonCode: ReasonCode.Success, properties}, false)
  // (v3.1 3.2) the first byte of a 3.1 CONNACK is reserved: no session present flag
  else conn.write(acceptingConnack(conn.version !== 3 && present), false)
  // the CONNACK went at once (not held for the end of the iteration): the client waits for it, and there
  // is nothing to batch it with; what the session resends below is held behind it as usual
  conn.startKeepalive(keepalive)
  broker.connected(conn, present, keepalive, cleanStart)
  // [MQTT-4.4.0-1] resume: resend what was in flight, then what waited
  session.resend()
  session.pump()
}

/** A keepalive the broker maximum lowers (0, "no keepalive", counts as above a maximum below 65535). */
function exceedsMaxKeepalive(keepalive: number, max: number): boolean {
  return keepalive > max || (keepalive === 0 && max < 65_535)
}


/**
 * Carries out what an enhanced authentication step decided (enhanced-auth.ts): AUTH 0x18 to go on,
 * CONNACK (or AUTH 0 after a re-authentication) on success, a refusal otherwise.
 */
export function settleAuth(conn: HandlerContext, outcome: AuthOutcome | Promise<AuthOutcome>): Promise<void> | undefined {
  if (outcome instanceof Promise) return outcome.then((o) => settleAuth(conn, o))
  switch (outcome.kind) {
    case 'closed': return undefined
    case 'continue':
      conn.send({cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication, properties: outcome.properties})
      return undefined
    case 'reauthenticated':
      if (outcome.username !== undefined) conn.reauthenticated(outcome.username)
      conn.send({cmd: 'auth', reasonCode: ReasonCode.Success, properties: outcome.properties})
      return undefined
    case 'connected': {
      // [MQTT-4.12.0-5] the CONNACK names the method (and carries the final data)
      const {packet, clientId, assigned} = outcome.connect
      return completeConnect(conn, packet, clientId, assigned, true, outcome.properties, outcome.username)
    }
    case 'refused':
      conn.broker.metrics.authFailures++
      // [MQTT-4.12.0-4] a failed exchange is refused in CONNACK; [MQTT-4.12.1-2] a failed re-authentication ends the connection
      if (outcome.connect !== undefined) return refuse(conn, outcome.reasonCode, outcome.reason)
      conn.disconnect(outcome.reasonCode, outcome.reason)
      return undefined
  }
}
