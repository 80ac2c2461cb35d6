import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {frame, hex, rawConnect, startBroker, str, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

// Issue #14: one malformed MQTT 5 packet must cost its sender the connection, never the broker or
// anybody else's messages. The packets are written by hand: no encoder produces them.

/** A v5 PUBLISH (QoS 1, packet id 1) with the given raw property bytes. */
function publishWith(topic: string, props: string, payload = 'hi', flags = 0x32): Buffer {
  const p = hex(props)
  return frame(flags, Buffer.concat([str(topic), hex('0001'), Buffer.from([p.length]), p, Buffer.from(payload)]))
}

async function refused(w: Wire, code: number): Promise<void> {
  const answer = await w.next()
  assert.ok(answer.cmd === 'disconnect' || answer.cmd === 'connack', `expected DISCONNECT or CONNACK, got ${answer.cmd}`)
  assert.equal(answer.reasonCode, code)
  await w.closed()
}

describe('hostile MQTT 5 properties (issue #14)', () => {
  test('the fuzzer\'s crash: a cut-off Response Information on a PUBLISH is malformed, and routing goes on', async (t) => {
    const broker = startBroker(t)
    const v3 = new Wire(broker, 4)
    await v3.connect({clientId: 'sub3'})
    await v3.subscribe('x/#', 1)
    const v5 = new Wire(broker, 5)
    await v5.connect({clientId: 'sub5'})
    await v5.subscribe('x/#', 1)

    const bad = new Wire(broker, 5)
    await bad.connect({clientId: 'bad'})
    bad.sendRaw(publishWith('x/a', '1a03'))
    await refused(bad, ReasonCode.MalformedPacket)
    await v3.quiet()
    await v5.quiet()

    // ordinary messages still reach both subscribers
    const good = new Wire(broker, 5)
    await good.connect({clientId: 'good'})
    good.publish('x/b', 'ok', 1)
    assert.equal((await good.expect('puback')).reasonCode, 0)
    for (const w of [v3, v5]) {
      const p = await w.expect('publish')
      assert.equal(p.payload.toString(), 'ok')
      await w.ack(p)
    }

    // a client with a will that breaks the protocol: its will goes out, the broker stays up
    const willing = new Wire(broker, 5)
    await willing.connect({clientId: 'willing', will: {topic: 'x/will', payload: Buffer.from('gone'), qos: 1, retain: false}})
    willing.sendRaw('00 00')
    await refused(willing, ReasonCode.MalformedPacket)
    for (const w of [v3, v5]) assert.equal((await w.expect('publish')).payload.toString(), 'gone')
    assert.equal(engineOf(broker).metrics.internalErrors, 0)
  })

  test('a poisoned retained message is never stored: 0x81 to the publisher, later subscribers unharmed', async (t) => {
    const broker = startBroker(t)
    const bad = new Wire(broker, 5)
    await bad.connect({clientId: 'bad'})
    bad.sendRaw(publishWith('x/r', '1a03', 'poison', 0x33))
    await refused(bad, ReasonCode.MalformedPacket)
    assert.equal(engineOf(broker).retained.size, 0)
    const sub = new Wire(broker, 5)
    await sub.connect({clientId: 'sub'})
    assert.deepEqual((await sub.subscribe('x/#', 1)).granted, [1])
    await sub.quiet()
  })

  // [packet, raw frame, expected reason code]: (v5 2.2.2.2) an identifier not valid for the packet
  // type is malformed; a property given twice that may appear once is a protocol error
  const connectWith = (props: string, flags = 0x02, payload: Buffer[] = [str('c')]) =>
    rawConnect({level: 5, flags, properties: Buffer.concat([Buffer.from([hex(props).length]), hex(props)]), payload})
  const cases: Array<[string, Buffer, number, boolean]> = [
    ['CONNECT with a Payload Format Indicator', connectWith('0101'), ReasonCode.MalformedPacket, false],
    ['CONNECT with the Session Expiry Interval twice', connectWith('1100000001 1100000002'), ReasonCode.ProtocolError, false],
    ['CONNECT with a Will Delay Interval outside the will', connectWith('1800000001'), ReasonCode.MalformedPacket, false],
    ['CONNECT whose will carries a Session Expiry Interval',
      connectWith('', 0x06, [str('c'), hex('05 1100000001'), str('w'), str('p')]), ReasonCode.MalformedPacket, false],
    ['CONNECT with Receive Maximum 0', connectWith('210000'), ReasonCode.ProtocolError, false],
    ['CONNECT with Maximum Packet Size 0', connectWith('2700000000'), ReasonCode.ProtocolError, false],
    ['CONNECT with Request Problem Information 2', connectWith('1702'), ReasonCode.ProtocolError, false],
    ['CONNECT with an unknown property 0x7f', connectWith('7f00'), ReasonCode.MalformedPacket, false],
    ['CONNECT whose property length runs past the packet', rawConnect({level: 5, properties: hex('20'), payload: [str('c')]}), ReasonCode.MalformedPacket, false],
    ['PUBLISH with a Session Expiry Interval', publishWith('t', '1100000001'), ReasonCode.MalformedPacket, true],
    ['PUBLISH with the Payload Format Indicator twice', publishWith('t', '0100 0100'), ReasonCode.ProtocolError, true],
    ['PUBLISH with a Content Type cut off by the property length', publishWith('t', '0300'), ReasonCode.MalformedPacket, true],
    ['PUBLISH with a Reason String', publishWith('t', '1f0000'), ReasonCode.MalformedPacket, true],
    ['SUBSCRIBE with a Message Expiry Interval', frame(0x82, Buffer.concat([hex('0001 05 0200000001'), str('t'), hex('00')])), ReasonCode.MalformedPacket, true],
    ['SUBSCRIBE with Subscription Identifier 0', frame(0x82, Buffer.concat([hex('0001 02 0b00'), str('t'), hex('00')])), ReasonCode.ProtocolError, true],
    ['UNSUBSCRIBE with a Subscription Identifier', frame(0xa2, Buffer.concat([hex('0001 02 0b01'), str('t')])), ReasonCode.MalformedPacket, true],
    ['PUBACK with a Content Type', frame(0x40, hex('0001 00 04 03 0001 61')), ReasonCode.MalformedPacket, true],
    ['PUBREL with a Topic Alias', frame(0x62, hex('0001 00 03 23 0001')), ReasonCode.MalformedPacket, true],
    ['PUBCOMP with the Reason String twice', frame(0x70, hex('0001 00 08 1f0001 61 1f0001 62')), ReasonCode.ProtocolError, true],
    ['DISCONNECT with a Topic Alias', frame(0xe0, hex('00 03 23 0001')), ReasonCode.MalformedPacket, true],
    ['AUTH with a Payload Format Indicator', frame(0xf0, hex('18 02 01 01')), ReasonCode.MalformedPacket, true],
  ]
  for (const [name, bytes, code, afterConnect] of cases) {
    test(`${name}: ${code === ReasonCode.MalformedPacket ? 'malformed (0x81)' : 'protocol error (0x82)'}`, async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, 5)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 1)
      const w = new Wire(broker, 5)
      if (afterConnect) await w.connect({clientId: 'w'})
      w.sendRaw(bytes)
      await refused(w, code)
      await sub.quiet() // nothing of it was routed
    })
  }
})

