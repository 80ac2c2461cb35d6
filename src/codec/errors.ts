import {ReasonCode} from './reason-codes.js'

/**
 * An error that carries the MQTT reason code it must be answered with. Errors are classified where
 * they are raised: the codec raises MalformedPacketError, handlers raise ProtocolError, and so on.
 */
export class MqttError extends Error {
  constructor(readonly reasonCode: number, message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** 0x81: the bytes do not form a valid packet. */
export class MalformedPacketError extends MqttError {
  constructor(message: string) { super(ReasonCode.MalformedPacket, message) }
}

/** 0x82: a well-formed packet that breaks a rule of the protocol. */
export class ProtocolError extends MqttError {
  constructor(message: string) { super(ReasonCode.ProtocolError, message) }
}

/** 0x95: a packet larger than the receiver's maximum packet size. */
export class PacketTooLargeError extends MqttError {
  constructor(size: number, max: number) { super(ReasonCode.PacketTooLarge, `packet of ${size} bytes exceeds the maximum of ${max}`) }
}

/**
 * CONNECT with a protocol level we do not speak; answered with CONNACK 0x01 in the 3.x form, or 0x84 in
 * the v5 form when `v5Answer` (a client newer than v5 that framed its CONNECT as v5 does).
 */
export class UnsupportedProtocolError extends MqttError {
  constructor(readonly protocolLevel: number, protocolName = 'MQTT', readonly v5Answer = false) {
    super(ReasonCode.UnsupportedProtocolVersion, `unsupported protocol level ${protocolLevel} for ${protocolName}`)
  }
}
