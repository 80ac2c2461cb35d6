import {isUtf8} from 'node:buffer'
import type mqtt from 'mqtt-packet'
import {MalformedPacketError, ProtocolError} from './errors.js'
import {PacketType, type Packet, type ProtocolVersion} from './packets.js'

// What the decoder checks around mqtt-packet, which accepts more than the spec allows.

/** Body sizes fixed by the spec, which mqtt-packet does not check (it skips trailing bytes). */
export function checkLength(type: number, length: number, version: ProtocolVersion): void {
  switch (type) {
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
      if (length !== 0) throw new MalformedPacketError(`${type === PacketType.PINGREQ ? 'PINGREQ' : 'PINGRESP'} with a body`)
      return
    case PacketType.DISCONNECT:
      // [MQTT-3.14.1-1] v3: no variable header or payload
      if (version !== 5 && length !== 0) throw new MalformedPacketError('DISCONNECT with a body')
      return
    case PacketType.PUBACK:
    case PacketType.PUBREC:
    case PacketType.PUBREL:
    case PacketType.PUBCOMP:
      // v3: exactly a packet identifier; v5: at least one
      if (version !== 5 ? length !== 2 : length < 2) throw new MalformedPacketError(`acknowledgement with a body of ${length} bytes`)
      return
    default:
  }
}

/** The fixed header flags each packet type must have (v5 2.1.3, v3.1.1 2.2.2); PUBLISH has its own. */
const HEADER_FLAGS = [-1, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0]

/** [MQTT-2.2.2-2] reserved header flags other than the specification's are malformed (PUBLISH is checked apart). */
export function checkHeaderFlags(first: number): void {
  const expected = HEADER_FLAGS[first >> 4] ?? -1 // first is a byte: always one of the 16
  if (expected >= 0 && (first & 0x0f) !== expected) throw new MalformedPacketError(`packet type ${first >> 4} with header flags ${first & 0x0f}`)
}

const WITH_PACKET_ID = new Set(['puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback'])

/** A packet identifier that is missing (mqtt-packet says -1) is malformed; 0 is a protocol error [MQTT-2.3.1-1]. */
export function checkPacketId(packet: Packet): void {
  if (packet.cmd === 'publish' ? packet.qos === 0 : !WITH_PACKET_ID.has(packet.cmd)) return
  const id = (packet as {messageId?: number}).messageId
  if (id === undefined || id === null || id < 0) throw new MalformedPacketError(`${packet.cmd.toUpperCase()} without a packet identifier`)
  if (id === 0) throw new ProtocolError(`${packet.cmd.toUpperCase()} with packet identifier 0`)
}

/**
 * Makes the parser refuse strings that are not well-formed UTF-8 [MQTT-1.5.3-1] (v5 [MQTT-1.5.4-1]) or
 * that contain U+0000 [MQTT-1.5.3-2] (v5 [MQTT-1.5.4-2]), which mqtt-packet would decode with U+FFFD.
 * It wraps mqtt-packet 9's string reader on this parser instance only; test/protocol/malformed.test.ts fails if a new mqtt-packet stops calling them.
 */
export function checkStrings(parser: mqtt.Parser): void {
  const p = parser as unknown as {
    _parseString(): string | null
    _pos: number
    _list: {slice(start: number, end: number): Buffer}
  }
  const parseString = p._parseString
  p._parseString = function (this: typeof p) {
    const start = this._pos + 2
    const s = parseString.call(this)
    if (s === null) return s
    if (s.indexOf('\0') !== -1) throw new MalformedPacketError('a string contains U+0000')
    if (!isUtf8(this._list.slice(start, this._pos))) throw new MalformedPacketError('a string is not well-formed UTF-8')
    checkText(s)
    return s
  }
}

