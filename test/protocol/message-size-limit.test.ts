import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

for (const v of VERSIONS) {
  describe(`message_size_limit ${versionName(v)}`, () => {
    test('a payload above the limit is dropped (v5 QoS 1/2: 0x83); one at the limit goes through', async (t) => {
      const broker = startBroker(t, {messageSizeLimit: 4})
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('s', 1)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('s', 'too big', 0)
      pub.publish('s', 'too big', 1, {messageId: 1})
      const ack = await pub.expect('puback')
      if (v === 5) assert.equal(ack.reasonCode, ReasonCode.ImplementationSpecificError)
      else assert.equal(ack.reasonCode ?? 0, 0)
      pub.publish('s', 'okay', 1, {messageId: 2})
      await pub.expect('puback')
      const got = await sub.expect('publish')
      assert.equal(got.payload.toString(), 'okay')
      await sub.quiet()
      assert.equal(engineOf(broker).metrics.messagesReceived, 1)
    })

    test('a will above the limit is refused like an oversized PUBLISH (v5 CONNACK 0x95, v3 closed); one at the limit is accepted', async (t) => {
      const broker = startBroker(t, {messageSizeLimit: 4})
      const big = new Wire(broker, v)
      big.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: 'big', clean: true, keepalive: 0,
        will: {topic: 'w', payload: Buffer.from('12345'), qos: 0, retain: false}})
      if (v === 5) assert.equal((await big.expect('connack')).reasonCode, ReasonCode.PacketTooLarge)
      await big.closed()
      assert.equal(engineOf(broker).sessions.has('big'), false)
      const ok = new Wire(broker, v)
      const connack = await ok.connect({clientId: 'ok', will: {topic: 'w', payload: Buffer.from('1234'), qos: 0, retain: false}})
      assert.equal(connack.reasonCode ?? connack.returnCode, 0)
    })
  })
}
