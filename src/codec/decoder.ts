import mqtt from 'mqtt-packet'
import {checkConsumed, checkHeaderFlags, checkLength, checkPacketId, checkStrings, classify} from './checks.js'
import {MalformedPacketError, MqttError, UnsupportedProtocolError} from './errors.js'
import {parseConnect, parsePublish, parseShortAck} from './fast-path.js'
import {FrameScanner} from './frame-scanner.js'
import {fixedHeaderLength} from './in-place.js'
import {checkProperties} from './properties.js'
import {PacketType, type Packet, type ProtocolVersion} from './packets.js'

function decodeInto(this: PacketDecoder, buf: Buffer, start: number, _bodyStart: number, end: number): boolean {
  return this.frame(buf, start, end)
}

export interface DecoderOptions {
  /** Largest frame accepted, fixed header included. */
  maxPacketSize: number
  /** The version to parse with before a CONNECT is seen (clients set it; brokers learn it from CONNECT). */
  protocolVersion?: ProtocolVersion
  /** Parse PUBLISH and short acknowledgements with the hand-written fast path (default true; tests compare both). */
  fastPath?: boolean
  /** mqtt-packet's parsers shared with other decoders (a broker's connections); without them the decoder makes its own. */
  parsers?: SharedParsers
}

/**
 * One connection's inbound codec: frames the stream (enforcing the maximum packet size), checks the
 * protocol level of a CONNECT before mqtt-packet sees it, and parses exactly one frame at a time, so
 * pipelined bytes after a short DISCONNECT or AUTH are never read as part of it (mqtt-packet#162).
 * Buffers in the packets it returns are copies: they never pin the socket chunk.
 */
export class PacketDecoder {
  private readonly framer: FrameScanner
  private slowParser: SlowParser | undefined
  private readonly parsers: SharedParsers | undefined
  private stopped = false
  private version: ProtocolVersion
  private readonly fastPath: boolean
  /** push()'s onPacket and its `this`, for the frame sink shared by every decoder (no closure per chunk). */
  private onPacket: ((packet: Packet) => void) | undefined
  private onPacketSelf: unknown
  /** The protocol level of the last CONNECT frame seen (even one that failed to parse), else undefined. */
  connectLevel: number | undefined

  constructor(options: DecoderOptions) {
    this.framer = new FrameScanner(options.maxPacketSize)
    this.version = options.protocolVersion ?? 4
    this.fastPath = options.fastPath ?? true
    this.parsers = options.parsers
  }

  set maxPacketSize(n: number) { this.framer.maxPacketSize = n }

  /** Bytes of a packet started and not complete yet (0: between packets). */
  get heldBytes(): number { return this.framer.heldBytes }

  /** The version packets are parsed with (learned from CONNECT, or set for a client). */
  set protocolVersion(v: ProtocolVersion) {
    this.version = v
    this.slowParser = undefined
  }

  /** Stops delivering packets (the connection is closing); the rest of the current chunk is ignored. */
  stop(): void { this.stopped = true }

  /**
   * Decodes every complete packet in chunk, in order, calling `onPacket` with `self` as this (a method
   * shared by every connection rather than a closure each). Throws an MqttError on bad input.
   */
  push<This>(chunk: Buffer, onPacket: (this: This, packet: Packet) => void, self?: This): void {
    if (this.stopped) return
    this.onPacket = onPacket as (packet: Packet) => void
    this.onPacketSelf = self
    this.framer.push(chunk, decodeInto, this)
  }

  /** @internal the frame sink of push(): one function for every decoder. */
  frame(buf: Buffer, start: number, end: number): boolean {
    // the commonest packet, a two-byte acknowledgement, is read where it lies: no view of the chunk
    const type = buf[start]! >> 4
    const ack = this.fastPath && end - start === 4 && buf[start + 1] === 2 && type >= PacketType.PUBACK && type <= PacketType.PUBCOMP
    this.onPacket!.call(this.onPacketSelf, ack ? this.shortAckAt(buf, start) : this.decodeFrame(buf.subarray(start, end)))
    return !this.stopped
  }

