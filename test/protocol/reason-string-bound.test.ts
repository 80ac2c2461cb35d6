// Reason strings quote client input; a topic can be 65,535 bytes, and a reason quoting it could not be
// encoded ("cannot encode pubrec", found by the fuzzer with --persistence and an ACL). Reason strings
// are cut to 256 code points.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {startBroker, Wire} from '../helpers/wire.js'

test('a refused PUBLISH to a 65,532-byte topic gets its PUBACK/PUBREC 0x87 with a bounded reason string (v5), and the connection goes on', async (t) => {
  const broker = startBroker(t, {auth: {authorizePublish: (_client, topic) => !topic.startsWith('q/')}})
  const w = new Wire(broker, 5)
  await w.connect()
  const topic = `q/${'ü'.repeat(32_765)}` // 65,532 bytes
  for (const qos of [1, 2] as const) {
    w.publish(topic, 'hi', qos, {messageId: 7 + qos})
    const ack = await w.expect(qos === 1 ? 'puback' : 'pubrec')
    assert.equal(ack.messageId, 7 + qos)
    assert.equal(ack.reasonCode, 0x87)
    const reason = ack.properties?.reasonString ?? ''
    assert.ok(reason.startsWith('not authorized'), reason.slice(0, 40))
    assert.equal(Array.from(reason).length, 256)
    assert.ok(reason.endsWith('…'))
  }
  await w.quiet()
})
