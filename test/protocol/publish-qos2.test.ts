import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type PublishPacket} from '../../src/codec/index.js'
import {frame, hex, startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

for (const v of VERSIONS) {
  describe(`PUBLISH QoS 2 ${versionName(v)}`, () => {
    test('[MQTT-4.3.3-2] PUBLISH -> PUBREC, PUBREL -> PUBCOMP with the same packet id', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 0)
      w.publish('t', 'x', 2, {messageId: 321})
      const got = await w.take(2)
      assert.deepEqual(got.map((p) => p.cmd).sort(), ['publish', 'pubrec'])
      assert.equal(got.find((p) => p.cmd === 'pubrec')!.messageId, 321)
      assert.equal((got.find((p) => p.cmd === 'publish') as PublishPacket).payload.toString(), 'x')
      w.send({cmd: 'pubrel', messageId: 321})
      const comp = await w.expect('pubcomp')
      assert.equal(comp.messageId, 321)
      if (v === 5) assert.equal(comp.reasonCode ?? 0, ReasonCode.Success)
    })

    test('[MQTT-4.3.3-9] inbound QoS 2 is delivered exactly once: a resent PUBLISH before PUBREL is not delivered again', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 0)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('t', 'once', 2, {messageId: 7})
      await pub.expect('pubrec')
      pub.publish('t', 'once', 2, {messageId: 7, dup: true})
      assert.equal((await pub.expect('pubrec')).messageId, 7)
      assert.equal((await sub.expect('publish')).payload.toString(), 'once')
      await pub.quiet()
      await sub.quiet()
      pub.send({cmd: 'pubrel', messageId: 7})
      await pub.expect('pubcomp')
      // [MQTT-4.3.3-10] after PUBCOMP the id starts a new message
      pub.publish('t', 'again', 2, {messageId: 7})
      await pub.expect('pubrec')
      assert.equal((await sub.expect('publish')).payload.toString(), 'again')
    })

    test('outbound QoS 2: PUBLISH, PUBREC -> PUBREL, PUBCOMP frees the id', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 2)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('t', 'x', 2, {messageId: 1})
      await pub.expect('pubrec')
      const p = await sub.expect('publish')
      assert.equal(p.qos, 2)
      assert.ok(p.messageId! > 0)
      sub.send({cmd: 'pubrec', messageId: p.messageId})
      const rel = await sub.expect('pubrel')
      assert.equal(rel.messageId, p.messageId)
      const session = engineOf(broker).sessions.get('sub')!
      assert.equal(session.packetIds.isInUse(p.messageId!), true, '[MQTT-4.3.3-?] the id stays in use until PUBCOMP')
      // a message sent meanwhile does not get the id awaiting PUBCOMP
      pub.publish('t', 'y', 2, {messageId: 2})
      const p2 = await sub.expect('publish')
      assert.notEqual(p2.messageId, p.messageId)
      sub.send({cmd: 'pubcomp', messageId: p.messageId})
      await sub.quiet()
      assert.equal(session.packetIds.isInUse(p.messageId!), false)
      assert.equal(session.inflight.size, 1)
    })

    test('a QoS 2 message to a QoS 1 subscription is delivered at QoS 1', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 1)
      sub.publish('t', 'x', 2, {messageId: 1})
      const p = (await sub.take(2)).find((x) => x.cmd === 'publish') as PublishPacket
      assert.equal(p.qos, 1)
    })

    test(`PUBREL for an unknown id gets PUBCOMP${v === 5 ? ' 0x92' : ''}`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.send({cmd: 'pubrel', messageId: 99})
      const comp = await w.expect('pubcomp')
      assert.equal(comp.messageId, 99)
      if (v === 5) assert.equal(comp.reasonCode, ReasonCode.PacketIdentifierNotFound)
    })

    test(`PUBREC for an unknown id gets PUBREL${v === 5 ? ' 0x92' : ''}`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.send({cmd: 'pubrec', messageId: 98})
      const rel = await w.expect('pubrel')
      assert.equal(rel.messageId, 98)
      if (v === 5) assert.equal(rel.reasonCode, ReasonCode.PacketIdentifierNotFound)
    })

    test('[MQTT-3.6.1-1] PUBREL with wrong header flags is malformed: closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.publish('t', 'x', 2, {messageId: 1})
      await w.expect('pubrec')
      w.sendRaw(frame(0x60, hex('0001')))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.MalformedPacket)
      await w.closed()
    })

    test(`PUBREC ${v === 5 ? 'says 0x10 No matching subscribers' : 'is plain'} when nobody subscribes`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.publish('nobody', 'x', 2, {messageId: 5})
      const rec = await w.expect('pubrec')
      if (v === 5) assert.equal(rec.reasonCode, ReasonCode.NoMatchingSubscribers)
      else assert.equal(rec.reasonCode, undefined)
      w.send({cmd: 'pubrel', messageId: 5})
      const comp = await w.expect('pubcomp')
      if (v === 5) assert.equal(comp.reasonCode ?? 0, ReasonCode.Success)
    })

    test('unreleased inbound ids are kept per id: two QoS 2 flows interleave', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 0)
      w.publish('t', 'a', 2, {messageId: 1})
      w.publish('t', 'b', 2, {messageId: 2})
      const got = [await w.next(), await w.next(), await w.next(), await w.next()]
      assert.equal(got.filter((p) => p.cmd === 'publish').length, 2)
      w.send({cmd: 'pubrel', messageId: 2})
      assert.equal((await w.expect('pubcomp')).messageId, 2)
      w.publish('t', 'a', 2, {messageId: 1, dup: true})
      await w.expect('pubrec')
      await w.quiet()
      w.send({cmd: 'pubrel', messageId: 1})
      assert.equal((await w.expect('pubcomp')).messageId, 1)
    })
  })
}

describe('PUBLISH QoS 2 v5 only', () => {
  test('a PUBREC >= 0x80 from the subscriber ends the flow without PUBREL and frees the id', async (t) => {
    const broker = startBroker(t)
    const sub = new Wire(broker, 5)
    await sub.connect({clientId: 'sub'})
    await sub.subscribe('t', 2)
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    pub.publish('t', 'x', 2)
    await pub.expect('pubrec')
    const p = await sub.expect('publish')
    assert.equal(p.qos, 2)
    sub.send({cmd: 'pubrec', messageId: p.messageId, reasonCode: ReasonCode.UnspecifiedError})
    await sub.quiet()
    assert.equal(engineOf(broker).sessions.get('sub')!.inflight.size, 0)
    assert.equal(engineOf(broker).sessions.get('sub')!.packetIds.isInUse(p.messageId!), false)
  })

  test('a PUBLISH refused with PUBREC >= 0x80 does not hold its id', async (t) => {
    const broker = startBroker(t, {auth: {authorizePublish: () => false}})
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('t', 'x', 2, {messageId: 8})
    assert.equal((await w.expect('pubrec')).reasonCode, ReasonCode.NotAuthorized)
    assert.equal(engineOf(broker).sessions.get('c1')!.inboundQos2.has(8), false)
  })
})
