// The codec's FrameScanner (frames in place, bounded) and in-place readers/writers, which the broker's
// decoder and the bench's connections both use.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import fc from 'fast-check'
import mqtt from 'mqtt-packet'
import {
  AckByte, ackPacketId, ackReasonCode, encodePacket, encodePublish, FrameScanner, MalformedPacketError,
  PacketTooLargeError, PublishView, writeShortAck, type Packet, type ProtocolVersion,
} from '../../src/codec/index.js'
import {packet as packetArb} from '../helpers/packet-arbitraries.js'

interface Seen {frame: Buffer; body: number; inPlace: boolean}

/** Pushes the chunks, collecting each frame (copied), its body offset, and whether it was a view of its chunk. */
function scan(scanner: FrameScanner, chunks: Buffer[]): Seen[] {
  const seen: Seen[] = []
  for (const chunk of chunks) {
    scanner.push(chunk, (buf, start, body, end) => {
      assert.ok(start <= body && body <= end && end <= buf.length)
      seen.push({frame: Buffer.from(buf.subarray(start, end)), body: body - start, inPlace: buf === chunk})
    })
  }
  return seen
}

/** Splits bytes at the given cut points. */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let from = 0
  for (const p of [...at, bytes.length]) {
    if (p > from) chunks.push(Buffer.from(bytes.subarray(from, p))) // a chunk of its own, as a socket gives
    from = p
  }
  return chunks
}

function headerLength(frame: Buffer): number {
  let i = 1
  while ((frame[i] as number) & 0x80) i++
  return i + 1
}

test('any stream of frames, cut anywhere, comes out as the same frames with their body offsets', () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000)
  console.log(`# seed ${seed} (SEED=${seed} replays it)`)
  fc.assert(fc.property(
    fc.array(packetArb(4), {minLength: 1, maxLength: 12}),
    fc.array(fc.nat(), {maxLength: 10}),
    (packets: Packet[], points: number[]) => {
      const frames = packets.map((p) => mqtt.generate(p, {protocolVersion: 4}))
      const stream = Buffer.concat(frames)
      const scanner = new FrameScanner(Number.MAX_SAFE_INTEGER)
      const seen = scan(scanner, cut(stream, points))
      assert.deepEqual(seen.map((s) => s.frame), frames)
      assert.deepEqual(seen.map((s) => s.body), frames.map(headerLength))
      assert.equal(scanner.heldBytes, 0)
      assert.equal(scanner.retainedBytes, 0)
    },
  ), {seed, numRuns: 300})
})

test('frames within one chunk are handed on in place; only a frame that spans chunks is assembled', () => {
  const a = encodePacket({cmd: 'puback', messageId: 1}, 4)
  const b = encodePacket({cmd: 'puback', messageId: 2}, 4)
  const c = encodePacket({cmd: 'puback', messageId: 3}, 4)
  const scanner = new FrameScanner(100)
  // a and the first half of b in one chunk; the rest of b, and c, in the next
  const seen = scan(scanner, [Buffer.concat([a, b.subarray(0, 2)]), Buffer.concat([b.subarray(2), c])])
  assert.deepEqual(seen.map((s) => [s.frame, s.inPlace]), [[a, true], [b, false], [c, true]])
})

test('only the incomplete tail is held, however the header is split', () => {
  const big = encodePublish({topic: 't', payload: Buffer.alloc(300, 1), qos: 0, retain: false}, 4).bytes // 2-byte Remaining Length
  const scanner = new FrameScanner(1000)
  const seen: number[] = []
  const sink = (_buf: Buffer, start: number, body: number, end: number) => { seen.push(end - start, body - start) }
  scanner.push(big.subarray(0, 1), sink) // the first byte only
  assert.equal(scanner.heldBytes, 1)
  scanner.push(big.subarray(1, 2), sink) // the first length byte: the header is still incomplete
  assert.equal(scanner.heldBytes, 2)
  scanner.push(big.subarray(2, 100), sink)
  assert.equal(scanner.heldBytes, 100)
  scanner.push(Buffer.concat([big.subarray(100), Buffer.from([0xd0])]), sink)
  assert.deepEqual(seen, [big.length, 3])
  assert.equal(scanner.heldBytes, 1) // the start of the next frame
  scanner.push(Buffer.from([0x00]), sink)
  assert.deepEqual(seen, [big.length, 3, 2, 2])
  assert.equal(scanner.heldBytes, 0)
})

test('a frame over the maximum size is refused from its fixed header, before its body arrives', () => {
  const frame = encodePublish({topic: 't', payload: Buffer.alloc(200), qos: 0, retain: false}, 4).bytes
  const scanner = new FrameScanner(100)
  assert.throws(() => scanner.push(frame.subarray(0, 3), () => assert.fail('no frame')), (e: unknown) =>
    e instanceof PacketTooLargeError && e.message === `packet of ${frame.length} bytes exceeds the maximum of 100`)
  // the same when the header itself arrives in two chunks
  const split = new FrameScanner(100)
  split.push(frame.subarray(0, 2), () => assert.fail('no frame'))
  assert.throws(() => split.push(frame.subarray(2, 3), () => undefined), PacketTooLargeError)
  // a frame of exactly the maximum passes
  const exact = new FrameScanner(frame.length)
  assert.equal(scan(exact, [frame]).length, 1)
})