  /** decodeFrame for a 4-byte PUBACK/PUBREC/PUBREL/PUBCOMP at buf[start]: the same checks, in the same order. */
  private shortAckAt(buf: Buffer, start: number): Packet {
    const first = buf[start]!
    checkHeaderFlags(first)
    checkLength(first >> 4, 2, this.version)
    return parseShortAck(buf, start + 2, this.version, start, start + 4)!
  }

  /** Parses one whole frame. */
  decodeFrame(frame: Buffer): Packet {
    if (frame.length < 2) throw new MalformedPacketError('a packet shorter than its fixed header')
    const first = frame[0]!
    const type = first >> 4
    if (type === 0) throw new MalformedPacketError('reserved packet type 0')
    if (type === PacketType.CONNECT) this.connectLevel = checkProtocolLevel(frame)
    checkHeaderFlags(first)
    // [MQTT-3.3.1-2] DUP must be 0 on QoS 0 (Mosquitto also treats it as malformed)
    if (type === PacketType.PUBLISH && (first & 0x0e) === 0x08) throw new MalformedPacketError('DUP set on a QoS 0 PUBLISH')
    const bodyStart = fixedHeaderLength(frame)
    const bodyLength = frame.length - bodyStart
    checkLength(type, bodyLength, this.version)
    if (this.fastPath) {
      const fast = type === PacketType.PUBLISH ? parsePublish(frame, bodyStart, this.version)
        : type >= PacketType.PUBACK && type <= PacketType.PUBCOMP ? parseShortAck(frame, bodyStart, this.version)
          : type === PacketType.PINGREQ && frame[0] === 0xc0 ? {cmd: 'pingreq'} as Packet
            : type === PacketType.CONNECT && this.connectLevel !== undefined && this.connectLevel < 5 ? parseConnect(frame, bodyStart) : undefined
      if (fast !== undefined) return fast
    }
    // (v5 3.15.2.1) an AUTH with Remaining Length 0 means Success with no properties; mqtt-packet
    // cannot parse that short form
    if (type === PacketType.AUTH && bodyLength === 0 && this.version === 5) return {cmd: 'auth', reasonCode: 0} as Packet
    // (v5 2.2.2.2) every property checked against the packet type before mqtt-packet reads any
    if (type === PacketType.CONNECT ? this.connectLevel === 5 : this.version === 5) checkProperties(frame, bodyStart)
    // never a CONNECT: mqtt-packet's parser takes its settings (version, bridge mode) from the CONNECT it parses
    const shared = type === PacketType.CONNECT ? undefined : this.parsers
    const parser = shared !== undefined ? shared.get(this.version) : this.slowParser ?? new SlowParser(this.version)
    const packet = parser.parse(frame)
    // a parser of its own is kept only for what comes often (v5 PUBLISH with properties); one-off
    // packets (CONNECT, SUBSCRIBE) must not leave every idle connection holding one
    if (shared === undefined) this.slowParser = packet.cmd === 'publish' ? parser : undefined
    // [MQTT-3.1.2-12] (v5) [MQTT-3.1.2-14] (v3.1.1) a Will QoS of 3 is malformed
    if (packet.cmd === 'connect' && packet.will && (packet.will.qos ?? 0) > 2) throw new MalformedPacketError('will QoS 3')
    checkPacketId(packet)
    copyBuffers(packet)
    return packet
  }
}

/**
 * mqtt-packet's parser, fed one whole frame at a time. It is a full Duplex stream with a buffer list,
 * so connections make one only when they need it (see PacketDecoder.decodeFrame).
 */
class SlowParser {
  private readonly parser: mqtt.Parser
  private packet: Packet | undefined
  private error: Error | undefined

  constructor(version: ProtocolVersion) {
    this.parser = mqtt.parser({protocolVersion: version})
    checkStrings(this.parser)
    checkConsumed(this.parser)
    this.parser.on('packet', (p: Packet) => { this.packet = p })
    this.parser.on('error', (e: Error) => { this.error ??= e })
  }

