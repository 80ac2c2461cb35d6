import {PacketDecoder, type PublishPacket, type QoS} from '../codec/index.js'
import {sharedEncoding, type Message} from '../broker/message.js'
import {RepeatedString, readString, writeString} from './wire-strings.js'

/*
 * The bytes of one message between nodes: a short header (version, flags, sender node, publisher,
 * expiry, the shared groups the receiving node delivers for), then the message. One without v5
 * properties (the common case) follows as its topic (a u16 length and UTF-8) and its payload (the
 * rest), its QoS and retain flag among the flags: written and read where they lie, with no MQTT
 * framing. One with v5 properties follows as an MQTT 5 PUBLISH frame (topic, payload, QoS, retain, v5
 * properties), encoded and parsed by src/codec; the frame is the message's cached v5 encoding, so a node
 * that also has v5 subscribers encodes it once. Version 1 (every message a frame) is still read: the
 * retained messages stored in Redis by an earlier node.
 *
 * The messages for one node made in one event-loop turn go as one batch: [BATCH, then for each message
 * u32 length, the message's bytes]; a turn with a single message sends it alone.
 *
 * What a node sends another is numbered: [SEQUENCED, sender, the sender's epoch (one per join), u48
 * number, u48 lowest number the sender still keeps for the receiver, then a batch or a single message]. The receiver routes the numbers in order, once, and
 * confirms them: [CONFIRM, the confirming node, the epoch it confirms for, u48 number (every one up to
 * it), flags (RESEND: a number was missing, send again everything not confirmed)].
 */

/** A message's first byte, its version: never one of the frame kinds below (a single message goes unwrapped). */
const VERSION = 5
/** The version before plain messages: every message a PUBLISH frame. */
const FRAMED_VERSION = 1
const BATCH = 2
const SEQUENCED = 3
const CONFIRM = 4
/** CONFIRM's flag: the receiver saw a gap and asks for everything not confirmed again. */
const RESEND = 1
const HAS_ORIGIN = 1
const HAS_USERNAME = 2
const NULL_USERNAME = 4
const HAS_EXPIRY = 8
/** The message is a v5 PUBLISH frame (it has v5 properties); else its topic and payload, with QoS and retain below. */
const HAS_FRAME = 16
const RETAIN = 32
/** QoS, in the flags' top two bits (a message without a frame). */
const QOS_SHIFT = 6
/** Largest frame parsed from another node (the PUBLISH part); MQTT's own limit. */
const MAX_FRAME = 268_435_460
/** This node's id as the sender of what it encodes; the sender of the messages decoded last (the same for a whole batch). */
const sending = new RepeatedString()
const senders = new RepeatedString()

export interface NodeMessage {
  /** The node that sent it. */
  sender: string
  message: Message
  /** Shared groups (`$share/{group}/{filter}`) whose copy the receiver delivers. */
  groups: readonly string[]
}

/**
 * Encodes a message; `now` is the broker's clock, whose `expiresAt` is sent as wall-clock time so
 * another machine's clock can read it.
 */
export function encodeNodeMessage(sender: string, msg: Message, groups: readonly string[], now: number): Buffer {
  // the strings are written where they go (no Buffer made for each): this runs once per forwarded message
  let flags = 0
  let size = 2 + 2 + sending.byteLength(sender) + 2
  if (msg.origin !== undefined) { flags |= HAS_ORIGIN; size += 2 + Buffer.byteLength(msg.origin) }
  if (msg.originUsername === null) flags |= NULL_USERNAME
  else if (msg.originUsername !== undefined) { flags |= HAS_USERNAME; size += 2 + Buffer.byteLength(msg.originUsername) }
  if (msg.expiresAt !== undefined) { flags |= HAS_EXPIRY; size += 8 }
  for (let i = 0; i < groups.length; i++) size += 2 + Buffer.byteLength(groups[i]!)
  // a message with v5 properties goes as its v5 encoding (shared with v5 subscribers here); the others
  // as topic and payload, with no v5 encoding made that a 3.1.1 subscriber would never use
  const encoded = msg.properties === undefined ? undefined : sharedEncoding(msg, 5, msg.qos, msg.retain)
  if (encoded !== undefined) {
    flags |= HAS_FRAME
    size += encoded.bytes.length
  } else {
    flags |= (msg.qos << QOS_SHIFT) | (msg.retain ? RETAIN : 0)
    size += 2 + Buffer.byteLength(msg.topic) + msg.payload.length
  }
  const out = Buffer.allocUnsafe(size)
  out[0] = VERSION
  out[1] = flags
  let at = sending.write(out, 2, sender)
  if (flags & HAS_ORIGIN) at = writeString(out, at, msg.origin!)
  if (flags & HAS_USERNAME) at = writeString(out, at, msg.originUsername!)
  if (flags & HAS_EXPIRY) at = out.writeDoubleBE(Date.now() + (msg.expiresAt! - now), at)
  at = out.writeUInt16BE(groups.length, at)
  for (let i = 0; i < groups.length; i++) at = writeString(out, at, groups[i]!)
  if (encoded === undefined) {
    msg.payload.copy(out, writeString(out, at, msg.topic))
    return out
  }
  encoded.bytes.copy(out, at)
  // the shared encoding leaves its packet id to each receiver; the parser wants one that is not 0
  if (encoded.packetIdOffset >= 0) out.writeUInt16BE(1, at + encoded.packetIdOffset)
  return out
}

