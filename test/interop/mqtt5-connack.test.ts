// Interop (mqtt npm package, v5): CONNACK properties reflect the configuration, and are enforced.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/index.js'
import {connack, fixture, nextEvent} from './mqtt5-helpers.js'

describe('mqtt.js v5: CONNACK properties', () => {
  test('Mosquitto 2.1\'s defaults: Receive Maximum 20, Topic Alias Maximum 10, Maximum Packet Size 2,000,000', async (t) => {
    const f = await fixture(t)
    const c = await f.client({clientId: 'c'})
    assert.deepEqual({...connack(c).properties}, {receiveMaximum: 20, topicAliasMaximum: 10, maximumPacketSize: 2_000_000})
  })

  test('configured limits are announced, with Server Keep Alive and the assigned client id', async (t) => {
    const f = await fixture(t, {receiveMaximum: 7, maxQos: 1, retainAvailable: false, maxPacketSize: 4096, topicAliasMaximum: 2,
      wildcardSubscriptionAvailable: false, subscriptionIdentifiersAvailable: false, sharedSubscriptionAvailable: false, maxKeepalive: 30})
    const c = await f.client({clientId: '', clean: true, keepalive: 120})
    const p = connack(c).properties
    assert.equal(p?.receiveMaximum, 7)
    assert.equal(p?.maximumQoS, 1)
    assert.equal(p?.retainAvailable, false)
    assert.equal(p?.maximumPacketSize, 4096)
    assert.equal(p?.topicAliasMaximum, 2)
    assert.equal(p?.wildcardSubscriptionAvailable, false)
    assert.equal(p?.subscriptionIdentifiersAvailable, false)
    assert.equal(p?.sharedSubscriptionAvailable, false)
    assert.equal(p?.serverKeepAlive, 30)
    assert.match(p?.assignedClientIdentifier ?? '', /^auto-/)
  })

  test('what is announced is enforced: QoS above the maximum gets DISCONNECT 0x9B', async (t) => {
    const f = await fixture(t, {maxQos: 1})
    const c = await f.client({clientId: 'c'})
    const disconnected = nextEvent(c, 'disconnect')
    c.publishAsync('t', 'x', {qos: 2}).catch(() => undefined)
    assert.equal((await disconnected)[0].reasonCode, ReasonCode.QoSNotSupported)
  })

  test('what is announced is enforced: retain when not available gets DISCONNECT 0x9A', async (t) => {
    const f = await fixture(t, {retainAvailable: false})
    const c = await f.client({clientId: 'c'})
    const disconnected = nextEvent(c, 'disconnect')
    c.publishAsync('t', 'x', {qos: 0, retain: true}).catch(() => undefined)
    assert.equal((await disconnected)[0].reasonCode, ReasonCode.RetainNotSupported)
  })

  test('a refused CONNECT: mqtt.js gets the v5 reason code', async (t) => {
    const f = await fixture(t, {auth: {authenticate: () => false}})
    await assert.rejects(f.client({clientId: 'c', username: 'u', password: 'p'}), (e: Error & {code?: number}) => e.code === ReasonCode.BadUserNameOrPassword)
  })
})
