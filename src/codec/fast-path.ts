import {isUtf8} from 'node:buffer'
import {checkText} from './checks.js'
import {MalformedPacketError, ProtocolError} from './errors.js'
import type {ConnectPacket, Packet, ProtocolVersion, PublishPacket, QoS} from './packets.js'

/*
 * Hand-written parsers for the packets on the hot path (PUBLISH without v5 properties, and the
 * two-byte acknowledgements). They return undefined for anything they do not handle, which then goes
 * to mqtt-packet. test/unit/codec-fast-path.test.ts checks them against mqtt-packet over random valid
 * and invalid frames: same packet, or the same kind of error.
 */

/** A PUBLISH frame, or undefined when it carries v5 properties (left to mqtt-packet). */
export function parsePublish(frame: Buffer, bodyStart: number, version: ProtocolVersion): PublishPacket | undefined {
  const flags = frame[0]! // a whole frame (the decoder's): at least its two-byte fixed header
  const qos = (flags >> 1) & 3
  if (qos === 3) throw new MalformedPacketError('PUBLISH with both QoS bits set') // [MQTT-3.3.1-4]
  let o = bodyStart
  if (o + 2 > frame.length) throw new MalformedPacketError('PUBLISH too short for its topic')
  const topicLength = frame.readUInt16BE(o)
  o += 2
  const topicEnd = o + topicLength
  if (topicEnd > frame.length) throw new MalformedPacketError('PUBLISH topic longer than the packet')
  const topic = readString(frame, o, topicEnd)
  o = topicEnd
  let messageId: number | undefined
  if (qos > 0) {
    if (o + 2 > frame.length) throw new MalformedPacketError('PUBLISH without a packet identifier')
    messageId = frame.readUInt16BE(o)
    if (messageId === 0) throw new ProtocolError('PUBLISH with packet identifier 0') // [MQTT-2.3.1-1]
    o += 2
  }
  if (version === 5) {
    if (o >= frame.length) throw new MalformedPacketError('PUBLISH without its property length')
    if (frame[o] !== 0) return undefined
    o += 1
  }
  const packet: PublishPacket = {
    cmd: 'publish',
    retain: (flags & 1) === 1,
    qos: qos as QoS,
    dup: (flags & 8) === 8,
    length: frame.length - bodyStart,
    topic,
    payload: copyOf(frame, o), // a copy: never pin the socket chunk
  }
  if (messageId !== undefined) packet.messageId = messageId
  return packet
}

/**
 * PUBACK/PUBREC/PUBREL/PUBCOMP with only a packet id (any version), else undefined. The frame is
 * buf[start .. end) (the whole of buf unless given: the decoder reads one in place in the socket chunk).
 */
export function parseShortAck(frame: Buffer, bodyStart: number, version: ProtocolVersion, start = 0, end = frame.length): Packet | undefined {
  if (end - bodyStart !== 2) return undefined
  const first = frame[start]!
  const cmd = ACKS[(first >> 4) - 4]
  if (cmd === undefined) return undefined
  // [MQTT-2.2.2-1] reserved flag bits: 0010 for PUBREL, 0000 for the others
  if ((first & 0x0f) !== (cmd === 'pubrel' ? 2 : 0)) throw new MalformedPacketError(`${cmd.toUpperCase()} with invalid header flags`)
  const messageId = frame.readUInt16BE(bodyStart)
  if (messageId === 0) throw new ProtocolError(`${cmd.toUpperCase()} with packet identifier 0`)
  const packet = {cmd, messageId, length: 2} as Packet & {reasonCode?: number}
  if (version === 5) packet.reasonCode = 0
  return packet
}

const ACKS = ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const

/**
 * A CONNECT of MQTT 3.1 or 3.1.1 (its protocol name and level already checked by the decoder), else
 * undefined (v5, a bridge's level): once per connection, but mqtt-packet's parser costs a stream and a
 * buffer list to make.
 */