  parse(frame: Buffer): Packet {
    this.packet = undefined
    this.error = undefined
    try {
      this.parser.parse(frame)
    } catch (e) {
      this.error = e as Error
    }
    const {packet, error} = this
    this.packet = undefined // a shared parser keeps no connection's packet
    if (error || !packet) {
      // a frame mqtt-packet did not finish must leave nothing behind for the next one: its buffer and its
      // read position (_resetState keeps _pos, which _parseLength then reads from)
      const p = this.parser as unknown as {_resetState(): void; _pos: number}
      p._resetState()
      p._pos = 0
      if (error) throw error instanceof MqttError ? error : classify(error.message)
      throw new MalformedPacketError('incomplete packet')
    }
    return packet
  }
}

/**
 * mqtt-packet's parsers shared by many decoders (a broker's connections), one per protocol version. A
 * parser is fed one whole frame at a time, parses it synchronously and keeps nothing from one frame to
 * the next (SlowParser.parse resets it after a frame it did not finish) but the settings a CONNECT
 * gives it, which no shared parser sees, so one serves every connection: a connection that sends a
 * SUBSCRIBE (or any other packet the fast path leaves to mqtt-packet) no longer makes a parser (a stream
 * with a buffer list and six closures) that a burst of a thousand subscribers promoted into the old
 * generation before it died.
 */
export class SharedParsers {
  private readonly byVersion: Array<SlowParser | undefined> = []

  get(version: ProtocolVersion): SlowParser {
    return (this.byVersion[version] ??= new SlowParser(version))
  }
}

/** The protocol level of a CONNECT frame (undefined if it cannot be read); throws for an unsupported one. */
function checkProtocolLevel(frame: Buffer): number | undefined {
  let i = 1
  while (i < frame.length && frame[i]! & 0x80) i++
  i++ // past the remaining length
  if (i + 2 > frame.length) return undefined // too short: mqtt-packet reports it as malformed
  const nameLength = frame.readUInt16BE(i)
  const name = frame.toString('latin1', i + 2, i + 2 + nameLength)
  const levelAt = i + 2 + nameLength
  if (levelAt >= frame.length || (name !== 'MQTT' && name !== 'MQIsdp')) return undefined // malformed, reported by the parser
  const level = frame[levelAt]! & 0x7f // the high bit is the bridge flag
  // [MQTT-3.1.2-2] an unsupported protocol level is answered with CONNACK 0x01 (v3) / 0x84 (v5), then close;
  // a client that says MQIsdp speaks 3.x whatever its level, and reads the 3.x form; a level above 5 is
  // answered in the v5 form only if the CONNECT is framed as v5's (with property sections)
  if (name === 'MQIsdp' ? level !== 3 : level !== 4 && level !== 5) {
    throw new UnsupportedProtocolError(level, name, name === 'MQTT' && level > 5 && framedAsV5(frame, levelAt + 1))
  }
  return level
}

/** Whether a CONNECT's fields, from its connect flags at `o`, read exactly to its end the way v5 lays them out. */
function framedAsV5(frame: Buffer, o: number): boolean {
  const flags = frame[o] ?? 0
  o += 3 // flags, keep alive
  const section = (): boolean => {
    let length = 0
    for (let i = 0, shift = 1; ; i++, shift *= 128) {
      if (i === 4 || o >= frame.length) return false
      const b = frame[o++]!
      length += (b & 0x7f) * shift
      if ((b & 0x80) === 0) break
    }
    o += length
    return o <= frame.length
  }
  const field = (): boolean => {
    if (o + 2 > frame.length) return false
    o += 2 + frame.readUInt16BE(o)
    return o <= frame.length
  }
  if (!section() || !field()) return false // properties, client id
  if (flags & 0x04 && !(section() && field() && field())) return false // will properties, topic, payload
  if (flags & 0x80 && !field()) return false
  if (flags & 0x40 && !field()) return false
  return o === frame.length
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
