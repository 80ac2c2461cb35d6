import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {decodeNodeMessage, encodeNodeMessage} from '../../src/cluster/wire.js'
import type {Message} from '../../src/broker/message.js'

describe('cluster wire format', () => {
  it('carries topic, payload, QoS, retain, v5 properties, publisher, expiry and shared groups', () => {
    const msg: Message = {topic: 'a/b', payload: Buffer.from([0, 1, 2, 255]), qos: 1, retain: true, origin: 'c1', originUsername: 'alice',
      expiresAt: 10_000, properties: {contentType: 'x/y', userProperties: {k: 'v'}, correlationData: Buffer.from('id')}}
    const out = decodeNodeMessage(encodeNodeMessage('node-1', msg, ['$share/g/a/+', '$share/h/#'], 5_000), 1_000)
    assert.equal(out.sender, 'node-1')
    assert.deepEqual(out.groups, ['$share/g/a/+', '$share/h/#'])
    const m = out.message
    assert.equal(m.topic, 'a/b')
    assert.deepEqual(m.payload, msg.payload)
    assert.equal(m.qos, 1)
    assert.equal(m.retain, true)
    assert.equal(m.origin, 'c1')
    assert.equal(m.originUsername, 'alice')
    assert.equal(m.properties?.contentType, 'x/y')
    assert.deepEqual(m.properties?.correlationData, Buffer.from('id'))
    // 5 s left on the sender's clock: about 5 s left on the receiver's (wall clocks in between)
    assert.ok(m.expiresAt! > 5_000 && m.expiresAt! <= 6_000, String(m.expiresAt))
  })

  it('keeps a QoS 0 message without properties or publisher as it was', () => {
    const out = decodeNodeMessage(encodeNodeMessage('n', {topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, originUsername: null}, [], 0), 0)
    assert.deepEqual({...out.message, payload: out.message.payload.length}, {topic: 't', payload: 0, qos: 0, retain: false, properties: undefined,
      expiresAt: undefined, origin: undefined, originUsername: null})
  })

  it('refuses bytes it cannot read', () => {
    assert.throws(() => decodeNodeMessage(Buffer.from([9, 0]), 0), /version/)
    const good = encodeNodeMessage('n', {topic: 't', payload: Buffer.from('x'), qos: 0, retain: false}, [], 0)
    assert.throws(() => decodeNodeMessage(good.subarray(0, 6), 0))
  })
})
