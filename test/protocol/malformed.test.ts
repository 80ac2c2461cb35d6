import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {encodePacket, ReasonCode, type ProtocolVersion} from '../../src/codec/index.js'
import {frame, hex, rawConnect, startBroker, str, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

async function rejected(w: Wire, v: ProtocolVersion, v5Code: number): Promise<void> {
  if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, v5Code)
  await w.closed()
  assert.equal(w.buffered.length, 0)
}

const props = (v: ProtocolVersion) => (v === 5 ? hex('00') : hex(''))

for (const v of VERSIONS) {
  describe(`malformed and illegal packets ${versionName(v)}`, () => {
    test(`maximum packet size: an oversized packet is refused from its fixed header, before its body${v === 5 ? ' (DISCONNECT 0x95)' : ''}`, async (t) => {
      const broker = startBroker(t, {maxPacketSize: 1000})
      const w = new Wire(broker, v)
      await w.connect()
      // a PUBLISH declaring 268435455 bytes: only its first bytes are ever sent
      w.sendRaw('30 ff ff ff 7f 00 01 61')
      await rejected(w, v, ReasonCode.PacketTooLarge)
    })

    test('maximum packet size: a packet of exactly the maximum passes, one byte more does not', async (t) => {
      const broker = startBroker(t, {maxPacketSize: 100})
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 0)
      const overhead = encodePacket({cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false}, v).length
      w.publish('t', Buffer.alloc(100 - overhead))
      assert.equal((await w.expect('publish')).payload.length, 100 - overhead)
      w.publish('t', Buffer.alloc(101 - overhead))
      await rejected(w, v, ReasonCode.PacketTooLarge)
    })

    test('maximum packet size applies to CONNECT too', async (t) => {
      const broker = startBroker(t, {maxPacketSize: 50})
      const w = new Wire(broker, v)
      w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: 'x'.repeat(60), clean: true, keepalive: 0})
      await w.closed()
      assert.equal(w.buffered.filter((p) => p.cmd === 'connack' && (p.reasonCode ?? p.returnCode) === 0).length, 0)
      assert.equal(engineOf(broker).sessions.size, 0)
    })

    test('[MQTT-2.2.2-2] a reserved packet type (0) is malformed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw('00 00')
      await rejected(w, v, ReasonCode.MalformedPacket)
    })

    test('[MQTT-1.5.5-1] a remaining length of more than four bytes is malformed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw('30 80 80 80 80 01')
      await rejected(w, v, ReasonCode.MalformedPacket)
    })

    test('a PINGREQ with a body is malformed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw('c0 02 00 00')
      await rejected(w, v, ReasonCode.MalformedPacket)
    })

    test('a PUBLISH cut short inside its topic is malformed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x30, hex('00 10 61')))
      await rejected(w, v, ReasonCode.MalformedPacket)
    })

    test('PUBLISH QoS 1 without a packet id is malformed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x32, Buffer.concat([str('t')])))
      await rejected(w, v, ReasonCode.MalformedPacket)
    })

    test('[MQTT-2.3.1-1] packet identifier 0 is a protocol error', async (t) => {
      const broker = startBroker(t)
      for (const bytes of [frame(0x32, Buffer.concat([str('t'), hex('0000'), props(v), Buffer.from('x')])),
        frame(0x82, Buffer.concat([hex('0000'), props(v), str('t'), hex('00')])),
        frame(0xa2, Buffer.concat([hex('0000'), props(v), str('t')])),
        frame(0x40, hex('0000')), frame(0x62, hex('0000'))]) {
        const w = new Wire(broker, v)
        await w.connect()
        w.sendRaw(bytes)
        await rejected(w, v, ReasonCode.ProtocolError)
      }
    })

    test(`${v === 5 ? '' : '[MQTT-3.14.1-1] '}a DISCONNECT with reserved header bits set is malformed`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw('e1 00')
      await rejected(w, v, ReasonCode.MalformedPacket)
    })

    for (const [name, bytes] of [['CONNACK', '20 02 00 00'], ['SUBACK', '90 03 00 01 00'], ['UNSUBACK', 'b0 02 00 01'], ['PINGRESP', 'd0 00']] as const) {
      test(`a ${name} from a client is a protocol error`, async (t) => {
        const broker = startBroker(t)
        const w = new Wire(broker, v)
        await w.connect()
        w.sendRaw(v === 5 && name === 'SUBACK' ? '90 04 00 01 00 00' : v === 5 && name === 'UNSUBACK' ? 'b0 04 00 01 00 00' : v === 5 && name === 'CONNACK' ? '20 03 00 00 00' : bytes)
        await rejected(w, v, ReasonCode.ProtocolError)
      })
    }

    test('CONNECT, SUBSCRIBE, PUBLISH and DISCONNECT pipelined in one chunk are handled in order', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      const chunk = Buffer.concat([
        encodePacket({cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: 'c1', clean: true, keepalive: 0, will: {topic: 'w', payload: Buffer.from('will'), qos: 0, retain: true}}, v),
        encodePacket({cmd: 'subscribe', messageId: 1, subscriptions: [{topic: 't', qos: 1}]}, v),
        encodePacket({cmd: 'publish', topic: 't', payload: Buffer.from('self'), qos: 1, messageId: 2, retain: false, dup: false}, v),
        encodePacket({cmd: 'disconnect'}, v),
      ])
      w.sendRaw(chunk)
      const got = await w.take(4)
      assert.equal(got[0].cmd, 'connack')
      assert.equal(got[1].cmd, 'suback')
      assert.deepEqual(got.slice(2).map((p) => p.cmd).sort(), ['puback', 'publish'])
      await w.closed()
      assert.equal(engineOf(broker).retained.size, 0, 'no will after DISCONNECT')
    })

    test('a packet split into single bytes is reassembled', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      const bytes = Buffer.concat([
        encodePacket({cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: 'c1', clean: true, keepalive: 0}, v),
        encodePacket({cmd: 'subscribe', messageId: 1, subscriptions: [{topic: 't', qos: 0}]}, v),
        encodePacket({cmd: 'publish', topic: 't', payload: Buffer.alloc(300, 1), qos: 0, retain: false, dup: false}, v),
      ])
      for (const b of bytes) w.sendRaw(Buffer.from([b]))
      await w.expect('connack')
      await w.expect('suback')
      assert.deepEqual((await w.expect('publish')).payload, Buffer.alloc(300, 1))
    })

    test('[MQTT-4.8.0-1] after a protocol error nothing more is processed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(Buffer.concat([hex('00 00'), encodePacket({cmd: 'publish', topic: 'r', payload: Buffer.from('x'), qos: 0, retain: true, dup: false}, v)]))
      await rejected(w, v, ReasonCode.MalformedPacket)
      assert.equal(engineOf(broker).retained.size, 0)
    })
  })
}