export function parseConnect(frame: Buffer, bodyStart: number): ConnectPacket | undefined {
  if ((frame[0]! & 0x0f) !== 0) throw new MalformedPacketError('CONNECT with invalid header flags') // [MQTT-2.2.2-1]
  let o = bodyStart + 2 + frame.readUInt16BE(bodyStart) // past the protocol name
  const level = frame[o++]
  if (level !== 3 && level !== 4) return undefined
  if (o >= frame.length) throw new MalformedPacketError('CONNECT too short')
  const flags = frame[o++]!
  if (flags & 0x01) throw new MalformedPacketError('CONNECT reserved flag set') // [MQTT-3.1.2-3]
  const hasWill = (flags & 0x04) !== 0
  const willQos = (flags >> 3) & 3
  const willRetain = (flags & 0x20) !== 0
  // v3.1.1 [MQTT-3.1.2-13] [MQTT-3.1.2-15]: parsed, but against a rule (a Protocol Error, as in v5 and mqtt-packet's path)
  if (!hasWill && willQos !== 0) throw new ProtocolError('will QoS without a will')
  if (!hasWill && willRetain) throw new ProtocolError('will retain without a will')
  if (willQos === 3) throw new MalformedPacketError('will QoS 3') // [MQTT-3.1.2-14]
  if (o + 2 > frame.length) throw new MalformedPacketError('CONNECT too short')
  const keepalive = frame.readUInt16BE(o)
  o += 2
  const field = {at: o}
  const packet: ConnectPacket = {
    cmd: 'connect', length: frame.length - bodyStart,
    protocolId: level === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: level, clean: (flags & 0x02) !== 0, keepalive,
    clientId: stringField(frame, field, 'client identifier'),
  }
  if (hasWill) {
    const topic = stringField(frame, field, 'will topic')
    packet.will = {topic, payload: bytesField(frame, field, 'will payload'), qos: willQos as QoS, retain: willRetain}
  }
  if (flags & 0x80) packet.username = stringField(frame, field, 'user name')
  if (flags & 0x40) packet.password = bytesField(frame, field, 'password')
  // (v3.1.1 3.1.3) the fields present are those the flags announce: anything after them is malformed
  if (field.at !== frame.length) throw new MalformedPacketError(`${frame.length - field.at} bytes left over after the last field of CONNECT`)
  return packet
}

/** frame[from ..] as a buffer of its own, with no view of the frame made on the way. */
function copyOf(frame: Buffer, from: number): Buffer {
  const copy = Buffer.allocUnsafe(frame.length - from)
  frame.copy(copy, 0, from)
  return copy
}

function bytesField(frame: Buffer, field: {at: number}, what: string): Buffer {
  const start = field.at + 2
  if (start > frame.length) throw new MalformedPacketError(`CONNECT too short for its ${what}`)
  const end = start + frame.readUInt16BE(field.at)
  if (end > frame.length) throw new MalformedPacketError(`CONNECT too short for its ${what}`)
  field.at = end
  return Buffer.from(frame.subarray(start, end)) // a copy: never pin the socket chunk
}

function stringField(frame: Buffer, field: {at: number}, what: string): string {
  const start = field.at + 2
  if (start > frame.length) throw new MalformedPacketError(`CONNECT too short for its ${what}`)
  const end = start + frame.readUInt16BE(field.at)
  if (end > frame.length) throw new MalformedPacketError(`CONNECT too short for its ${what}`)
  field.at = end
  return readString(frame, start, end)
}

/**
 * A UTF-8 string field: well-formed [MQTT-1.5.4-1], without U+0000 [MQTT-1.5.4-2], and without
 * control characters or non-characters (checkText: midge's policy, as Mosquitto's).
 */
function readString(frame: Buffer, start: number, end: number): string {
  let ascii = true
  for (let i = start; i < end; i++) {
    const b = frame[i]!
    if (b >= 0x20 && b < 0x7f) continue // printable ASCII: the common case, two comparisons
    if (b === 0) throw new MalformedPacketError('a string contains U+0000')
    if (b < 0x80) throw new MalformedPacketError('a string contains a control character or non-character')
    ascii = false
    break
  }
  if (ascii) return frame.toString('latin1', start, end)
  const bytes = frame.subarray(start, end)
  if (!isUtf8(bytes)) throw new MalformedPacketError('a string is not well-formed UTF-8')
  if (bytes.includes(0)) throw new MalformedPacketError('a string contains U+0000')
  const s = frame.toString('utf8', start, end)
  checkText(s)
  return s
}
