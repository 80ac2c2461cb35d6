import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {frame, hex, startBroker, str, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

for (const v of VERSIONS) {
  describe(`UNSUBSCRIBE ${versionName(v)}`, () => {
    test('[MQTT-3.10.4-4] [MQTT-2.3.1-7] UNSUBACK with the same packet id; [MQTT-3.10.4-2] no more messages', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 0)
      w.send({cmd: 'unsubscribe', messageId: 4711, unsubscriptions: ['t']})
      const ack = await w.expect('unsuback')
      assert.equal(ack.messageId, 4711)
      if (v === 5) assert.deepEqual(ack.granted, [ReasonCode.Success])
      w.publish('t', 'x')
      await w.quiet()
      assert.equal(engineOf(broker).router.size, 0)
    })

    test(`[MQTT-3.10.4-5] UNSUBACK even when nothing matched${v === 5 ? ' (0x11 No subscription existed)' : ''}`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      const ack = await w.unsubscribe('never')
      if (v === 5) assert.deepEqual(ack.granted, [ReasonCode.NoSubscriptionExisted])
    })

    test('[MQTT-3.10.4-6] several filters in one UNSUBSCRIBE', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe(['a', 'b', 'c'], 0)
      const ack = await w.unsubscribe(['a', 'x', 'c'])
      if (v === 5) assert.deepEqual(ack.granted, [0, ReasonCode.NoSubscriptionExisted, 0])
      assert.deepEqual([...engineOf(broker).sessions.get('c1')!.subscriptions.keys()], ['b'])
    })

    test('[MQTT-3.10.4-1] filters are compared character by character, not matched', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('a/b', 0)
      const ack = await w.unsubscribe(['a/+', 'a/#'])
      if (v === 5) assert.deepEqual(ack.granted, [ReasonCode.NoSubscriptionExisted, ReasonCode.NoSubscriptionExisted])
      w.publish('a/b', 'still here')
      assert.equal((await w.expect('publish')).payload.toString(), 'still here')
    })

    test('[MQTT-3.10.4-3] a QoS 1 message in flight is completed after UNSUBSCRIBE', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 1)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'p'})
      pub.publish('t', 'x', 1)
      await pub.expect('puback')
      const p = await w.expect('publish')
      await w.unsubscribe('t')
      assert.equal(engineOf(broker).sessions.get('c1')!.inflight.size, 1)
      w.send({cmd: 'puback', messageId: p.messageId})
      await w.quiet()
      assert.equal(engineOf(broker).sessions.get('c1')!.inflight.size, 0)
    })

    test('[MQTT-3.10.3-2] an UNSUBSCRIBE without filters is a protocol error: closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0xa2, v === 5 ? hex('0001 00') : hex('0001')))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
      await w.closed()
    })

    test('[MQTT-3.10.1-1] UNSUBSCRIBE with reserved header bits 0000 is malformed: closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0xa0, Buffer.concat([hex('0001'), v === 5 ? hex('00') : hex(''), str('a')])))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.MalformedPacket)
      await w.closed()
    })

    test('unsubscribing a shared subscription', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('$share/g/t', 0)
      const ack = await w.unsubscribe('$share/g/t')
      if (v === 5) assert.deepEqual(ack.granted, [0])
      assert.equal(engineOf(broker).router.size, 0)
      w.publish('t', 'x')
      await w.quiet()
    })
  })
}
