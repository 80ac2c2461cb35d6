import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createBroker} from '../../src/index.js'
import {Wire} from '../helpers/wire.js'

test('smoke', async () => {
  const broker = createBroker()
  const a = new Wire(broker, 5)
  const ack = await a.connect({clientId: 'a'})
  assert.equal(ack.reasonCode, 0)
  a.send({cmd: 'subscribe', messageId: 1, subscriptions: [{topic: 't/#', qos: 1}]})
  const suback = await a.expect('suback')
  assert.deepEqual(suback.granted, [1])
  const b = new Wire(broker, 4)
  await b.connect({clientId: 'b'})
  b.send({cmd: 'publish', topic: 't/x', payload: Buffer.from('hi'), qos: 1, retain: false, dup: false, messageId: 7})
  const puback = await b.expect('puback')
  assert.equal(puback.messageId, 7)
  const pub = await a.expect('publish')
  assert.equal(pub.payload.toString(), 'hi')
  assert.equal(pub.qos, 1)
  a.send({cmd: 'puback', messageId: pub.messageId})
  await broker.close()
})