describe('the engine contains its own failures (issue #14)', () => {
  test('a delivery hook that throws costs that delivery only; the next messages are routed to everybody', async (t) => {
    const broker = startBroker(t, {auth: {authorizeDeliver: (client) => {
      if (client.clientId === 'victim') throw new Error('hook bug')
      return true
    }}})
    const victim = new Wire(broker, 5)
    await victim.connect({clientId: 'victim'})
    await victim.subscribe('t', 0)
    const other = new Wire(broker, 4)
    await other.connect({clientId: 'other'})
    await other.subscribe('t', 0)
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    for (const n of ['1', '2', '3']) {
      pub.publish('t', n, 1, {messageId: Number(n)})
      assert.equal((await pub.expect('puback')).messageId, Number(n)) // the publisher is not disconnected
      assert.equal((await other.expect('publish')).payload.toString(), n)
    }
    await victim.quiet()
    assert.equal(engineOf(broker).metrics.dropped['delivery-failed'], 3)
    assert.equal(engineOf(broker).metrics.internalErrors, 3)
  })

  test('a publish hook that throws while a will goes out: no will, and the broker keeps serving', async (t) => {
    const broker = startBroker(t, {auth: {authorizePublish: (_c, topic) => {
      if (topic === 'will/t') throw new Error('hook bug')
      return true
    }}})
    const sub = new Wire(broker, 4)
    await sub.connect({clientId: 'sub'})
    await sub.subscribe('#', 0)
    const w = new Wire(broker, 4)
    await w.connect({clientId: 'w', will: {topic: 'will/t', payload: Buffer.from('x'), qos: 0, retain: false}})
    w.sendRaw('00 00')
    await w.closed()
    const pub = new Wire(broker, 4)
    await pub.connect({clientId: 'pub'})
    pub.publish('after', 'still here')
    const p = await sub.expect('publish')
    assert.equal(p.topic, 'after')
    assert.equal(engineOf(broker).metrics.internalErrors, 1)
  })
})
