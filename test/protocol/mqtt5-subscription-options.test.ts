import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type PublishPacket} from '../../src/codec/index.js'
import {frame, hex, startBroker, str, Wire} from '../helpers/wire.js'

describe('v5 subscription options', () => {
  test('[MQTT-3.8.3-3] No Local: a client\'s own messages are not sent back to it', async (t) => {
    const broker = startBroker(t)
    const a = new Wire(broker, 5)
    await a.connect({clientId: 'a'})
    await a.subscribe([{topic: 't', qos: 0, nl: true}])
    const b = new Wire(broker, 5)
    await b.connect({clientId: 'b'})
    await b.subscribe([{topic: 't', qos: 0, nl: true}])
    a.publish('t', 'from a')
    assert.equal((await b.expect('publish')).payload.toString(), 'from a')
    await a.quiet()
  })

  test('No Local on one of two overlapping subscriptions: the other still delivers', async (t) => {
    const broker = startBroker(t)
    const a = new Wire(broker, 5)
    await a.connect({clientId: 'a'})
    await a.subscribe([{topic: 't', qos: 0, nl: true}, {topic: '#', qos: 0}])
    a.publish('t', 'x')
    assert.equal((await a.expect('publish')).payload.toString(), 'x')
    await a.quiet()
  })

  test('Retain As Published: RETAIN is kept on live messages when asked, cleared otherwise', async (t) => {
    const broker = startBroker(t)
    const rap = new Wire(broker, 5)
    await rap.connect({clientId: 'rap'})
    await rap.subscribe([{topic: 't', qos: 0, rap: true}])
    const plain = new Wire(broker, 5)
    await plain.connect({clientId: 'plain'})
    await plain.subscribe([{topic: 't', qos: 0, rap: false}])
    const v3 = new Wire(broker, 4)
    await v3.connect({clientId: 'v3'})
    await v3.subscribe('t', 0)
    plain.publish('t', 'r', 0, {retain: true})
    assert.equal((await rap.expect('publish')).retain, true)
    assert.equal((await plain.expect('publish')).retain, false)
    assert.equal((await v3.expect('publish')).retain, false)
    plain.publish('t', 'n', 0)
    assert.equal((await rap.expect('publish')).retain, false)
  })

  test('Retain Handling 0: retained messages on every subscribe; 1: only on a new subscription; 2: never', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('r/a', 'x', 0, {retain: true})
    w.publish('s/a', 'y', 0, {retain: true})
    w.publish('u/a', 'z', 0, {retain: true})
    for (let i = 0; i < 2; i++) {
      await w.subscribe([{topic: 'r/+', qos: 0, rh: 0}])
      assert.equal((await w.expect('publish')).topic, 'r/a')
    }
    await w.subscribe([{topic: 's/+', qos: 0, rh: 1}])
    assert.equal((await w.expect('publish')).topic, 's/a')
    await w.subscribe([{topic: 's/+', qos: 1, rh: 1}])
    await w.quiet()
    await w.subscribe([{topic: 'u/+', qos: 0, rh: 2}])
    await w.quiet()
  })

  test('Retain Handling 3 is a Protocol Error (v5 3.8.3.1)', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x82, Buffer.concat([hex('0001 00'), str('a'), hex('30')])))
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
  })

  test('[MQTT-3.3.4-3] a Subscription Identifier comes with every message the subscription matched', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    await w.subscribe([{topic: 'a/+', qos: 0}], 0, {properties: {subscriptionIdentifier: 7}})
    await w.subscribe([{topic: 'a/b', qos: 1}], 0, {properties: {subscriptionIdentifier: 300_000}})
    await w.subscribe([{topic: '#', qos: 0}])
    w.publish('a/b', 'x')
    const p = await w.expect('publish')
    const ids = p.properties?.subscriptionIdentifier
    assert.deepEqual((Array.isArray(ids) ? ids : [ids]).sort((x, y) => x! - y!), [7, 300_000])
    w.publish('a/c', 'y')
    assert.equal((await w.expect('publish')).properties?.subscriptionIdentifier, 7)
    w.publish('z', 'z')
    assert.equal((await w.expect('publish')).properties?.subscriptionIdentifier, undefined)
  })

  test('a Subscription Identifier is sent with retained messages too, and survives replacing the subscription', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('r', 'x', 0, {retain: true})
    await w.subscribe('r', 0, {properties: {subscriptionIdentifier: 5}})
    assert.equal((await w.expect('publish')).properties?.subscriptionIdentifier, 5)
    await w.subscribe('r', 0, {properties: {subscriptionIdentifier: 6}})
    assert.equal((await w.expect('publish')).properties?.subscriptionIdentifier, 6)
    await w.subscribe('r', 0)
    const p: PublishPacket = await w.expect('publish')
    assert.equal(p.properties?.subscriptionIdentifier, undefined, '[MQTT-3.8.4-?] a replacing subscription without an id has none')
  })

  test('Subscription Identifier 0 is a protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.sendRaw(frame(0x82, Buffer.concat([hex('0001 02 0b00'), str('a'), hex('00')])))
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
  })

  test('[MQTT-3.2.2-?] Subscription Identifiers not available: announced, and a SUBSCRIBE with one gets DISCONNECT 0xA1', async (t) => {
    const broker = startBroker(t, {subscriptionIdentifiersAvailable: false})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.subscriptionIdentifiersAvailable, false)
    w.send({cmd: 'subscribe', messageId: 1, subscriptions: [{topic: 'a', qos: 0}], properties: {subscriptionIdentifier: 1}})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.SubscriptionIdentifiersNotSupported)
  })

  test('[MQTT-3.8.3-4] No Local on a shared subscription is a protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.send({cmd: 'subscribe', messageId: 1, subscriptions: [{topic: '$share/g/t', qos: 0, nl: true}]})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
  })

  test('v3.1.1 subscriptions keep the v3 rules (own messages come back, retain cleared)', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    await w.connect()
    await w.subscribe('t', 0)
    w.publish('t', 'x', 0, {retain: true})
    const p = await w.expect('publish')
    assert.equal(p.retain, false)
  })
})
