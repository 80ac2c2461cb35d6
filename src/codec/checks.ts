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
    return s
  }
}
