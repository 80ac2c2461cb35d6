import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {frame, hex, startBroker, str, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

for (const v of VERSIONS) {
  describe(`PUBLISH QoS 0 ${versionName(v)}`, () => {
    test('[MQTT-3.3.4-1] a QoS 0 PUBLISH is not acknowledged and reaches a subscriber', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('a/b', 0)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('a/b', 'hello')
      await pub.quiet()
      const p = await sub.expect('publish')
      assert.equal(p.topic, 'a/b')
      assert.equal(p.payload.toString(), 'hello')
      assert.equal(p.qos, 0)
      assert.equal(p.retain, false)
      // [MQTT-3.3.1-2] DUP is 0 for QoS 0; [MQTT-2.3.1-5] no packet identifier
      assert.equal(p.dup, false)
      assert.equal(p.messageId, undefined)
      assert.equal(engineOf(broker).metrics.messagesReceived, 1)
    })

    test('[MQTT-3.8.4-6] a QoS 0 message goes to a QoS 2 subscription at QoS 0', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 2)
      sub.publish('t', 'x')
      assert.equal((await sub.expect('publish')).qos, 0)
    })

    test('empty, binary and large payloads arrive unchanged', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 0)
      const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80])
      const large = Buffer.alloc(300_000, 7)
      for (const payload of [Buffer.alloc(0), binary, large]) {
        sub.publish('t', payload)
        assert.deepEqual((await sub.expect('publish')).payload, payload)
      }
    })

    test('[MQTT-4.6.0-6] messages from one client arrive in the order they were sent', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 0)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 0; i < 200; i++) pub.publish('t', String(i))
      for (let i = 0; i < 200; i++) assert.equal((await sub.expect('publish')).payload.toString(), String(i))
    })

    test('a subscriber on another topic gets nothing', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('a', 0)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('b', 'x')
      await pub.quiet()
      await sub.quiet()
    })

    test('QoS 0 is not queued for an offline session, and the drop is counted', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      const persistent = v === 5 ? {clean: false, properties: {sessionExpiryInterval: 100}} : {clean: false}
      await sub.connect({clientId: 'sub', ...persistent})
      await sub.subscribe('t', 1)
      sub.send({cmd: 'disconnect'})
      await sub.closed()
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('t', 'lost')
      await pub.quiet()
      assert.equal(engineOf(broker).metrics.dropped['offline-qos0'], 1)
      const back = new Wire(broker, v)
      assert.equal((await back.connect({clientId: 'sub', ...persistent})).sessionPresent, true)
      await back.quiet()
    })

    test('[MQTT-3.3.1-4] QoS 3 is malformed: closed (v5: DISCONNECT 0x81)', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x36, Buffer.concat([str('t'), hex('0001'), v === 5 ? hex('00') : hex(''), Buffer.from('x')])))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.MalformedPacket)
      await w.closed()
    })

    test('[MQTT-3.3.1-2] DUP set on a QoS 0 PUBLISH is malformed: closed (v5: DISCONNECT 0x81)', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await w.subscribe('t', 0)
      w.sendRaw(frame(0x38, Buffer.concat([str('t'), v === 5 ? hex('00') : hex(''), Buffer.from('x')])))
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.MalformedPacket)
      await w.closed()
      assert.equal(w.buffered.length, 0)
    })
  })
}
