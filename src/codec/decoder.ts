import mqtt from 'mqtt-packet'
import {MalformedPacketError, UnsupportedProtocolError} from './errors.js'
import {Framer} from './framer.js'
import {PacketType, type Packet, type ProtocolVersion} from './packets.js'

export interface DecoderOptions {
  /** Largest frame accepted, fixed header included. */
  maxPacketSize: number
  /** The version to parse with before a CONNECT is seen (clients set it; brokers learn it from CONNECT). */
  protocolVersion?: ProtocolVersion
}

/**
 * One connection's inbound codec: frames the stream (enforcing the maximum packet size), checks the
 * protocol level of a CONNECT before mqtt-packet sees it, and parses exactly one frame at a time, so
 * pipelined bytes after a short DISCONNECT or AUTH are never read as part of it (mqtt-packet#162).
 * Buffers in the packets it returns are copies: they never pin the socket chunk.
 */
export class PacketDecoder {
  private readonly framer: Framer
  private readonly parser: mqtt.Parser
  private parsed: Packet | undefined
  private parseError: Error | undefined
  private stopped = false

  constructor(options: DecoderOptions) {
    this.framer = new Framer(options.maxPacketSize)
    this.parser = mqtt.parser({protocolVersion: options.protocolVersion ?? 4})
    this.parser.on('packet', (p: Packet) => { this.parsed = p })
    this.parser.on('error', (e: Error) => { this.parseError = e })
  }

  set maxPacketSize(n: number) { this.framer.maxPacketSize = n }

  /** The version packets are parsed with (learned from CONNECT, or set for a client). */
  set protocolVersion(v: ProtocolVersion) { (this.parser as unknown as {settings: {protocolVersion: number}}).settings = {protocolVersion: v} }

  /** Stops delivering packets (the connection is closing); the rest of the current chunk is ignored. */
  stop(): void { this.stopped = true }

  /** Decodes every complete packet in chunk, in order. Throws an MqttError on bad input. */
  push(chunk: Buffer, onPacket: (packet: Packet) => void): void {
    if (this.stopped) return
    this.framer.push(chunk, (frame) => {
      onPacket(this.decodeFrame(frame))
      return !this.stopped
    })
  }

  /** Parses one whole frame. */
  decodeFrame(frame: Buffer): Packet {
    const type = frame[0] >> 4
    if (type === 0) throw new MalformedPacketError('reserved packet type 0')
    if (type === PacketType.CONNECT) checkProtocolLevel(frame)
    this.parsed = undefined
    this.parseError = undefined
    this.parser.parse(frame)
    const error = this.parseError as Error | undefined
    if (error) throw new MalformedPacketError(error.message)
    const packet = this.parsed as Packet | undefined
    if (!packet) throw new MalformedPacketError('incomplete packet')
    copyBuffers(packet)
    return packet
  }
}

function checkProtocolLevel(frame: Buffer): void {
  let i = 1
  while (i < frame.length && frame[i] & 0x80) i++
  i++ // past the remaining length
  if (i + 2 > frame.length) return // too short: mqtt-packet reports it as malformed
  const nameLength = frame.readUInt16BE(i)
  const name = frame.toString('latin1', i + 2, i + 2 + nameLength)
  const levelAt = i + 2 + nameLength
  if (levelAt >= frame.length || (name !== 'MQTT' && name !== 'MQIsdp')) return // malformed, reported by the parser
  const level = frame[levelAt] & 0x7f // the high bit is the bridge flag
  // [MQTT-3.1.2-2] an unsupported protocol level is answered with CONNACK 0x01 (v3) / 0x84 (v5), then close
  if (name === 'MQIsdp' ? level !== 3 : level !== 4 && level !== 5) throw new UnsupportedProtocolError(level)
}

function copyBuffers(packet: Packet): void {
  switch (packet.cmd) {
    case 'publish':
      if (Buffer.isBuffer(packet.payload)) packet.payload = Buffer.from(packet.payload)
      if (packet.properties?.correlationData) packet.properties.correlationData = Buffer.from(packet.properties.correlationData)
      break
    case 'connect':
      if (packet.password) packet.password = Buffer.from(packet.password)
      if (packet.will && Buffer.isBuffer(packet.will.payload)) packet.will.payload = Buffer.from(packet.will.payload)
      if (packet.will?.properties?.correlationData) packet.will.properties.correlationData = Buffer.from(packet.will.properties.correlationData)
      if (packet.properties?.authenticationData) packet.properties.authenticationData = Buffer.from(packet.properties.authenticationData)
      break
    case 'auth':
      if (packet.properties?.authenticationData) packet.properties.authenticationData = Buffer.from(packet.properties.authenticationData)
      break
    default:
      break
  }
}
