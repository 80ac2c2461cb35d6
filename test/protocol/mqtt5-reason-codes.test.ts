import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {startBroker, Wire} from '../helpers/wire.js'

describe('v5 reason codes and reason strings', () => {
  for (const rpi of [true, false]) {
    const connect = rpi ? {} : {properties: {requestProblemInformation: false}}
    const name = rpi ? 'with problem information' : '[MQTT-3.1.2-29] with Request Problem Information 0'

    test(`PUBACK / PUBREC 0x87 ${name}`, async (t) => {
      const broker = startBroker(t, {auth: {authorizePublish: () => false}})
      const w = new Wire(broker, 5)
      await w.connect(connect)
      w.publish('t', 'x', 1, {messageId: 1})
      const ack = await w.expect('puback')
      assert.equal(ack.reasonCode, ReasonCode.NotAuthorized)
      assert.equal(ack.properties?.reasonString !== undefined, rpi)
      w.publish('t', 'x', 2, {messageId: 2})
      const rec = await w.expect('pubrec')
      assert.equal(rec.reasonCode, ReasonCode.NotAuthorized)
      assert.equal(rec.properties?.reasonString !== undefined, rpi)
    })

    test(`SUBACK refusals ${name}`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, 5)
      await w.connect(connect)
      const ack = await w.subscribe(['a/#/b', 'ok'], 1)
      assert.deepEqual(ack.granted, [ReasonCode.TopicFilterInvalid, 1])
      if (rpi) assert.match(ack.properties?.reasonString ?? '', /a\/#\/b/)
      else assert.equal(ack.properties?.reasonString, undefined)
      const fine = await w.subscribe('x', 0)
      assert.equal(fine.properties, undefined, 'no reason string when nothing was refused')
    })

    test(`PUBREL / PUBCOMP 0x92 ${name}`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, 5)
      await w.connect(connect)
      w.send({cmd: 'pubrel', messageId: 3})
      const comp = await w.expect('pubcomp')
      assert.equal(comp.reasonCode, ReasonCode.PacketIdentifierNotFound)
      assert.equal(comp.properties?.reasonString !== undefined, rpi)
      w.send({cmd: 'pubrec', messageId: 4})
      const rel = await w.expect('pubrel')
      assert.equal(rel.reasonCode, ReasonCode.PacketIdentifierNotFound)
      assert.equal(rel.properties?.reasonString !== undefined, rpi)
    })

    test(`CONNACK and DISCONNECT carry a reason string only when the client allows ${name}`, async (t) => {
      // [MQTT-3.1.2-29] allows them on CONNACK and DISCONNECT even with Request Problem Information 0;
      // midge's policy (README) leaves them out there too
      const broker = startBroker(t, {auth: {authenticate: (r) => r.clientId !== 'bad'}})
      const bad = new Wire(broker, 5)
      const ack = await bad.connect({clientId: 'bad', ...connect})
      assert.equal(ack.reasonCode, ReasonCode.BadUserNameOrPassword)
      assert.equal(ack.properties?.reasonString !== undefined, rpi)
      const w = new Wire(broker, 5)
      await w.connect(connect)
      w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0})
      assert.equal((await w.expect('disconnect')).properties?.reasonString !== undefined, rpi)
    })
  }

  test('[MQTT-3.14.2-3] a reason string that would exceed the client\'s Maximum Packet Size is left out', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect({properties: {maximumPacketSize: 16}})
    w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0})
    const d = await w.expect('disconnect')
    assert.equal(d.reasonCode, ReasonCode.ProtocolError)
    assert.equal(d.properties, undefined)
  })

  test('reason codes on every ack: success acks are the short forms', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    await w.subscribe('t', 2)
    w.publish('t', 'x', 1, {messageId: 1})
    const got = await w.take(2)
    const ack = got.find((p) => p.cmd === 'puback')!
    assert.equal(ack.reasonCode ?? 0, ReasonCode.Success)
  })

  test('PUBACK / PUBREC 0x97 Quota exceeded when every matching subscriber\'s queue is full', async (t) => {
    const broker = startBroker(t, {maxQueuedMessages: 1})
    const s = new Wire(broker, 5)
    await s.connect({clientId: 's', clean: false, properties: {sessionExpiryInterval: 60}})
    await s.subscribe('t', 1)
    s.send({cmd: 'disconnect'})
    await s.closed()
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('t', 'fits', 1, {messageId: 1})
    assert.equal((await w.expect('puback')).reasonCode ?? 0, ReasonCode.Success)
    w.publish('t', 'over', 1, {messageId: 2})
    const ack = await w.expect('puback')
    assert.equal(ack.reasonCode, ReasonCode.QuotaExceeded)
    assert.ok(ack.properties?.reasonString)
    w.publish('t', 'over', 2, {messageId: 3})
    assert.equal((await w.expect('pubrec')).reasonCode, ReasonCode.QuotaExceeded)
    // one receiver with room is enough for success
    const live = new Wire(broker, 5)
    await live.connect({clientId: 'live'})
    await live.subscribe('t', 1)
    w.publish('t', 'some', 1, {messageId: 4})
    assert.equal((await w.expect('puback')).reasonCode ?? 0, ReasonCode.Success)
  })

  test('v3 acks carry no reason codes', async (t) => {
    const broker = startBroker(t, {auth: {authorizePublish: () => false}})
    const w = new Wire(broker, 4)
    await w.connect()
    w.publish('t', 'x', 1, {messageId: 1})
    const ack = await w.expect('puback')
    assert.equal(ack.reasonCode, undefined)
    assert.equal(ack.length, 2)
  })
})
