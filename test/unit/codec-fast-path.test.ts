// Differential test: the hand-written PUBLISH/ack parsers (src/codec/fast-path.ts) must agree with
// mqtt-packet (plus our checks) on random valid frames and on random corruptions of them.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import mqtt from 'mqtt-packet'
import {PacketDecoder, type Packet, type ProtocolVersion} from '../../src/codec/index.js'

function rng(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    return seed / 0x7fffffff
  }
}

const TOPIC_PARTS = ['a', 'sensors', '+', '#', '', 'ünï', '🐝', '$SYS', 'x'.repeat(40), 'tab\there']

function randomPacket(r: () => number, version: ProtocolVersion): mqtt.Packet {
  if (r() < 0.25) {
    const cmd = (['puback', 'pubrec', 'pubrel', 'pubcomp'] as const)[Math.floor(r() * 4)]
    return {cmd, messageId: 1 + Math.floor(r() * 65_535)} as mqtt.Packet
  }
  const qos = Math.floor(r() * 3) as 0 | 1 | 2
  const levels = 1 + Math.floor(r() * 4)
  const topic = Array.from({length: levels}, () => TOPIC_PARTS[Math.floor(r() * TOPIC_PARTS.length)]).join('/') || 'e'
  const payload = Buffer.alloc(Math.floor(r() * (r() < 0.1 ? 3000 : 40)), Math.floor(r() * 256))
  const packet: mqtt.IPublishPacket = {cmd: 'publish', topic, payload, qos, retain: r() < 0.5, dup: qos > 0 && r() < 0.3}
  if (qos > 0) packet.messageId = 1 + Math.floor(r() * 65_535)
  if (version === 5 && r() < 0.2) packet.properties = {contentType: 'text/plain', messageExpiryInterval: 10}
  return packet
}

function headerLength(frame: Buffer): number {
  let i = 1
  while (frame[i] & 0x80) i++
  return i + 1
}

function outcome(decoder: PacketDecoder, frame: Buffer): {packet?: Record<string, unknown>; error?: string} {
  try {
    const p = decoder.decodeFrame(frame) as Packet & Record<string, unknown>
    const fields = p.cmd === 'publish' ? ['cmd', 'retain', 'qos', 'dup', 'topic', 'payload', 'messageId', 'properties'] : ['cmd', 'messageId', 'reasonCode']
    return {packet: Object.fromEntries(fields.filter((f) => p[f] !== undefined).map((f) => [f, p[f]]))}
  } catch (error) {
    return {error: (error as Error).constructor.name}
  }
}

/** outcome() through push(), where the decoder reads a short acknowledgement in place in the chunk. */
function pushOutcome(decoder: PacketDecoder, frame: Buffer): {packet?: Record<string, unknown>; error?: string} {
  const at = 3 // inside a larger chunk, as frames are
  const chunk = Buffer.concat([Buffer.alloc(at, 0xee), frame]).subarray(at)
  let packet: (Packet & Record<string, unknown>) | undefined
  try {
    decoder.push(chunk, (p) => { packet = p as Packet & Record<string, unknown> })
  } catch (error) {
    return {error: (error as Error).constructor.name}
  }
  assert.ok(packet, 'a whole frame decodes to a packet')
  const fields = packet.cmd === 'publish' ? ['cmd', 'retain', 'qos', 'dup', 'topic', 'payload', 'messageId', 'properties'] : ['cmd', 'messageId', 'reasonCode']
  return {packet: Object.fromEntries(fields.filter((f) => packet![f] !== undefined).map((f) => [f, packet![f]]))}
}

for (const version of [4, 5] as const) {
  test(`fast path agrees with mqtt-packet on random valid and corrupted frames (v${version === 5 ? 5 : '3.1.1'})`, () => {
    const r = rng(version * 7919)
    const fast = new PacketDecoder({maxPacketSize: 1 << 20, protocolVersion: version})
    const slow = new PacketDecoder({maxPacketSize: 1 << 20, protocolVersion: version, fastPath: false})
    let valid = 0
    let rejected = 0
    for (let i = 0; i < 20_000; i++) {
      const frame = mqtt.generate(randomPacket(r, version), {protocolVersion: version})
      if (i % 2 === 1) {
        // corrupt a flag bit or a body byte (not the remaining length, so the frame stays whole)
        const body = headerLength(frame)
        const at = r() < 0.3 ? 0 : body + Math.floor(r() * (frame.length - body))
        if (at < frame.length) frame[at] = at === 0 ? frame[0] ^ (1 << Math.floor(r() * 4)) : Math.floor(r() * 256)
      }
      const a = outcome(fast, frame)
      const b = outcome(slow, frame)
      assert.deepEqual(a, b, `frame ${frame.toString('hex')}`)
      assert.deepEqual(pushOutcome(new PacketDecoder({maxPacketSize: 1 << 20, protocolVersion: version}), frame), b, `pushed: ${frame.toString('hex')}`)
      if (a.error) rejected++
      else valid++
    }
    // the corpus really exercises both sides
    assert.ok(valid > 10_000, `valid ${valid}`)
    assert.ok(rejected > 500, `rejected ${rejected}`)
  })
}

