import {MalformedPacketError} from './errors.js'
import type {ProtocolVersion} from './packets.js'

/*
 * Frames read and written in place, without packet objects, for a receive path made for load (the
 * bench's connections): where a PUBLISH's parts are, an acknowledgement's packet id and reason code,
 * and the four-byte acknowledgements written into a caller's buffer. Frames come from FrameScanner,
 * so their size and Remaining Length are already checked; the fields inside are checked here against
 * the frame's end.
 */

/** The first byte of each short acknowledgement (PUBREL's reserved flags are 0010, [MQTT-3.6.1-1]). */
export const AckByte = {puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70} as const
export type AckByte = (typeof AckByte)[keyof typeof AckByte]

/** Bytes of a whole frame's fixed header (its first byte and Remaining Length): where its body starts. */
export function fixedHeaderLength(frame: Buffer): number {
  let i = 1
  while (i < 4 && ((frame[i] ?? 0) & 0x80)) i++
  return i + 1
}

/** Size of an acknowledgement with only a packet id (reason Success, no properties; any version). */
export const SHORT_ACK_SIZE = 4

/** Writes a short acknowledgement at buf[offset]; returns the offset after it. */
export function writeShortAck(buf: Buffer, offset: number, first: AckByte, packetId: number): number {
  buf[offset] = first
  buf[offset + 1] = 2
  buf[offset + 2] = packetId >> 8
  buf[offset + 3] = packetId & 0xff
  return offset + SHORT_ACK_SIZE
}

/** A whole PINGREQ, and a DISCONNECT with reason Success (any version). */
export const PINGREQ_BYTES: Buffer = Buffer.from([0xc0, 0x00])
export const DISCONNECT_BYTES: Buffer = Buffer.from([0xe0, 0x00])

/** The packet id of a PUBACK/PUBREC/PUBREL/PUBCOMP whose body starts at bodyStart. */
export function ackPacketId(buf: Buffer, bodyStart: number, end: number): number {
  if (end - bodyStart < 2) throw new MalformedPacketError('acknowledgement without a packet identifier')
  return buf.readUInt16BE(bodyStart)
}

/** Its reason code (v5 3.4.2.1: absent means Success). */
export function ackReasonCode(buf: Buffer, bodyStart: number, end: number): number {
  return end - bodyStart > 2 ? buf[bodyStart + 2] as number : 0
}

/** A DISCONNECT's reason code (v5 3.14.2.1: absent, and always in v3, means Normal disconnection). */
export function disconnectReasonCode(buf: Buffer, bodyStart: number, end: number): number {
  return end > bodyStart ? buf[bodyStart] as number : 0
}

/**
 * Where a PUBLISH's parts are, read in place. One is reused for every frame of a reader: read()
 * fills it and allocates nothing.
 */
export class PublishView {
  qos = 0
  /** 0 for QoS 0. */
  packetId = 0
  /** The payload is buf[payloadStart, end) of the frame read. */
  payloadStart = 0

  /** Reads the PUBLISH frame whose body is buf[bodyStart, end) (its first byte at buf[start]). */
  read(buf: Buffer, start: number, bodyStart: number, end: number, version: ProtocolVersion): this {
    const qos = ((buf[start] as number) >> 1) & 3
    if (qos === 3) throw new MalformedPacketError('PUBLISH with both QoS bits set') // [MQTT-3.3.1-4] (v3.1.1)
    if (end - bodyStart < 2) throw new MalformedPacketError('PUBLISH too short for its topic')
    let o = bodyStart + 2 + buf.readUInt16BE(bodyStart)
    let packetId = 0
    if (qos > 0) {
      if (o + 2 > end) throw new MalformedPacketError('PUBLISH without a packet identifier')
      packetId = buf.readUInt16BE(o)
      o += 2
    }
    if (version === 5) {
      // (v5 2.2.2.1) the Property Length, a Variable Byte Integer, then that many bytes of properties
      let length = 0
      let multiplier = 1
      let byte: number
      do {
        if (o >= end || multiplier > 128 ** 3) throw new MalformedPacketError('PUBLISH property length malformed or past the packet')
        byte = buf[o++] as number
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
      } while (byte & 0x80)
      o += length
    }
    if (o > end) throw new MalformedPacketError('PUBLISH fields longer than the packet')
    this.qos = qos
    this.packetId = packetId
    this.payloadStart = o
    return this
  }
}
