// The bytes of the answers a connection makes on its own, each within the client's Maximum Packet
// Size [MQTT-3.1.2-24]: a control packet (what the client can do without left out first), and the
// CONNACK that answers a CONNECT which failed before a handler could see it.
import {
  encodePacket, ReasonCode, V3ConnackCode, type MqttError, type Packet, type ProtocolVersion, type UnsupportedProtocolError,
} from '../codec/index.js'
import type {PeerLimits} from './conn-state.js'
import {boundReasonString} from './reason-string.js'

/**
 * A control packet's bytes, or undefined if it cannot fit: a reason string and user properties are
 * left out first [MQTT-3.2.2-19] [MQTT-3.14.2-3].
 */
export function encodeWithin(packet: Packet, version: ProtocolVersion, max: number): Buffer | undefined {
  let bytes = encodePacket(boundReasonString(packet), version)
  if (bytes.length > max && 'properties' in packet && packet.properties) {
    const {reasonString: _r, userProperties: _u, ...properties} = packet.properties as {reasonString?: string; userProperties?: unknown}
    bytes = encodePacket({...packet, properties} as Packet, version)
  }
  return bytes.length > max ? undefined : bytes
}

/**
 * [MQTT-3.1.2-2] an unsupported protocol level is answered with CONNACK 0x01; a level above 5 comes
 * from a client newer than v5, which reads a v5 CONNACK: 0x84.
 */
export function unsupportedLevelConnack(err: UnsupportedProtocolError): Buffer {
  return err.v5Answer ? encodePacket({cmd: 'connack', sessionPresent: false, reasonCode: ReasonCode.UnsupportedProtocolVersion}, 5)
    : encodePacket({cmd: 'connack', sessionPresent: false, returnCode: V3ConnackCode.UnacceptableProtocolVersion}, 4)
}

/**
 * [MQTT-3.1.4-1] (v5) a bad CONNECT may be answered with a CONNACK >= 0x80 before the close
 * [MQTT-3.2.2-7] (encoded as v5 even when the CONNECT failed before its level was applied); within the
 * client's Maximum Packet Size, the reason string only if it may have one [MQTT-3.1.2-29]. Undefined
 * when not even the bare CONNACK fits.
 */
export function refusingConnack(err: MqttError, peer: PeerLimits): Buffer | undefined {
  const connack = {cmd: 'connack', sessionPresent: false, reasonCode: err.reasonCode} as const
  let bytes = encodePacket({...connack, properties: peer.requestProblemInformation ? {reasonString: err.message} : {}}, 5)
  if (bytes.length > peer.maximumPacketSize) bytes = encodePacket(connack, 5)
  return bytes.length <= peer.maximumPacketSize ? bytes : undefined
}