/**
 * Control characters (U+0001..U+001F, U+007F..U+009F) and non-characters (U+FDD0..U+FDEF, U+nFFFE,
 * U+nFFFF): (v5 1.5.4, v3.1.1 1.5.3) a sender SHOULD NOT use them and a receiver MAY treat the packet as
 * malformed. midge does, as Mosquitto does (mosquitto_validate_utf8): in a client id, user name, topic
 * or filter they would reach logs and terminals as line breaks and escape sequences.
 */
const DISCOURAGED = /[\u0001-\u001f\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff\u{1fffe}\u{1ffff}\u{2fffe}\u{2ffff}\u{3fffe}\u{3ffff}\u{4fffe}\u{4ffff}\u{5fffe}\u{5ffff}\u{6fffe}\u{6ffff}\u{7fffe}\u{7ffff}\u{8fffe}\u{8ffff}\u{9fffe}\u{9ffff}\u{afffe}\u{affff}\u{bfffe}\u{bffff}\u{cfffe}\u{cffff}\u{dfffe}\u{dffff}\u{efffe}\u{effff}\u{ffffe}\u{fffff}\u{10fffe}\u{10ffff}]/u

/** The string with every control character and non-character written as \\uXXXX, for messages. */
export function escapeDiscouraged(s: string): string {
  return s.replace(new RegExp(DISCOURAGED.source, 'gu'), (c) => {
    const cp = c.codePointAt(0)!
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`
  })
}

/** Whether a string holds a control character or non-character (see DISCOURAGED). */
export function hasDiscouragedText(s: string): boolean {
  return DISCOURAGED.test(s)
}

/** Throws MalformedPacketError for a string with a control character or non-character (see DISCOURAGED). */
export function checkText(s: string): void {
  if (DISCOURAGED.test(s)) throw new MalformedPacketError('a string contains a control character or non-character')
}

/**
 * Makes the parser refuse a packet whose fields end before its Remaining Length does: bytes the header
 * flags and lengths do not account for cannot be parsed as the specification says (v5 1.2 "Malformed
 * Packet"; v3.1.1 2.2.3 and 3.1.3: the fields present are those the flags announce). mqtt-packet skips
 * them. SUBSCRIBE, UNSUBSCRIBE and PUBLISH read to the end by definition.
 */
export function checkConsumed(parser: mqtt.Parser): void {
  const p = parser as unknown as Record<string, unknown> & {
    _pos: number
    error: Error | null
    packet: {length: number; cmd: string}
    _emitError(e: Error): void
  }
  for (const name of ['_parseConnect', '_parseConnack', '_parseConfirmation', '_parseDisconnect', '_parseAuth']) {
    const parse = p[name] as (this: typeof p) => unknown
    p[name] = function (this: typeof p) {
      const result = parse.call(this)
      if (!this.error && this._pos !== this.packet.length) {
        this._emitError(new MalformedPacketError(`${this.packet.length - this._pos} bytes left over after the last field of ${this.packet.cmd.toUpperCase()}`))
      }
      return result
    }
  }
}

/**
 * mqtt-packet's errors for packets that parse but break a rule: Protocol Errors by the specification's
 * definitions (v5 1.2), not Malformed Packets. Everything else mqtt-packet refuses is malformed.
 */
const PROTOCOL_ERRORS = new Map<string, string>([
  // [MQTT-3.1.2-11] (v5) if the Will Flag is 0, the Will QoS MUST be 0
  ['Will QoS must be set to zero when Will Flag is set to 0', 'will QoS without a will'],
  // [MQTT-3.1.2-13] (v5) if the Will Flag is 0, Will Retain MUST be 0
  ['Will Retain Flag must be set to zero when Will Flag is set to 0', 'will retain without a will'],
  // (v5 3.8.3.1) "It is a Protocol Error to send a Retain Handling value of 3"
  ['Invalid retain handling, must be <= 2', 'retain handling 3'],
])

/** The error for a message of mqtt-packet's parser. */
export function classify(message: string): MalformedPacketError | ProtocolError {
  const protocol = PROTOCOL_ERRORS.get(message)
  return protocol === undefined ? new MalformedPacketError(message) : new ProtocolError(protocol)
}
