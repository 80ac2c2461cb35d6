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
      expiresAt: undefined, origin: undefined, originUsername: null, encoded: undefined, ack: undefined})
  })

  it('carries a message without v5 properties as topic and payload: every field, each QoS, retain or not', () => {
    for (const qos of [0, 1, 2] as const) {
      for (const retain of [false, true]) {
        const msg: Message = {topic: 'été/ü/+x', payload: Buffer.from([qos, 0, 255]), qos, retain, origin: 'client-é', originUsername: 'bob',
          expiresAt: 9_000}
        const bytes = encodeNodeMessage('node-2', msg, ['$share/g/#'], 4_000)
        assert.equal(bytes[0], 5) // the version of plain messages
        const out = decodeNodeMessage(bytes, 2_000)
        assert.equal(out.sender, 'node-2')
        assert.deepEqual(out.groups, ['$share/g/#'])
        const {expiresAt, ...rest} = out.message
        assert.deepEqual(rest, {topic: 'été/ü/+x', payload: msg.payload, qos, retain, properties: undefined, origin: 'client-é', originUsername: 'bob',
          encoded: undefined, ack: undefined})
        assert.ok(expiresAt! > 6_000 && expiresAt! <= 7_000, String(expiresAt))
      }
    }
  })

  it('copies the payload out of the bytes it decodes', () => {
    const bytes = encodeNodeMessage('n', {topic: 't', payload: Buffer.from('abc'), qos: 1, retain: false}, [], 0)
    const out = decodeNodeMessage(bytes, 0)
    bytes.fill(0)
    assert.equal(out.message.payload.toString(), 'abc')
  })

  it('reads version 1, every message a v5 PUBLISH frame (retained messages stored by an earlier node)', () => {
    for (const properties of [{}, {contentType: 'a/b'}]) {
      const msg: Message = {topic: 'r/1', payload: Buffer.from('kept'), qos: 1, retain: true, origin: 'c', originUsername: null, properties}
      const v1 = encodeNodeMessage('old', msg, [], 0) // a frame: it has properties
      v1[0] = 1
      v1[1]! &= ~16 // version 1 had no frame flag
      const out = decodeNodeMessage(v1, 0)
      assert.equal(out.sender, 'old')
      assert.deepEqual({topic: out.message.topic, payload: out.message.payload.toString(), qos: out.message.qos, retain: out.message.retain,
        origin: out.message.origin, originUsername: out.message.originUsername, contentType: out.message.properties?.contentType},
      {topic: 'r/1', payload: 'kept', qos: 1, retain: true, origin: 'c', originUsername: null, contentType: properties.contentType})
    }
  })

  it('refuses bytes it cannot read', () => {
    assert.throws(() => decodeNodeMessage(Buffer.from([9, 0]), 0), /version/)
    assert.throws(() => decodeNodeMessage(Buffer.alloc(0), 0), /version/)
    const good = encodeNodeMessage('n', {topic: 't', payload: Buffer.from('x'), qos: 0, retain: false}, [], 0)
    assert.throws(() => decodeNodeMessage(good.subarray(0, 6), 0))
    // QoS 3 in the flags
    const qos3 = Buffer.from(good)
    qos3[1]! |= 0xc0
    assert.throws(() => decodeNodeMessage(qos3, 0), /QoS 3/)
    // cut anywhere before its payload: an error, never a crash or a message made of what lies beyond
    for (const msg of [
      {topic: 'a/b', payload: Buffer.from('xyz'), qos: 1, retain: false, origin: 'o', originUsername: 'u', expiresAt: 5},
      {topic: 'a/b', payload: Buffer.from('xyz'), qos: 1, retain: false, properties: {contentType: 'c'}},
    ] satisfies Message[]) {
      const bytes = encodeNodeMessage('n', msg, ['$share/g/a/b'], 0)
      const payloadAt = bytes.length - 3
      for (let cut = 0; cut < payloadAt; cut++) {
        // as a whole buffer, and as a part of a longer one (a batch) whose bytes after the end must not be read
        assert.throws(() => decodeNodeMessage(bytes.subarray(0, cut), 0), `cut at ${cut}`)
        assert.throws(() => decodeNodeMessage(bytes, 0, 0, cut), `cut at ${cut} of a longer buffer`)
      }
    }
    // random bytes after a valid version: a thrown error or a message, nothing else
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({length: 1 + (i % 40)}, () => Math.floor(Math.random() * 256)))
      junk[0] = i % 2 === 0 ? 1 : 5
      try {
        decodeNodeMessage(junk, 0)
      } catch (error) {
        assert.ok(error instanceof Error)
      }
    }
  })

  it('carries a batch of messages in order, and a single message as it is', () => {
    const msgs = ['a', 'b/c', 'd'].map((topic, i): Message => ({topic, payload: Buffer.from(`p${i}`), qos: 1, retain: false}))
    const encoded = msgs.map((m) => encodeNodeMessage('n1', m, i(m) === 1 ? ['$share/g/b/+'] : [], 0))
    const seen: Array<[string, string, readonly string[]]> = []
    forEachNodeMessage(encodeNodeBatch(encoded), (bytes, start, end) => {
      const out = decodeNodeMessage(bytes, 0, start, end)
      seen.push([out.message.topic, out.message.payload.toString(), out.groups])
    })
    assert.deepEqual(seen, [['a', 'p0', []], ['b/c', 'p1', ['$share/g/b/+']], ['d', 'p2', []]])
    const single: Buffer[] = []
    forEachNodeMessage(encoded[0]!, (bytes, start, end) => single.push(bytes.subarray(start, end)))
    assert.deepEqual(single, [encoded[0]])
    function i(m: Message): number { return msgs.indexOf(m) }
  })

  it('refuses a batch cut inside a message, after visiting the whole ones before it', () => {
    const one = encodeNodeMessage('n1', {topic: 't', payload: Buffer.from('x'), qos: 0, retain: false}, [], 0)
    const batch = encodeNodeBatch([one, one])
    const visited: Buffer[] = []
    assert.throws(() => forEachNodeMessage(batch.subarray(0, batch.length - 2), (b, s, e) => visited.push(b.subarray(s, e))), /ends inside a message/)
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
      forEachNodeMessage(frame.frame.payload, (b, s, e) => topics.push(decodeNodeMessage(b, 0, s, e).message.topic))
      assert.deepEqual(topics, messages.map((b) => decodeNodeMessage(b, 0).message.topic))
    }
    assert.deepEqual(decodeNodeFrame(encodeConfirm({from: 'node-b', epoch: 'e1', upTo: 2 ** 40, resend: true})),
      {kind: 'confirm', frame: {from: 'node-b', epoch: 'e1', upTo: 2 ** 40, resend: true}})
  })
})
