import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {decodeNodeFrame, decodeNodeMessage, encodeConfirm, encodeNodeBatch, encodeNodeMessage, encodeSequenced, forEachNodeMessage, setSequencedLow} from '../../src/cluster/wire.js'
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

  it('carries a batch of messages in order, and a single message as it is', () => {
    const msgs = ['a', 'b/c', 'd'].map((topic, i): Message => ({topic, payload: Buffer.from(`p${i}`), qos: 1, retain: false}))
    const encoded = msgs.map((m) => encodeNodeMessage('n1', m, i(m) === 1 ? ['$share/g/b/+'] : [], 0))
    const seen: Array<[string, string, string[]]> = []
    forEachNodeMessage(encodeNodeBatch(encoded), (bytes) => {
      const out = decodeNodeMessage(bytes, 0)
      seen.push([out.message.topic, out.message.payload.toString(), out.groups])
    })
    assert.deepEqual(seen, [['a', 'p0', []], ['b/c', 'p1', ['$share/g/b/+']], ['d', 'p2', []]])
    const single: Buffer[] = []
    forEachNodeMessage(encoded[0]!, (bytes) => single.push(bytes))
    assert.deepEqual(single, [encoded[0]])
    function i(m: Message): number { return msgs.indexOf(m) }
  })

  it('refuses a batch cut inside a message, after visiting the whole ones before it', () => {
    const one = encodeNodeMessage('n1', {topic: 't', payload: Buffer.from('x'), qos: 0, retain: false}, [], 0)
    const batch = encodeNodeBatch([one, one])
    const visited: Buffer[] = []
    assert.throws(() => forEachNodeMessage(batch.subarray(0, batch.length - 2), (b) => visited.push(b)), /ends inside a message/)
    assert.equal(visited.length, 1)
    assert.throws(() => forEachNodeMessage(batch.subarray(0, 3), () => undefined), /ends inside a length/)
  })

  it('numbers a single message, a batch and an empty one, with the lowest number kept written in place', () => {
    const m = (t: string) => encodeNodeMessage('n1', {topic: t, payload: Buffer.from(t), qos: 1, retain: false}, [], 0)
    for (const messages of [[m('a')], [m('a'), m('b'), m('c')], []]) {
      const bytes = encodeSequenced('node-a', 'e1', 7, messages)
      setSequencedLow(bytes, 3)
      const frame = decodeNodeFrame(bytes)
      assert.equal(frame.kind, 'sequenced')
      if (frame.kind !== 'sequenced') return
      assert.deepEqual({sender: frame.frame.sender, epoch: frame.frame.epoch, seq: frame.frame.seq, low: frame.frame.low}, {sender: 'node-a', epoch: 'e1', seq: 7, low: 3})
      const topics: string[] = []
      forEachNodeMessage(frame.frame.payload, (b) => topics.push(decodeNodeMessage(b, 0).message.topic))
      assert.deepEqual(topics, messages.map((b) => decodeNodeMessage(b, 0).message.topic))
    }
    assert.deepEqual(decodeNodeFrame(encodeConfirm({from: 'node-b', epoch: 'e1', upTo: 2 ** 40, resend: true})),
      {kind: 'confirm', frame: {from: 'node-b', epoch: 'e1', upTo: 2 ** 40, resend: true}})
  })
})
