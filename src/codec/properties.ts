import {MalformedPacketError, ProtocolError} from './errors.js'
import {PacketType} from './packets.js'

/*
 * MQTT 5 properties, checked on the raw bytes before mqtt-packet reads them (v5 2.2.2.2). mqtt-packet
 * accepts any property on any packet, keeps reading a value past the end of the property section,
 * and turns repeats into arrays; a property that a packet may not carry would then travel through
 * the broker to other clients. Here every property section of a v5 packet is walked once:
 * - an identifier the packet type may not carry is a Malformed Packet (v5 2.2.2.2: "contains an
 *   Identifier which is not valid for its packet type");
 * - a value that runs past the section, or a section that runs past the packet, is malformed;
 * - a property that may appear once and appears twice is a Protocol Error (each property's definition
 *   in v5 3.x.2.x: "It is a Protocol Error to include the ... more than once");
 * - values the definitions forbid (Receive Maximum 0, Maximum Packet Size 0, Subscription Identifier
 *   0, flags other than 0 or 1) are Protocol Errors.
 */

enum Kind { Byte, Two, Four, VarInt, String, Binary, Pair }

/** Where a property may appear: the packet types, and the will properties of a CONNECT. */
const WILL = 16

interface PropertyRule {
  readonly name: string
  readonly kind: Kind
  /** Bit (1 << packet type), and (1 << WILL) for will properties. */
  readonly where: number
  /** Zero is not allowed. */
  readonly nonZero?: boolean
  /** A Byte that is a flag: 0 or 1. */
  readonly flag?: boolean
}

const T = PacketType
const on = (...types: number[]): number => types.reduce((m, t) => m | (1 << t), 0)
const ALL = on(T.CONNECT, T.CONNACK, T.PUBLISH, T.PUBACK, T.PUBREC, T.PUBREL, T.PUBCOMP, T.SUBSCRIBE, T.SUBACK,
  T.UNSUBSCRIBE, T.UNSUBACK, T.DISCONNECT, T.AUTH, WILL)
const REASON_STRING_ON = on(T.CONNACK, T.PUBACK, T.PUBREC, T.PUBREL, T.PUBCOMP, T.SUBACK, T.UNSUBACK, T.DISCONNECT, T.AUTH)

