import mqtt from 'mqtt-packet'
import {MqttError} from './errors.js'
import type {Packet, ProtocolVersion, PublishProperties, QoS} from './packets.js'
import {AckByte, fixedHeaderLength, PINGREQ_BYTES, SHORT_ACK_SIZE, writeShortAck} from './in-place.js'
import {ReasonCode} from './reason-codes.js'


const optionsByVersion = {
  3: Object.freeze({protocolVersion: 3}),
  4: Object.freeze({protocolVersion: 4}),
  5: Object.freeze({protocolVersion: 5}),
} as const

const PINGRESP = Buffer.from([0xd0, 0x00])

/** Encodes any packet for the given protocol version. Throws an MqttError if the packet cannot be encoded. */
export function encodePacket(packet: Packet, protocolVersion: ProtocolVersion): Buffer {
  // the hot path's tiny packets are written directly (mqtt-packet builds an EventEmitter per call)
  const cmd = packet.cmd
  if (cmd === 'puback' || cmd === 'pubrec' || cmd === 'pubrel' || cmd === 'pubcomp') {
    const ack = packet as {messageId?: number; reasonCode?: number; properties?: object}
    if (!ack.reasonCode && ack.properties === undefined && ack.messageId !== undefined && ack.messageId > 0 && ack.messageId < 65_536) {
      const bytes = Buffer.allocUnsafe(SHORT_ACK_SIZE)
      writeShortAck(bytes, 0, AckByte[cmd], ack.messageId)
      return bytes
    }
  } else if (cmd === 'connack' && protocolVersion !== 5) {
    const {sessionPresent, returnCode} = packet as {sessionPresent?: boolean; returnCode?: number}
    if (returnCode !== undefined && returnCode >= 0 && returnCode < 256) return Buffer.from([0x20, 2, sessionPresent ? 1 : 0, returnCode])
  } else if (cmd === 'pingresp') {
    return PINGRESP
  } else if (cmd === 'pingreq') {
    return PINGREQ_BYTES
  }
  return generateUncached(packet, protocolVersion)
}

/**
 * mqtt-packet's generate, without its number cache: it would otherwise fill a cache of 65,536 two-byte
 * Buffers (~6 MB of heap) the first time it encodes anything, and it only writes the rarer packets
 * here, where a small allocation costs nothing. The switch is mqtt-packet's module-wide setting, so it
 * is turned off for this synchronous call only: an embedder's own mqtt-packet (mqtt.js, say) keeps its
 * default.
 */
function generateUncached(packet: Packet, protocolVersion: ProtocolVersion): Buffer {
  const writer = mqtt.writeToStream
  const cached = writer.cacheNumbers
  if (cached) writer.cacheNumbers = false
  try {
    return mqtt.generate(packet, optionsByVersion[protocolVersion])
  } catch (error) {
    throw new MqttError(ReasonCode.ImplementationSpecificError, `cannot encode ${packet.cmd}: ${(error as Error).message}`)
  } finally {
    if (cached) writer.cacheNumbers = true
  }
}

/** A PUBLISH encoded once and shared by every receiver of the same shape. */
export interface EncodedPublish {
  bytes: Buffer
  /** Where the two packet-id bytes are (QoS > 0), so a copy can be patched per receiver; else -1. */
  packetIdOffset: number
}

export interface PublishShape {
  topic: string
  payload: Buffer
  qos: QoS
  retain: boolean
  dup?: boolean
  properties?: PublishProperties
}

/**
 * Encodes a PUBLISH with packet id 0 (patched later for QoS > 0). Without properties the bytes are
 * written directly; with properties (v5) mqtt-packet writes them.
 */
export function encodePublish(msg: PublishShape, protocolVersion: ProtocolVersion): EncodedPublish {
  const topicLength = Buffer.byteLength(msg.topic)
  const idBytes = msg.qos > 0 ? 2 : 0
  if (msg.properties && protocolVersion === 5 && hasAny(msg.properties)) {
    const bytes = encodePacket({cmd: 'publish', topic: msg.topic, payload: msg.payload, qos: msg.qos, retain: msg.retain,
      dup: msg.dup ?? false, messageId: msg.qos > 0 ? 1 : undefined, properties: msg.properties}, protocolVersion)
    return {bytes, packetIdOffset: idBytes ? fixedHeaderLength(bytes) + 2 + topicLength : -1}
  }
  const propsBytes = protocolVersion === 5 ? 1 : 0
  const remaining = 2 + topicLength + idBytes + propsBytes + msg.payload.length
  const varint = varintLength(remaining)
  const bytes = Buffer.allocUnsafe(1 + varint + remaining)
  bytes[0] = 0x30 | (msg.dup ? 0x08 : 0) | (msg.qos << 1) | (msg.retain ? 0x01 : 0)
  let o = writeVarint(bytes, 1, remaining)
  bytes.writeUInt16BE(topicLength, o)
  o += 2
  o += bytes.write(msg.topic, o, 'utf8')
  const packetIdOffset = idBytes ? o : -1
  if (idBytes) { bytes.writeUInt16BE(0, o); o += 2 }
  if (propsBytes) bytes[o++] = 0
  msg.payload.copy(bytes, o)
  return {bytes, packetIdOffset}
}

function hasAny(o: object): boolean {
  for (const k in o) if ((o as Record<string, unknown>)[k] !== undefined) return true
  return false
}

function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

function writeVarint(buf: Buffer, offset: number, n: number): number {
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    buf[offset++] = byte
  } while (n > 0)
  return offset
}