describe('malformed and illegal packets v3.1.1 only', () => {
  test('AUTH is not a v3 packet: malformed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    await w.connect()
    w.sendRaw('f0 00')
    await w.closed()
  })

  test('[MQTT-3.14.1-1] a DISCONNECT with a body is malformed: closed, and the will is published', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    await w.connect({will: {topic: 'w', payload: Buffer.from('x'), qos: 0, retain: true}})
    w.sendRaw('e0 01 00')
    await w.closed()
    assert.equal(engineOf(broker).retained.size, 1)
  })

  test('a PUBACK with a body longer than a packet id is malformed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    await w.connect()
    w.sendRaw('40 03 00 01 00')
    await w.closed()
  })
})

describe('malformed and illegal packets v5 only', () => {
  test('a short DISCONNECT (Remaining Length 0) followed by pipelined bytes: the DISCONNECT is honoured, the rest ignored', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect({will: {topic: 'w', payload: Buffer.from('x'), qos: 0, retain: true}})
    w.sendRaw(Buffer.concat([hex('e0 00'), encodePacket({cmd: 'publish', topic: 'r', payload: Buffer.from('x'), qos: 0, retain: true, dup: false}, 5)]))
    await w.closed()
    assert.equal(w.buffered.length, 0)
    assert.equal(engineOf(broker).retained.size, 0, 'neither the will nor the PUBLISH after DISCONNECT')
  })

  test('a short AUTH (Remaining Length 0) without an authentication method is a protocol error, not malformed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(Buffer.concat([hex('f0 00'), hex('c0 00')]))
    await rejected(w, 5, ReasonCode.ProtocolError)
  })

  test('[MQTT-2.2.2-?] a property given twice is a protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x30, hex('0001 61 04 0101 0100 78')))
    await rejected(w, 5, ReasonCode.ProtocolError)
  })

  test('a flag property other than 0 or 1 is a protocol error (Payload Format Indicator 2)', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x30, hex('0001 61 02 0102 78')))
    await rejected(w, 5, ReasonCode.ProtocolError)
  })

  test('Request Problem Information 2 in CONNECT is a protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    w.sendRaw(rawConnect({level: 5, properties: hex('02 1702'), payload: [str('c1')]}))
    assert.equal((await w.expect('connack')).reasonCode, ReasonCode.ProtocolError)
    await w.closed()
  })

  test('an unknown property is malformed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x30, hex('0001 61 02 7f00 78')))
    await rejected(w, 5, ReasonCode.MalformedPacket)
  })

  test('[MQTT-3.3.4-6] a PUBLISH from a client with a Subscription Identifier is a protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x30, hex('0001 61 02 0b01 78')))
    await rejected(w, 5, ReasonCode.ProtocolError)
  })

  test('a user property that is not UTF-8 is malformed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x30, hex('0001 61 07 26 0001 6b 0001 ff 78')))
    await rejected(w, 5, ReasonCode.MalformedPacket)
  })
})