/** The table of v5 2.2.2.2, by identifier. */
const RULES: ReadonlyMap<number, PropertyRule> = new Map<number, PropertyRule>([
  [0x01, {name: 'Payload Format Indicator', kind: Kind.Byte, where: on(T.PUBLISH, WILL), flag: true}],
  [0x02, {name: 'Message Expiry Interval', kind: Kind.Four, where: on(T.PUBLISH, WILL)}],
  [0x03, {name: 'Content Type', kind: Kind.String, where: on(T.PUBLISH, WILL)}],
  [0x08, {name: 'Response Topic', kind: Kind.String, where: on(T.PUBLISH, WILL)}],
  [0x09, {name: 'Correlation Data', kind: Kind.Binary, where: on(T.PUBLISH, WILL)}],
  [0x0b, {name: 'Subscription Identifier', kind: Kind.VarInt, where: on(T.PUBLISH, T.SUBSCRIBE), nonZero: true}],
  [0x11, {name: 'Session Expiry Interval', kind: Kind.Four, where: on(T.CONNECT, T.CONNACK, T.DISCONNECT)}],
  [0x12, {name: 'Assigned Client Identifier', kind: Kind.String, where: on(T.CONNACK)}],
  [0x13, {name: 'Server Keep Alive', kind: Kind.Two, where: on(T.CONNACK)}],
  [0x15, {name: 'Authentication Method', kind: Kind.String, where: on(T.CONNECT, T.CONNACK, T.AUTH)}],
  [0x16, {name: 'Authentication Data', kind: Kind.Binary, where: on(T.CONNECT, T.CONNACK, T.AUTH)}],
  [0x17, {name: 'Request Problem Information', kind: Kind.Byte, where: on(T.CONNECT), flag: true}],
  [0x18, {name: 'Will Delay Interval', kind: Kind.Four, where: on(WILL)}],
  [0x19, {name: 'Request Response Information', kind: Kind.Byte, where: on(T.CONNECT), flag: true}],
  [0x1a, {name: 'Response Information', kind: Kind.String, where: on(T.CONNACK)}],
  [0x1c, {name: 'Server Reference', kind: Kind.String, where: on(T.CONNACK, T.DISCONNECT)}],
  [0x1f, {name: 'Reason String', kind: Kind.String, where: REASON_STRING_ON}],
  [0x21, {name: 'Receive Maximum', kind: Kind.Two, where: on(T.CONNECT, T.CONNACK), nonZero: true}],
  [0x22, {name: 'Topic Alias Maximum', kind: Kind.Two, where: on(T.CONNECT, T.CONNACK)}],
  [0x23, {name: 'Topic Alias', kind: Kind.Two, where: on(T.PUBLISH)}],
  [0x24, {name: 'Maximum QoS', kind: Kind.Byte, where: on(T.CONNACK), flag: true}],
  [0x25, {name: 'Retain Available', kind: Kind.Byte, where: on(T.CONNACK), flag: true}],
  [0x26, {name: 'User Property', kind: Kind.Pair, where: ALL}],
  [0x27, {name: 'Maximum Packet Size', kind: Kind.Four, where: on(T.CONNECT, T.CONNACK), nonZero: true}],
  [0x28, {name: 'Wildcard Subscription Available', kind: Kind.Byte, where: on(T.CONNACK), flag: true}],
  [0x29, {name: 'Subscription Identifier Available', kind: Kind.Byte, where: on(T.CONNACK), flag: true}],
  [0x2a, {name: 'Shared Subscription Available', kind: Kind.Byte, where: on(T.CONNACK), flag: true}],
])

const PACKET_NAMES = ['', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK',
  'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH', 'will']

/** A Variable Byte Integer at `at`: its value and where it ends; malformed past `end` or over four bytes. */
function readVarInt(buf: Buffer, at: number, end: number): {value: number; next: number} {
  let value = 0
  let multiplier = 1
  for (let i = 0; i < 4; i++) {
    if (at + i >= end) throw new MalformedPacketError('a variable byte integer runs past its field')
    const byte = buf[at + i]!
    value += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return {value, next: at + i + 1}
    multiplier *= 128
  }
  throw new MalformedPacketError('a variable byte integer longer than 4 bytes') // [MQTT-1.5.5-1]
}

/**
 * Checks the property section that starts (with its length) at `at` for a packet of type `where`
 * (a PacketType, or WILL for a CONNECT's will properties); returns where the section ends.
 */
function checkSection(frame: Buffer, at: number, where: number): number {
  const {value: length, next: start} = readVarInt(frame, at, frame.length)
  const end = start + length
  if (end > frame.length) throw new MalformedPacketError(`${PACKET_NAMES[where]} properties run past the packet`)
  let seen = 0 // identifiers are below 0x2b: one bit each
  let o = start
  while (o < end) {
    const id = frame[o++]!
    const rule = RULES.get(id)
    if (rule === undefined || (rule.where & (1 << where)) === 0) {
      throw new MalformedPacketError(rule === undefined ? `unknown property 0x${id.toString(16).padStart(2, '0')}`
        : `${PACKET_NAMES[where]} may not carry the property ${rule.name}`)
    }
    const bit = 2 ** id
    if (id !== 0x26 && !(id === 0x0b && where === T.PUBLISH)) {
      if (Math.floor(seen / bit) % 2 === 1) throw new ProtocolError(`the property ${rule.name} appears more than once`)
      seen += bit
    }
    o = checkValue(frame, o, end, rule)
  }
  return end
}