test('hand-written acknowledgements, v3 CONNACK and pings: as mqtt-packet encodes them (v5: the short form for Success, [MQTT-3.4.2-1])', async () => {
  const {encodePacket} = await import('../../src/codec/index.js')
  for (const version of [3, 4, 5] as const) {
    for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const) {
      for (const messageId of [1, 255, 256, 4660, 65_535]) {
        const packet = {cmd, messageId} as mqtt.Packet
        const ours = encodePacket(packet as Packet, version)
        if (version !== 5) {
          assert.deepEqual(ours, mqtt.generate(packet, {protocolVersion: version}), `${cmd} ${messageId} v${version}`)
          continue
        }
        // v5 may omit a Success reason code and empty properties; mqtt-packet reads it back the same
        assert.equal(ours.length, 4)
        const parser = mqtt.parser({protocolVersion: 5})
        let parsed: mqtt.Packet | undefined
        parser.on('packet', (p) => { parsed = p })
        parser.parse(ours)
        assert.equal(parsed?.cmd, cmd)
        assert.equal((parsed as {messageId?: number}).messageId, messageId)
        assert.equal((parsed as {reasonCode?: number}).reasonCode, 0)
      }
    }
    if (version !== 5) {
      for (const [sessionPresent, returnCode] of [[false, 0], [true, 0], [false, 5], [false, 1]] as const) {
        const connack = {cmd: 'connack', sessionPresent, returnCode} as mqtt.Packet
        assert.deepEqual(encodePacket(connack as Packet, version), mqtt.generate(connack, {protocolVersion: version}), `connack ${returnCode} v${version}`)
      }
    }
    for (const cmd of ['pingreq', 'pingresp'] as const) {
      assert.deepEqual(encodePacket({cmd} as Packet, version), mqtt.generate({cmd} as mqtt.Packet, {protocolVersion: version}))
    }
  }
})

function randomConnect(r: () => number): {packet: mqtt.IConnectPacket; version: 3 | 4} {
  const version = r() < 0.3 ? 3 : 4
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]
  const clean = r() < 0.5
  // (mqtt-packet writes an empty client id only with clean session on 3.1.1)
  const ids = ['c', 'client-1', 'ünï', '🐝'.repeat(3), 'x'.repeat(70), ...(clean && version === 4 ? [''] : [])]
  const packet: mqtt.IConnectPacket = {
    cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version,
    clean, keepalive: Math.floor(r() * 65_536), clientId: pick(ids),
  }
  if (r() < 0.4) packet.will = {topic: pick(['w', 'a/b', 'ünï/🐝']), payload: Buffer.alloc(Math.floor(r() * 30), 7), qos: Math.floor(r() * 3) as 0 | 1 | 2, retain: r() < 0.5}
  if (r() < 0.5) packet.username = pick(['u', '', 'üser'])
  // (mqtt-packet writes no password without a user name; corrupted flags make such frames)
  if (packet.username !== undefined && r() < 0.6) packet.password = Buffer.from(pick(['p', '', 'secret!']))
  return {packet, version}
}

function connectOutcome(decoder: PacketDecoder, frame: Buffer): {packet?: Record<string, unknown>; error?: string} {
  try {
    const p = decoder.decodeFrame(frame) as Packet & Record<string, unknown>
    const fields = ['cmd', 'protocolId', 'protocolVersion', 'clean', 'keepalive', 'clientId', 'will', 'username', 'password', 'length']
    return {packet: Object.fromEntries(fields.filter((f) => p[f] !== undefined).map((f) => [f, p[f]]))}
  } catch (error) {
    return {error: (error as Error).constructor.name}
  }
}

test('fast CONNECT (MQTT 3.1 and 3.1.1) agrees with mqtt-packet on random valid and corrupted frames', () => {
  const r = rng(4242)
  let valid = 0
  let rejected = 0
  for (let i = 0; i < 20_000; i++) {
    const {packet, version} = randomConnect(r)
    const frame = mqtt.generate(packet, {protocolVersion: version})
    if (i % 2 === 1) {
      // corrupt the header flags or any byte after the protocol level (the level itself is checked before either parser)
      const body = headerLength(frame)
      const levelAt = body + 2 + (version === 3 ? 6 : 4)
      const at = r() < 0.15 ? 0 : levelAt + 1 + Math.floor(r() * (frame.length - levelAt - 1))
      if (at < frame.length) frame[at] = at === 0 ? frame[0] ^ (1 << Math.floor(r() * 4)) : Math.floor(r() * 256)
    }
    // a decoder per frame, as a broker connection has
    const a = connectOutcome(new PacketDecoder({maxPacketSize: 1 << 20}), frame)
    const b = connectOutcome(new PacketDecoder({maxPacketSize: 1 << 20, fastPath: false}), frame)
    assert.deepEqual(a, b, `frame ${frame.toString('hex')}`)
    if (a.error) rejected++
    else valid++
  }
  assert.ok(valid > 10_000, `valid ${valid}`)
  assert.ok(rejected > 1_000, `rejected ${rejected}`)
})
