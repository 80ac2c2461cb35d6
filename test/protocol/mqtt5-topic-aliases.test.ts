import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type PublishPacket} from '../../src/codec/index.js'
import {frame, hex, startBroker, str, Wire} from '../helpers/wire.js'

describe('v5 topic aliases from the client', () => {
  test('[MQTT-3.3.2-12] an alias set with a topic then stands for it', async (t) => {
    const broker = startBroker(t)
    const sub = new Wire(broker, 5)
    await sub.connect({clientId: 'sub'})
    await sub.subscribe('long/topic/name', 0)
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('long/topic/name', 'one', 0, {properties: {topicAlias: 3}})
    w.sendRaw(frame(0x30, Buffer.concat([str(''), hex('03 23 0003'), Buffer.from('two')])))
    assert.equal((await sub.expect('publish')).payload.toString(), 'one')
    const p = await sub.expect('publish')
    assert.equal(p.topic, 'long/topic/name')
    assert.equal(p.payload.toString(), 'two')
    assert.equal(p.properties?.topicAlias, undefined, 'the publisher\'s alias is not forwarded')
  })

  test('an alias can be remapped to another topic', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    await w.subscribe(['a', 'b'], 0)
    w.publish('a', '1', 0, {properties: {topicAlias: 1}})
    w.publish('b', '2', 0, {properties: {topicAlias: 1}})
    w.sendRaw(frame(0x30, Buffer.concat([str(''), hex('03 23 0001'), Buffer.from('3')])))
    const topics = [await w.expect('publish'), await w.expect('publish'), await w.expect('publish')].map((p) => p.topic)
    assert.deepEqual(topics, ['a', 'b', 'b'])
  })

  test('[MQTT-3.3.2-9] an alias above our Topic Alias Maximum: DISCONNECT 0x94', async (t) => {
    const broker = startBroker(t, {topicAliasMaximum: 5})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.topicAliasMaximum, 5)
    w.publish('a', 'x', 0, {properties: {topicAlias: 6}})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.TopicAliasInvalid)
  })

  test('[MQTT-3.3.2-8] alias 0: DISCONNECT 0x94', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x30, Buffer.concat([str('a'), hex('03 23 0000'), Buffer.from('x')])))
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.TopicAliasInvalid)
  })

  test('an alias that was never set, with an empty topic: protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x30, Buffer.concat([str(''), hex('03 23 0002'), Buffer.from('x')])))
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
  })

  test('[MQTT-3.3.2-7] aliases do not carry over to a new connection', async (t) => {
    const broker = startBroker(t)
    const a = new Wire(broker, 5)
    await a.connect({clientId: 'x', clean: false, properties: {sessionExpiryInterval: 60}})
    a.publish('t', 'x', 0, {properties: {topicAlias: 1}})
    a.send({cmd: 'disconnect'})
    await a.closed()
    const b = new Wire(broker, 5)
    await b.connect({clientId: 'x', clean: false, properties: {sessionExpiryInterval: 60}})
    b.sendRaw(frame(0x30, Buffer.concat([str(''), hex('03 23 0001'), Buffer.from('x')])))
    assert.equal((await b.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
  })
})

describe('v5 topic aliases to the client (option outboundTopicAliases)', () => {
  test('off by default: no aliases even when the client accepts them', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect({properties: {topicAliasMaximum: 10}})
    await w.subscribe('t', 0)
    w.publish('t', '1')
    w.publish('t', '2')
    for (let i = 0; i < 2; i++) {
      const p = await w.expect('publish')
      assert.equal(p.topic, 't')
      assert.equal(p.properties?.topicAlias, undefined)
    }
  })

  test('[MQTT-3.3.2-11] on: the first message maps the topic, later ones send the alias alone, never above the client\'s maximum', async (t) => {
    const broker = startBroker(t, {outboundTopicAliases: true})
    const w = new Wire(broker, 5)
    await w.connect({properties: {topicAliasMaximum: 2}})
    await w.subscribe('#', 1)
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    const seen: Array<[string, number | undefined]> = []
    const mapping = new Map<number, string>()
    for (const topic of ['a/long/topic', 'a/long/topic', 'b', 'a/long/topic', 'c', 'b', 'c', 'a/long/topic']) {
      pub.publish(topic, topic, 1)
      await pub.expect('puback')
      const p: PublishPacket = await w.expect('publish')
      const alias = p.properties?.topicAlias
      assert.ok(alias !== undefined && alias >= 1 && alias <= 2, `alias ${alias}`)
      if (p.topic !== '') mapping.set(alias, p.topic)
      const resolved = p.topic === '' ? mapping.get(alias) : p.topic
      assert.equal(resolved, p.payload.toString(), 'every alias resolves to the topic published')
      seen.push([p.topic, alias])
      await w.ack(p)
    }
    assert.deepEqual(seen.slice(0, 3), [['a/long/topic', 1], ['', 1], ['b', 2]])
    assert.ok(seen.filter(([topic]) => topic === '').length >= 3, 'aliases are reused')
  })

  test('no aliases to a client that does not accept them (Topic Alias Maximum absent)', async (t) => {
    const broker = startBroker(t, {outboundTopicAliases: true})
    const w = new Wire(broker, 5)
    await w.connect()
    await w.subscribe('t', 0)
    w.publish('t', '1')
    w.publish('t', '2')
    for (let i = 0; i < 2; i++) assert.equal((await w.expect('publish')).properties?.topicAlias, undefined)
  })

  test('[MQTT-3.3.2-7] a new connection starts without mappings: a resent message carries its topic', async (t) => {
    const broker = startBroker(t, {outboundTopicAliases: true})
    const a = new Wire(broker, 5)
    await a.connect({clientId: 's', clean: false, properties: {sessionExpiryInterval: 60, topicAliasMaximum: 5}})
    await a.subscribe('t', 1)
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    pub.publish('t', '1', 1)
    await pub.expect('puback')
    await a.ack(await a.expect('publish'))
    pub.publish('t', '2', 1)
    await pub.expect('puback')
    const second = await a.expect('publish')
    assert.equal(second.topic, '')
    a.end()
    await a.closed()
    const b = new Wire(broker, 5)
    await b.connect({clientId: 's', clean: false, properties: {sessionExpiryInterval: 60, topicAliasMaximum: 5}})
    const again = await b.expect('publish')
    assert.equal(again.dup, true)
    assert.equal(again.topic, 't')
  })

  test('v3 subscribers are unaffected', async (t) => {
    const broker = startBroker(t, {outboundTopicAliases: true})
    const w = new Wire(broker, 4)
    await w.connect()
    await w.subscribe('t', 0)
    w.publish('t', '1')
    w.publish('t', '2')
    for (let i = 0; i < 2; i++) assert.equal((await w.expect('publish')).topic, 't')
  })
})
