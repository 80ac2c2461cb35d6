import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type PublishPacket} from '../../src/codec/index.js'
import {startBroker, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

describe('v5 flow control', () => {
  test('[MQTT-3.3.4-9] the client\'s Receive Maximum bounds our QoS 1/2 in flight; the rest waits', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect({properties: {receiveMaximum: 2}})
    await w.subscribe('t', 1)
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    for (let i = 0; i < 4; i++) {
      pub.publish('t', String(i), 1, {messageId: i + 1})
      await pub.expect('puback')
    }
    pub.publish('t', 'qos0')
    const a = await w.expect('publish')
    const b = await w.expect('publish')
    assert.deepEqual([a, b].map((p) => p.payload.toString()), ['0', '1'])
    assert.equal((await w.expect('publish')).payload.toString(), 'qos0', 'QoS 0 is not held back')
    await w.quiet()
    w.send({cmd: 'puback', messageId: a.messageId})
    assert.equal((await w.expect('publish')).payload.toString(), '2')
    await w.quiet()
  })

  test('[MQTT-3.3.4-9] for QoS 2 the slot is freed by PUBCOMP (or a PUBREC >= 0x80), not by PUBREC', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect({properties: {receiveMaximum: 1}})
    await w.subscribe('t', 2)
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    // QoS 2 deliveries (answering a QoS 1 delivery with PUBREC is a Protocol Error: strict-peer/acks)
    for (let i = 0; i < 3; i++) {
      pub.publish('t', String(i), 2, {messageId: i + 1})
      await pub.expect('pubrec')
      pub.send({cmd: 'pubrel', messageId: i + 1})
      await pub.expect('pubcomp')
    }
    const first = await w.expect('publish')
    assert.equal(first.qos, 2)
    w.send({cmd: 'pubrec', messageId: first.messageId})
    await w.expect('pubrel')
    await w.quiet()
    w.send({cmd: 'pubcomp', messageId: first.messageId})
    const second = await w.expect('publish')
    assert.equal(second.payload.toString(), '1')
    w.send({cmd: 'pubrec', messageId: second.messageId, reasonCode: ReasonCode.UnspecifiedError})
    assert.equal((await w.expect('publish')).payload.toString(), '2')
  })

  test('our Receive Maximum is announced (Mosquitto\'s default 20) and more QoS 2 in flight gets DISCONNECT 0x93', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.receiveMaximum, 20)
    for (let i = 1; i <= 20; i++) {
      w.publish('t', 'x', 2, {messageId: i})
      await w.expect('pubrec')
    }
    w.publish('t', 'x', 2, {messageId: 21})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ReceiveMaximumExceeded)
    await w.closed()
  })

  test('releasing QoS 2 messages keeps a client under our Receive Maximum', async (t) => {
    const broker = startBroker(t, {receiveMaximum: 2})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.receiveMaximum, 2)
    for (let i = 1; i <= 10; i++) {
      w.publish('t', 'x', 2, {messageId: i})
      await w.expect('pubrec')
      w.send({cmd: 'pubrel', messageId: i})
      await w.expect('pubcomp')
    }
  })

  test('the window is the smaller of the client\'s Receive Maximum and max_inflight_messages', async (t) => {
    const broker = startBroker(t, {maxInflightMessages: 3})
    const w = new Wire(broker, 5)
    await w.connect({properties: {receiveMaximum: 100}})
    await w.subscribe('t', 1)
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    for (let i = 0; i < 5; i++) pub.publish('t', String(i), 1, {messageId: i + 1})
    await pub.take(5)
    const got: PublishPacket[] = []
    for (let i = 0; i < 3; i++) got.push(await w.expect('publish'))
    await w.quiet()
    assert.equal(engineOf(broker).sessions.get('c1')!.queued, 2)
  })
})
