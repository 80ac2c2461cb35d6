import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {encodePacket, encodePublish, PacketDecoder, type Packet, type ProtocolVersion, type QoS} from '../../src/codec/index.js'
import {PROTOCOL_MAX_PACKET_SIZE} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'

for (const v of VERSIONS) {
  describe(`codec edges ${versionName(v)}`, () => {
    test('remaining lengths at every varint boundary, both directions', async (t) => {
      const broker = startBroker(t, {maxPacketSize: PROTOCOL_MAX_PACKET_SIZE})
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 1)
      const overhead = v === 5 ? 6 : 5 // topic (3) + packet id (2) + property length (v5)
      for (const remaining of [127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
        const payload = Buffer.alloc(remaining - overhead, remaining % 251)
        w.publish('t', payload, 1, {messageId: 9})
        const got = await w.take(2)
        const p = got.find((x) => x.cmd === 'publish') as Extract<Packet, {cmd: 'publish'}>
        assert.equal(p.payload.length, payload.length, `remaining length ${remaining}`)
        assert.ok((p.payload as Buffer).equals(payload))
        await w.ack(p)
      }
    })

    test('a payload that outlives its socket chunk is a copy', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      const bytes = encodePacket({cmd: 'publish', topic: 'r', payload: Buffer.from('original'), qos: 0, retain: true, dup: false}, v)
      w.sendRaw(bytes)
      await w.quiet()
      bytes.fill(0x7a) // the chunk the broker read from is reused
      await w.subscribe('r', 0)
      assert.equal((await w.expect('publish')).payload.toString(), 'original')
    })

    test('every split of two packets across two chunks parses', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 0)
      const two = Buffer.concat([
        encodePacket({cmd: 'publish', topic: 't', payload: Buffer.alloc(200, 1), qos: 0, retain: false, dup: false}, v),
        encodePacket({cmd: 'publish', topic: 't', payload: Buffer.from('b'), qos: 0, retain: false, dup: false}, v),
      ])
      for (let cut = 1; cut < two.length; cut++) {
        w.sendRaw(two.subarray(0, cut))
        w.sendRaw(two.subarray(cut))
        assert.equal((await w.expect('publish')).payload.length, 200)
        assert.equal((await w.expect('publish')).payload.toString(), 'b')
      }
    })
  })
}

describe('codec edges across versions', () => {
  test('each client gets packets encoded for its own version (v5 properties never reach a v3 client)', async (t) => {
    const broker = startBroker(t)
    const v3 = new Wire(broker, 4)
    await v3.connect({clientId: 'v3'})
    await v3.subscribe('t', 1)
    const v31 = new Wire(broker, 3)
    await v31.connect({clientId: 'v31'})
    await v31.subscribe('t', 1)
    const v5 = new Wire(broker, 5)
    await v5.connect({clientId: 'v5'})
    await v5.subscribe('t', 1)
    v5.publish('t', 'payload', 1, {messageId: 1, properties: {userProperties: {a: 'b'}, contentType: 'text/plain', correlationData: Buffer.from('c')}})
    const mine = (await v5.take(2)).find((p) => p.cmd === 'publish') as Extract<Packet, {cmd: 'publish'}>
    assert.equal(mine.properties?.contentType, 'text/plain')
    for (const w of [v3, v31]) {
      const p = await w.expect('publish')
      assert.equal(p.payload.toString(), 'payload')
      assert.equal(p.properties, undefined)
    }
    v3.publish('t', 'from v3', 1, {messageId: 2})
    const got = await v5.expect('publish')
    assert.equal(got.payload.toString(), 'from v3')
  })

  test('the fast PUBLISH encoder writes exactly what mqtt-packet writes', () => {
    const topics = ['t', 'a/b/c', 'ünïcødé/🐝', 'x'.repeat(300)]
    for (const version of [3, 4, 5] as ProtocolVersion[]) {
      for (const qos of [0, 1, 2] as QoS[]) {
        for (const retain of [false, true]) {
          for (const topic of topics) {
            for (const payload of [Buffer.alloc(0), Buffer.from('hi'), Buffer.alloc(20_000, 3)]) {
              const enc = encodePublish({topic, payload, qos, retain}, version)
              if (qos > 0) enc.bytes.writeUInt16BE(1234, enc.packetIdOffset)
              const ref = encodePacket({cmd: 'publish', topic, payload, qos, retain, dup: false, ...(qos > 0 ? {messageId: 1234} : {})}, version)
              assert.ok(enc.bytes.equals(ref), `v${version} qos${qos} retain=${retain} ${topic.slice(0, 10)} ${payload.length}`)
            }
          }
        }
      }
    }
  })

  test('the decoder accepts what the encoder writes, for every packet a broker sends', () => {
    const packets: Packet[] = [
      {cmd: 'connack', sessionPresent: true, reasonCode: 0, properties: {assignedClientIdentifier: 'x', topicAliasMaximum: 10}},
      {cmd: 'suback', messageId: 1, granted: [0, 1, 2, 0x80]},
      {cmd: 'unsuback', messageId: 1, granted: [0, 0x11]},
      {cmd: 'puback', messageId: 2, reasonCode: 0x10},
      {cmd: 'pubrec', messageId: 3},
      {cmd: 'pubrel', messageId: 4, reasonCode: 0x92},
      {cmd: 'pubcomp', messageId: 5},
      {cmd: 'pingresp'},
      {cmd: 'disconnect', reasonCode: 0x8b, properties: {reasonString: 'bye'}},
      {cmd: 'auth', reasonCode: 0x18, properties: {authenticationMethod: 'm', authenticationData: Buffer.from('d')}},
    ]
    const dec = new PacketDecoder({maxPacketSize: 1 << 20, protocolVersion: 5})
    for (const p of packets) {
      const out: Packet[] = []
      dec.push(encodePacket(p, 5), (x) => out.push(x))
      assert.equal(out.length, 1)
      assert.equal(out[0].cmd, p.cmd)
    }
  })
})