/** One Redis message holding several encoded messages, in order. */
export function encodeNodeBatch(messages: readonly Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(batchSize(messages))
  writeBatch(out, 0, messages)
  return out
}

/** The bytes of a batch of `messages`: [BATCH, then each one's u32 length and bytes]. */
function batchSize(messages: readonly Buffer[]): number {
  let size = 1
  for (const m of messages) size += 4 + m.length
  return size
}

function writeBatch(out: Buffer, at: number, messages: readonly Buffer[]): void {
  out[at++] = BATCH
  for (const m of messages) {
    at = out.writeUInt32BE(m.length, at)
    at += m.copy(out, at)
  }
}

/**
 * Calls `visit` with where each message of a batch lies in `bytes` (bytes[start .. end), no view made
 * of it), in order, or with the whole of `bytes` for a single message. Throws where a length runs past
 * the end (the messages before it were visited).
 */
export function forEachNodeMessage(bytes: Buffer, visit: (bytes: Buffer, start: number, end: number) => void): void {
  if (bytes[0] !== BATCH) return visit(bytes, 0, bytes.length)
  let at = 1
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new RangeError('a cluster batch ends inside a length')
    const end = at + 4 + bytes.readUInt32BE(at)
    if (end > bytes.length) throw new RangeError('a cluster batch ends inside a message')
    visit(bytes, at + 4, end)
    at = end
  }
}

/** Numbered bytes from one node to another (see the top of this file). */
export interface Sequenced {
  sender: string
  epoch: string
  seq: number
  /** The lowest number the sender still keeps for this receiver (what it gave up on is below). */
  low: number
  /** A batch or a single message (forEachNodeMessage). */
  payload: Buffer
}

/**
 * Numbers encoded messages for their receiver, as one frame: one message alone, any other number as a
 * batch, written where they go (each message's bytes are copied once). Its lowest number kept is `seq`
 * until setSequencedLow.
 */
export function encodeSequenced(sender: string, epoch: string, seq: number, messages: readonly Buffer[]): Buffer {
  const single = messages.length === 1 ? messages[0]! : undefined
  const out = Buffer.allocUnsafe(1 + 2 + Buffer.byteLength(sender) + 2 + Buffer.byteLength(epoch) + 12 + (single?.length ?? batchSize(messages)))
  out[0] = SEQUENCED
  let at = writeString(out, 1, sender)
  at = writeString(out, at, epoch)
  at = out.writeUIntBE(seq, at, 6)
  at = out.writeUIntBE(seq, at, 6)
  if (single !== undefined) single.copy(out, at)
  else writeBatch(out, at, messages)
  return out
}

/** Writes, in place, the lowest number kept into what encodeSequenced made (before each time it is sent). */
export function setSequencedLow(bytes: Buffer, low: number): void {
  const senderEnd = 3 + bytes.readUInt16BE(1)
  const epochEnd = senderEnd + 2 + bytes.readUInt16BE(senderEnd)
  bytes.writeUIntBE(low, epochEnd + 6, 6)
}

/** A node's confirmation of what it received from the node it is sent to. */
export interface Confirm {
  /** The node that confirms. */
  from: string
  /** The epoch of the node it confirms to (an earlier epoch's confirmation is not for this one). */
  epoch: string
  /** Every number up to this one is routed (and as durable as a PUBACK of a single node makes it). */
  upTo: number
  /** A number was missing: send everything not confirmed again. */
  resend: boolean
}

export function encodeConfirm(c: Confirm): Buffer {
  const out = Buffer.allocUnsafe(1 + 2 + Buffer.byteLength(c.from) + 2 + Buffer.byteLength(c.epoch) + 6 + 1)
  out[0] = CONFIRM
  let at = writeString(out, 1, c.from)
  at = writeString(out, at, c.epoch)
  at = out.writeUIntBE(c.upTo, at, 6)
  out[at] = c.resend ? RESEND : 0
  return out
}

