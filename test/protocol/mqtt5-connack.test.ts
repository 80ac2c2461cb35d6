import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {startBroker, Wire} from '../helpers/wire.js'

describe('v5 CONNACK properties reflect the configuration', () => {
  test('defaults are Mosquitto 2.1\'s: Receive Maximum 20, Topic Alias Maximum 10, Maximum Packet Size 2,000,000, nothing else announced', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    const ack = await w.connect()
    assert.deepEqual({...ack.properties}, {receiveMaximum: 20, topicAliasMaximum: 10, maximumPacketSize: 2_000_000})
  })

  test('every limit is announced when configured', async (t) => {
    const broker = startBroker(t, {
      receiveMaximum: 5, maxQos: 1, retainAvailable: false, maxPacketSize: 5000, topicAliasMaximum: 3,
      wildcardSubscriptionAvailable: false, subscriptionIdentifiersAvailable: false, sharedSubscriptionAvailable: false,
      maxKeepalive: 30, maxSessionExpiry: 60,
    })
    const w = new Wire(broker, 5)
    const ack = await w.connect({keepalive: 60, properties: {sessionExpiryInterval: 120}})
    assert.deepEqual({...ack.properties}, {
      receiveMaximum: 5, maximumQoS: 1, retainAvailable: false, maximumPacketSize: 5000, topicAliasMaximum: 3,
      wildcardSubscriptionAvailable: false, subscriptionIdentifiersAvailable: false, sharedSubscriptionAvailable: false,
      serverKeepAlive: 30, sessionExpiryInterval: 60,
    })
  })

  test('[MQTT-3.2.2-11] Maximum QoS 1: a QoS 2 PUBLISH gets DISCONNECT 0x9B; subscriptions are granted QoS 1', async (t) => {
    const broker = startBroker(t, {maxQos: 1})
    const w = new Wire(broker, 5)
    await w.connect()
    assert.deepEqual((await w.subscribe('t', 2)).granted, [1])
    w.publish('t', 'x', 2)
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.QoSNotSupported)
  })

  test('Maximum QoS 0: a QoS 1 PUBLISH gets DISCONNECT 0x9B', async (t) => {
    const broker = startBroker(t, {maxQos: 0})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.maximumQoS, 0)
    w.publish('t', 'x', 1)
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.QoSNotSupported)
  })

  test('[MQTT-3.2.2-12] a will QoS above the maximum is refused with CONNACK 0x9B', async (t) => {
    const broker = startBroker(t, {maxQos: 1})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect({will: {topic: 'w', payload: Buffer.from('x'), qos: 2, retain: false}})).reasonCode, ReasonCode.QoSNotSupported)
    await w.closed()
  })

  test('[MQTT-3.2.2-14] Retain Available 0: a retained PUBLISH gets DISCONNECT 0x9A; a will with retain, CONNACK 0x9A', async (t) => {
    const broker = startBroker(t, {retainAvailable: false})
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('t', 'x', 0, {retain: true})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.RetainNotSupported)
    const c = new Wire(broker, 5)
    assert.equal((await c.connect({will: {topic: 'w', payload: Buffer.from('x'), qos: 0, retain: true}})).reasonCode, ReasonCode.RetainNotSupported)
  })

  test('Wildcard Subscription Available 0: a wildcard filter gets SUBACK 0xA2', async (t) => {
    const broker = startBroker(t, {wildcardSubscriptionAvailable: false})
    const w = new Wire(broker, 5)
    await w.connect()
    assert.deepEqual((await w.subscribe(['a/+', 'a/#', 'a/b', '$share/g/+'], 0)).granted,
      [ReasonCode.WildcardSubscriptionsNotSupported, ReasonCode.WildcardSubscriptionsNotSupported, 0, ReasonCode.WildcardSubscriptionsNotSupported])
  })

  test('Topic Alias Maximum 0: aliases are refused with DISCONNECT 0x94', async (t) => {
    const broker = startBroker(t, {topicAliasMaximum: 0})
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('t', 'x', 0, {properties: {topicAlias: 1}})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.TopicAliasInvalid)
  })

  test('[MQTT-3.1.2-28] Response Information only when requested, with the client id filled in', async (t) => {
    const broker = startBroker(t, {responseInformation: 'responses/%c/'})
    const asked = new Wire(broker, 5)
    assert.equal((await asked.connect({clientId: 'me', properties: {requestResponseInformation: true}})).properties?.responseInformation, 'responses/me/')
    const not = new Wire(broker, 5)
    assert.equal((await not.connect({clientId: 'other'})).properties?.responseInformation, undefined)
  })

  test('Response Information is not offered unless configured', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    assert.equal((await w.connect({properties: {requestResponseInformation: true}})).properties?.responseInformation, undefined)
  })

  test('v3 clients get a plain CONNACK whatever the configuration', async (t) => {
    const broker = startBroker(t, {receiveMaximum: 5, maxQos: 1, topicAliasMaximum: 3})
    const w = new Wire(broker, 4)
    const ack = await w.connect()
    assert.equal(ack.properties, undefined)
    assert.equal(ack.returnCode, 0)
  })
})
