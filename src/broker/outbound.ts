import {encodePublish, type EncodedPublish, type ProtocolVersion, type PublishProperties} from '../codec/index.js'
import {remainingExpiry, sharedEncoding} from './message.js'
import type {Delivery} from './session.js'

/** A topic alias to send with a delivery: `known` ones replace the topic name. */
export interface TopicAlias {
  alias: number
  known: boolean
}

/**
 * The bytes of one delivery. Most deliveries share their message's cached encoding (copied and
 * patched with the packet id for QoS > 0); only v5 deliveries with per-receiver properties
 * (subscription identifiers, the remaining expiry interval, a topic alias) are encoded on their own.
 */
export function encodeDelivery(d: Delivery, version: ProtocolVersion, packetId: number, dup: boolean, now: number,
  alias?: TopicAlias): Buffer {
  const msg = d.message
  let bytes: Buffer
  let idOffset: number
  if (version === 5 && (d.subscriptionIds !== undefined || msg.expiresAt !== undefined || alias !== undefined)) {
    const properties: PublishProperties = {...msg.properties}
    // [MQTT-3.3.2-12] a known alias stands for the topic name, which is then empty
    if (alias !== undefined) properties.topicAlias = alias.alias
    if (d.subscriptionIds !== undefined) {
      // [MQTT-3.3.4-3] every matching subscription's identifier is sent
      properties.subscriptionIdentifier = (d.subscriptionIds.length === 1 ? d.subscriptionIds[0] : d.subscriptionIds) as number
    }
    // [MQTT-3.3.2-6] the forwarded expiry interval is what remains of it
    if (msg.expiresAt !== undefined) properties.messageExpiryInterval = remainingExpiry(msg, now)
    const topic = alias?.known ? '' : msg.topic
    const enc = encodePublish({topic, payload: msg.payload, qos: d.qos, retain: d.retain, properties}, version)
    bytes = enc.bytes
    idOffset = enc.packetIdOffset
  } else {
    const enc = sharedEncoding(msg, version, d.qos, d.retain)
    if (d.qos === 0) return enc.bytes
    bytes = Buffer.from(enc.bytes)
    idOffset = enc.packetIdOffset
  }
  if (idOffset >= 0) bytes.writeUInt16BE(packetId, idOffset)
  if (dup) bytes[0] = (bytes[0] ?? 0) | 0x08
  return bytes
}

/**
 * The message's cached encoding for a QoS 1/2 delivery that needs nothing of its own but the packet id
 * (and DUP): the connection patches them where it copies the bytes into its batch, instead of copying
 * the encoding once per subscriber here. Undefined when the delivery has per-receiver properties
 * (encodeDelivery then encodes it on its own). The bytes are shared: never to be written to.
 */
export function sharedDelivery(d: Delivery, version: ProtocolVersion, alias?: TopicAlias): EncodedPublish | undefined {
  if (version === 5 && (d.subscriptionIds !== undefined || d.message.expiresAt !== undefined || alias !== undefined)) return undefined
  return sharedEncoding(d.message, version, d.qos, d.retain)
}
