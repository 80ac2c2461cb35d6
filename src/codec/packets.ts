// Typed packets. They are mqtt-packet's shapes, re-exported here so that nothing outside src/codec
// depends on mqtt-packet directly.
import type * as mp from 'mqtt-packet'

export type QoS = mp.QoS
export type ProtocolVersion = 3 | 4 | 5
export type UserProperties = mp.UserProperties
export type Packet = mp.Packet
/** `bridgeMode`: the protocol level's 0x80 bit (Mosquitto's try_private), read and written by mqtt-packet. */
export type ConnectPacket = mp.IConnectPacket & {bridgeMode?: boolean}
export type ConnackPacket = mp.IConnackPacket
export type PublishPacket = mp.IPublishPacket
export type PubackPacket = mp.IPubackPacket
export type PubrecPacket = mp.IPubrecPacket
export type PubrelPacket = mp.IPubrelPacket
export type PubcompPacket = mp.IPubcompPacket
export type SubscribePacket = mp.ISubscribePacket
export type Subscription = mp.ISubscription
export type SubackPacket = mp.ISubackPacket
export type UnsubscribePacket = mp.IUnsubscribePacket
export type UnsubackPacket = mp.IUnsubackPacket
export type PingreqPacket = mp.IPingreqPacket
export type PingrespPacket = mp.IPingrespPacket
export type DisconnectPacket = mp.IDisconnectPacket
export type AuthPacket = mp.IAuthPacket
export type PublishProperties = NonNullable<mp.IPublishPacket['properties']>
export type ConnectProperties = NonNullable<mp.IConnectPacket['properties']>
export type ConnackProperties = NonNullable<mp.IConnackPacket['properties']>
export type WillMessage = NonNullable<mp.IConnectPacket['will']>

/** Control packet types (the high nibble of the first byte). */
export const PacketType = {
  CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, PUBREC: 5, PUBREL: 6, PUBCOMP: 7,
  SUBSCRIBE: 8, SUBACK: 9, UNSUBSCRIBE: 10, UNSUBACK: 11, PINGREQ: 12, PINGRESP: 13, DISCONNECT: 14, AUTH: 15,
} as const

// --- inbound packets: what the decoder guarantees -------------------------------------------------
// mqtt-packet's shapes are loose (a payload may be a string, a packet id optional) because they also
// describe packets a program builds to send. A decoded packet is narrower: its payloads are Buffers,
// and every packet that has a packet id on the wire has it. The broker's handlers take these.

/** A decoded PUBLISH: a Buffer payload, and a packet id at QoS 1 and 2 (none at QoS 0). */
export type InboundPublish = Omit<PublishPacket, 'payload' | 'qos' | 'messageId'> & {payload: Buffer} &
  ({qos: 0; messageId?: number} | {qos: 1 | 2; messageId: number})
/** A decoded will: a Buffer payload. */
export type InboundWill = Omit<WillMessage, 'payload'> & {payload: Buffer}
export type InboundConnect = Omit<ConnectPacket, 'will'> & {will?: InboundWill}
export type InboundPuback = PubackPacket & {messageId: number}
export type InboundPubrec = PubrecPacket & {messageId: number}
export type InboundPubrel = PubrelPacket & {messageId: number}
export type InboundPubcomp = PubcompPacket & {messageId: number}
export type InboundSubscribe = SubscribePacket & {messageId: number}
export type InboundUnsubscribe = UnsubscribePacket & {messageId: number}
/** Any packet as PacketDecoder delivers it. */
export type InboundPacket = InboundConnect | InboundPublish | InboundPuback | InboundPubrec | InboundPubrel | InboundPubcomp |
  InboundSubscribe | InboundUnsubscribe | ConnackPacket | SubackPacket | UnsubackPacket | PingreqPacket | PingrespPacket |
  DisconnectPacket | AuthPacket