/**
 * What arrived on a node's channel: numbered messages, a confirmation, or (from a node that numbers
 * nothing: never sent by this version, read for its tests) plain messages. Throws on bytes it cannot read.
 */
export function decodeNodeFrame(bytes: Buffer): {kind: 'sequenced'; frame: Sequenced} | {kind: 'confirm'; frame: Confirm} | {kind: 'messages'; frame: Buffer} {
  if (bytes[0] !== SEQUENCED && bytes[0] !== CONFIRM) return {kind: 'messages', frame: bytes}
  const r = {at: 1, end: bytes.length}
  const sender = readString(bytes, r)
  const epoch = readString(bytes, r)
  if (r.at + 6 > bytes.length) throw new RangeError('a cluster frame ends inside its number')
  const seq = bytes.readUIntBE(r.at, 6)
  if (bytes[0] === SEQUENCED) {
    if (r.at + 12 > bytes.length) throw new RangeError('a cluster frame ends inside its lowest number')
    return {kind: 'sequenced', frame: {sender, epoch, seq, low: bytes.readUIntBE(r.at + 6, 6), payload: bytes.subarray(r.at + 12)}}
  }
  if (r.at + 7 > bytes.length) throw new RangeError('a cluster confirmation ends inside its flags')
  return {kind: 'confirm', frame: {from: sender, epoch, upTo: seq, resend: (bytes[r.at + 6]! & RESEND) !== 0}}
}

/** Parses the PUBLISH frames of other nodes (stateless for PUBLISH: one for all). */
const frames = new PacketDecoder({maxPacketSize: MAX_FRAME, protocolVersion: 5})
const NO_GROUPS: readonly string[] = []

/**
 * Decodes what encodeNodeMessage made, bytes[start .. end) (the whole of `bytes` unless given); `now` is
 * the receiving broker's clock. Throws on bytes it cannot read. The payload is a copy (it pins no batch).
 */
export function decodeNodeMessage(bytes: Buffer, now: number, start = 0, end = bytes.length): NodeMessage {
  const version = bytes[start]
  if (version !== VERSION && version !== FRAMED_VERSION) throw new Error(`unknown cluster message version ${version}`)
  if (end - start < 2 || end > bytes.length) throw new RangeError('a cluster message ends inside its header')
  const flags = bytes[start + 1]!
  const r = {at: start + 2, end}
  const sender = senders.read(bytes, r)
  const origin = flags & HAS_ORIGIN ? readString(bytes, r) : undefined
  const originUsername = flags & HAS_USERNAME ? readString(bytes, r) : flags & NULL_USERNAME ? null : undefined
  let expiresAt: number | undefined
  if (flags & HAS_EXPIRY) {
    if (r.at + 8 > end) throw new RangeError('a cluster message ends inside its expiry')
    expiresAt = now + (bytes.readDoubleBE(r.at) - Date.now())
    r.at += 8
  }
  if (r.at + 2 > end) throw new RangeError('a cluster message ends inside its groups')
  const count = bytes.readUInt16BE(r.at)
  r.at += 2
  let groups = NO_GROUPS
  if (count > 0) {
    const list: string[] = []
    for (let i = 0; i < count; i++) list.push(readString(bytes, r))
    groups = list
  }
  if (version === VERSION && (flags & HAS_FRAME) === 0) {
    const qos = flags >> QOS_SHIFT
    if (qos > 2) throw new RangeError('a cluster message with QoS 3')
    const topic = readString(bytes, r)
    const payload = Buffer.allocUnsafe(end - r.at)
    bytes.copy(payload, 0, r.at, end)
    // encoded and ack are set as it is routed: made with the object, which then grows no property storage
    const message: Message = {topic, payload, qos: qos as QoS, retain: (flags & RETAIN) !== 0, properties: undefined, expiresAt, origin, originUsername,
      encoded: undefined, ack: undefined}
    return {sender, message, groups}
  }
  const packet = frames.decodeFrame(bytes.subarray(r.at, end)) as PublishPacket
  if (packet.cmd !== 'publish') throw new Error(`a cluster message holds a ${packet.cmd as string} packet`)
  const message: Message = {topic: packet.topic, payload: packet.payload as Buffer, qos: packet.qos as QoS, retain: packet.retain,
    properties: packet.properties, expiresAt, origin, originUsername}
  return {sender, message, groups}
}
