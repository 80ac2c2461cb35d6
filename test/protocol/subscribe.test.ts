import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {frame, hex, startBroker, str, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const failure = (v: number, v5: number) => (v === 5 ? v5 : 0x80)

for (const v of VERSIONS) {
  describe(`SUBSCRIBE ${versionName(v)}`, () => {
    test('[MQTT-3.8.4-1] [MQTT-3.8.4-2] SUBACK carries the SUBSCRIBE packet id', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.send({cmd: 'subscribe', messageId: 5150, subscriptions: [{topic: 'a', qos: 1}]})
      const ack = await w.expect('suback')
      assert.equal(ack.messageId, 5150)
      assert.deepEqual(ack.granted, [1])
    })

    test('[MQTT-3.8.4-4] [MQTT-3.8.4-5] several filters: one return code each, in order', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      const ack = await w.subscribe([{topic: 'a', qos: 2}, {topic: 'b/#', qos: 0}, {topic: 'c/+', qos: 1}])
      assert.deepEqual(ack.granted, [2, 0, 1])
      assert.equal(engineOf(broker).sessions.get('c1')!.subscriptions.size, 3)
    })

    test('[MQTT-3.8.4-6] the granted QoS may be lower than asked (maximum QoS 1)', async (t) => {
      const broker = startBroker(t, {maxQos: 1})
      const w = new Wire(broker, v)
      await w.connect()
      assert.deepEqual((await w.subscribe('a', 2)).granted, [1])
    })

    test(`an invalid filter is refused with ${v === 5 ? '0x8F' : '0x80'}; the others in the packet are granted`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      const ack = await w.subscribe([{topic: 'a/#/b', qos: 1}, {topic: 'ok', qos: 1}, {topic: 'a+', qos: 0}])
      assert.deepEqual(ack.granted, [failure(v, ReasonCode.TopicFilterInvalid), 1, failure(v, ReasonCode.TopicFilterInvalid)])
      assert.deepEqual([...engineOf(broker).sessions.get('c1')!.subscriptions.keys()], ['ok'])
    })

    test(`a subscription the authorizer refuses gets ${v === 5 ? '0x87' : '0x80'}`, async (t) => {
      const broker = startBroker(t, {auth: {authorizeSubscribe: (_c, f) => f !== 'secret'}})
      const w = new Wire(broker, v)
      await w.connect()
      assert.deepEqual((await w.subscribe(['secret', 'open'], 1)).granted, [failure(v, ReasonCode.NotAuthorized), 1])
      w.publish('secret', 'x')
      w.publish('open', 'y')
      assert.equal((await w.expect('publish')).topic, 'open')
      await w.quiet()
    })

    test('an async authorizer keeps packets in order', async (t) => {
      const broker = startBroker(t, {auth: {authorizeSubscribe: async () => { await new Promise((r) => setTimeout(r, 5)); return true }}})
      const w = new Wire(broker, v)
      await w.connect()
      w.send({cmd: 'subscribe', messageId: 1, subscriptions: [{topic: 't', qos: 0}]})
      w.publish('t', 'after the subscribe')
      await w.expect('suback')
      assert.equal((await w.expect('publish')).payload.toString(), 'after the subscribe')
    })

    test('[MQTT-3.8.3-3] a SUBSCRIBE without filters is a protocol error: closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x82, v === 5 ? hex('0001 00') : hex('0001')))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
      await w.closed()
      assert.equal(w.buffered.length, 0)
    })

    test('[MQTT-3.8.1-1] [MQTT-2.2.2-2] SUBSCRIBE with reserved header bits 0000 is malformed: closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x80, Buffer.concat([hex('0001'), v === 5 ? hex('00') : hex(''), str('a'), hex('00')])))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.MalformedPacket)
      await w.closed()
    })

    test('[MQTT-3.8.3-4] a requested QoS of 3 is malformed: closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x82, Buffer.concat([hex('0001'), v === 5 ? hex('00') : hex(''), str('a'), hex('03')])))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.MalformedPacket)
      await w.closed()
    })

    test('[MQTT-3.8.3-5] reserved subscription option bits set: malformed, closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x82, Buffer.concat([hex('0001'), v === 5 ? hex('00') : hex(''), str('a'), hex(v === 5 ? 'c1' : '41')])))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.MalformedPacket)
      await w.closed()
    })

    test('[MQTT-3.8.3-1] a filter that is not UTF-8 is malformed: closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x82, Buffer.concat([hex('0001'), v === 5 ? hex('00') : hex(''), str(hex('61ff')), hex('00')])))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.MalformedPacket)
      await w.closed()
    })

    test('[MQTT-3.8.4-3] subscribing again replaces the subscription (one copy, the new QoS)', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 0)
      assert.deepEqual((await w.subscribe('t', 1)).granted, [1])
      assert.equal(engineOf(broker).router.size, 1)
      w.publish('t', 'x', 1, {messageId: 11})
      const got = await w.take(2)
      const pubs = got.filter((p) => p.cmd === 'publish')
      assert.equal(pubs.length, 1)
      assert.equal((pubs[0] as {qos: number}).qos, 1)
      await w.quiet()
    })

    test('subscriptions of different clients are independent', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      await a.connect({clientId: 'a'})
      const b = new Wire(broker, v)
      await b.connect({clientId: 'b'})
      await a.subscribe('t/+', 1)
      await b.subscribe('t/#', 0)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'p'})
      pub.publish('t/x', 'm', 1, {messageId: 1})
      await pub.expect('puback')
      assert.equal((await a.expect('publish')).qos, 1)
      assert.equal((await b.expect('publish')).qos, 0)
    })
  })
}