test('a malformed Remaining Length is refused', () => {
  assert.throws(() => new FrameScanner(1e9).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => undefined),
    (e: unknown) => e instanceof MalformedPacketError && /longer than 4 bytes/.test(e.message))
  assert.throws(() => new FrameScanner(1e9).push(Buffer.from([0x30, 0x80, 0x00]), () => undefined),
    (e: unknown) => e instanceof MalformedPacketError && /shortest form/.test(e.message))
})

test('a sink that returns false stops the scan: the rest of the chunk is not read', () => {
  const two = Buffer.concat([encodePacket({cmd: 'pingresp'}, 4), encodePacket({cmd: 'pingresp'}, 4)])
  let frames = 0
  new FrameScanner(10).push(two, () => { frames++; return false })
  assert.equal(frames, 1)
})

test('PublishView finds the packet id and payload of any PUBLISH, v3.1.1 and v5, in place', () => {
  for (const version of [4, 5] as ProtocolVersion[]) {
    fc.assert(fc.property(
      fc.string({minLength: 1, maxLength: 20}).filter((t) => !/[+#\u0000]/.test(t)),
      fc.uint8Array({maxLength: 300}),
      fc.constantFrom(0, 1, 2),
      fc.integer({min: 1, max: 65_535}),
      fc.option(fc.record({contentType: fc.string({maxLength: 200}), messageExpiryInterval: fc.nat()}), {nil: undefined}),
      (topic, bytes, qos, id, properties) => {
        const payload = Buffer.from(bytes)
        const frame = mqtt.generate({cmd: 'publish', topic, payload, qos: qos as 0 | 1 | 2, retain: false, dup: false,
          messageId: qos > 0 ? id : undefined, properties: version === 5 ? properties : undefined}, {protocolVersion: version})
        const view = new PublishView().read(frame, 0, headerLength(frame), frame.length, version)
        assert.equal(view.qos, qos)
        assert.equal(view.packetId, qos > 0 ? id : 0)
        assert.deepEqual(frame.subarray(view.payloadStart), payload)
      },
    ), {seed: 15, numRuns: 200})
  }
})

test('PublishView refuses fields that run past the frame', () => {
  const view = new PublishView()
  // topic length 10 in a 5-byte body
  const longTopic = Buffer.from([0x30, 5, 0, 10, 0x61, 0x62, 0x63])
  assert.throws(() => view.read(longTopic, 0, 2, longTopic.length, 4), MalformedPacketError)
  // QoS 1 without room for its packet id
  const noId = Buffer.from([0x32, 3, 0, 1, 0x74])
  assert.throws(() => view.read(noId, 0, 2, noId.length, 4), MalformedPacketError)
  // v5 property length past the end
  const props = Buffer.from([0x30, 4, 0, 1, 0x74, 9])
  assert.throws(() => view.read(props, 0, 2, props.length, 5), MalformedPacketError)
  // QoS 3
  const qos3 = Buffer.from([0x36, 3, 0, 1, 0x74])
  assert.throws(() => view.read(qos3, 0, 2, qos3.length, 4), MalformedPacketError)
})

test('writeShortAck writes what mqtt-packet writes; the ack readers read what it writes', () => {
  const buf = Buffer.alloc(16)
  let o = writeShortAck(buf, 0, AckByte.puback, 0x1234)
  o = writeShortAck(buf, o, AckByte.pubrec, 1)
  o = writeShortAck(buf, o, AckByte.pubrel, 65_535)
  o = writeShortAck(buf, o, AckByte.pubcomp, 256)
  assert.equal(o, 16)
  assert.deepEqual(buf, Buffer.concat([
    mqtt.generate({cmd: 'puback', messageId: 0x1234}), mqtt.generate({cmd: 'pubrec', messageId: 1}),
    mqtt.generate({cmd: 'pubrel', messageId: 65_535}), mqtt.generate({cmd: 'pubcomp', messageId: 256}),
  ]))
  const refused = mqtt.generate({cmd: 'puback', messageId: 9, reasonCode: 0x87}, {protocolVersion: 5})
  const body = headerLength(refused)
  assert.equal(ackPacketId(refused, body, refused.length), 9)
  assert.equal(ackReasonCode(refused, body, refused.length), 0x87)
  assert.equal(ackReasonCode(buf, 2, 4), 0)
  assert.throws(() => ackPacketId(Buffer.from([0x40, 1, 0]), 2, 3), MalformedPacketError)
})
