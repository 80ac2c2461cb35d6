import {encodePacket, ReasonCode, toV3ConnackCode, type ConnackProperties} from '../../codec/index.js'
import type {HandlerContext} from './context.js'

/** A v3.x CONNACK that accepts the client (return code 0), without or with Session Present: the same bytes for every client. */
const ACCEPTED_V3 = [encodePacket({cmd: 'connack', sessionPresent: false, returnCode: 0}, 4), encodePacket({cmd: 'connack', sessionPresent: true, returnCode: 0}, 4)] as const

/** The v3.x CONNACK that accepts a client (shared bytes: written, never changed). */
export function acceptingConnack(sessionPresent: boolean): Buffer {
  return ACCEPTED_V3[sessionPresent ? 1 : 0]
}

/** Refusals that v3 has no return code for: a v3 client is just disconnected. */
const V5_ONLY_REFUSALS = new Set<number>([ReasonCode.TopicNameInvalid, ReasonCode.QoSNotSupported,
  ReasonCode.RetainNotSupported, ReasonCode.PayloadFormatInvalid, ReasonCode.PacketTooLarge])

/**
 * The CONNACK properties that fit the client's Maximum Packet Size [MQTT-3.1.2-24], or undefined if
 * none do. What the client can do without goes first: the Reason String and User Properties
 * [MQTT-3.2.2-19] [MQTT-3.2.2-20], then Response Information and Server Reference, then the Topic Alias
 * Maximum (absent means 0: the client sends no aliases). What changes the client's duties (Receive
 * Maximum, Maximum QoS, Server Keep Alive, an assigned client id, ...) is never dropped.
 */
export function fitConnack(conn: HandlerContext, reasonCode: number, properties: ConnackProperties): ConnackProperties | undefined {
  const max = conn.peer.maximumPacketSize
  const fits = (p: ConnackProperties) => encodePacket({cmd: 'connack', sessionPresent: false, reasonCode, properties: p}, 5).length <= max
  if (max >= 268_435_460 || fits(properties)) return properties
  const rest: Record<string, unknown> = {...properties}
  for (const optional of OPTIONAL_CONNACK_PROPERTIES) {
    if (!(optional in rest)) continue
    delete rest[optional]
    if (fits(rest)) return rest
  }
  return undefined
}

const OPTIONAL_CONNACK_PROPERTIES = ['reasonString', 'userProperties', 'responseInformation', 'serverReference', 'topicAliasMaximum']

/**
 * Refuses a CONNECT with a CONNACK carrying the reason (v3: the closest return code), then closes. A v5
 * client gets a reason string unless it set Request Problem Information to 0, and nothing at all when
 * no CONNACK fits its Maximum Packet Size.
 */
export function refuse(conn: HandlerContext, reasonCode: number, reason: string): undefined {
  if (conn.version === 5) {
    const properties = fitConnack(conn, reasonCode, conn.peer.requestProblemInformation ? {reasonString: reason} : {})
    if (properties !== undefined) conn.send({cmd: 'connack', sessionPresent: false, reasonCode, properties})
  } else if (!V5_ONLY_REFUSALS.has(reasonCode)) {
    conn.send({cmd: 'connack', sessionPresent: false, returnCode: toV3ConnackCode(reasonCode)})
  }
  conn.close(false, `connection refused: ${reason}`)
  return undefined
}