/** Checks one property value at `o` (within the section ending at `end`); returns where it ends. */
function checkValue(frame: Buffer, o: number, end: number, rule: PropertyRule): number {
  let size: number
  let value = -1
  switch (rule.kind) {
    case Kind.Byte: size = 1; break
    case Kind.Two: size = 2; break
    case Kind.Four: size = 4; break
    case Kind.VarInt: {
      const v = readVarInt(frame, o, end)
      if (rule.nonZero && v.value === 0) throw new ProtocolError(`the property ${rule.name} is 0`)
      return v.next
    }
    case Kind.String:
    case Kind.Binary:
      return lengthPrefixed(frame, o, end, rule)
    case Kind.Pair:
      return lengthPrefixed(frame, lengthPrefixed(frame, o, end, rule), end, rule)
  }
  if (o + size > end) throw new MalformedPacketError(`the property ${rule.name} runs past the properties`)
  value = size === 1 ? frame[o]! : size === 2 ? frame.readUInt16BE(o) : frame.readUInt32BE(o)
  if (rule.flag && value > 1) throw new ProtocolError(`the property ${rule.name} is ${value}, not 0 or 1`)
  if (rule.nonZero && value === 0) throw new ProtocolError(`the property ${rule.name} is 0`)
  return o + size
}

function lengthPrefixed(frame: Buffer, o: number, end: number, rule: PropertyRule): number {
  if (o + 2 > end) throw new MalformedPacketError(`the property ${rule.name} runs past the properties`)
  const next = o + 2 + frame.readUInt16BE(o)
  if (next > end) throw new MalformedPacketError(`the property ${rule.name} runs past the properties`)
  return next
}

/**
 * Checks every property section of a v5 frame (fixed header included; `bodyStart` is where its
 * variable header begins). Frames too short to hold a section are left to the parser, which reports
 * them as malformed.
 */
export function checkProperties(frame: Buffer, bodyStart: number): void {
  const type = frame[0]! >> 4
  const end = frame.length
  let o = bodyStart
  switch (type) {
    case T.CONNECT: {
      if (o + 2 > end) return
      o += 2 + frame.readUInt16BE(o) // protocol name
      if (o + 4 > end) return
      const flags = frame[o + 1]!
      o = checkSection(frame, o + 4, T.CONNECT) // past level, flags, keep alive
      if ((flags & 0x04) === 0) return
      if (o + 2 > end) return
      o += 2 + frame.readUInt16BE(o) // client identifier
      if (o >= end) return
      checkSection(frame, o, WILL)
      return
    }
    case T.PUBLISH: {
      if (o + 2 > end) return
      o += 2 + frame.readUInt16BE(o) + (((frame[0]! >> 1) & 3) > 0 ? 2 : 0)
      // the property length is not optional in a v5 PUBLISH (v5 3.3.2.3); mqtt-packet reads none as
      // none, the fast path as malformed (found by test/unit/codec-properties.test.ts)
      if (o === end) throw new MalformedPacketError('PUBLISH without its property length')
      if (o > end) return
      checkSection(frame, o, T.PUBLISH)
      return
    }
    case T.PUBACK: case T.PUBREC: case T.PUBREL: case T.PUBCOMP:
      // packet id, then reason code and properties only when present (v5 3.4.2.1)
      if (o + 3 < end) checkSection(frame, o + 3, type)
      return
    case T.CONNACK:
      if (o + 2 < end) checkSection(frame, o + 2, type)
      return
    case T.SUBSCRIBE: case T.SUBACK: case T.UNSUBSCRIBE: case T.UNSUBACK:
      // (v5 3.8.2, 3.9.2, 3.10.2, 3.11.2) the property length follows the packet id, always
      if (o + 2 >= end) throw new MalformedPacketError(`${PACKET_NAMES[type]} without its property length`)
      checkSection(frame, o + 2, type)
      return
    case T.DISCONNECT: case T.AUTH:
      if (o + 1 < end) checkSection(frame, o + 1, type)
      return
    default:
  }
}
