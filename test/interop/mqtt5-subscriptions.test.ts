// Interop (mqtt npm package, v5): subscription options, subscription identifiers, shared subscriptions.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/index.js'
import {fixture, inbox, nextEvent, settle} from './mqtt5-helpers.js'

describe('mqtt.js v5: subscription options and shared subscriptions', () => {
  test('No Local, Retain As Published and Retain Handling', async (t) => {
    const f = await fixture(t)
    const c = await f.client({clientId: 'opts'})
    const box = inbox(c)
    await c.publishAsync('so/kept', 'retained', {qos: 1, retain: true})
    await c.subscribeAsync('so/kept', {qos: 1, rh: 2})
    await c.subscribeAsync('so/nl', {qos: 1, nl: true})
    await c.subscribeAsync('so/rap', {qos: 1, rap: true})
    await settle(c)
    assert.equal(box.pending.length, 0, 'rh 2: no retained message; nl: nothing yet')
    await c.publishAsync('so/nl', 'mine', {qos: 1})
    await c.publishAsync('so/rap', 'flagged', {qos: 1, retain: true})
    const m = await box.next()
    assert.equal(m.topic, 'so/rap')
    assert.equal(m.packet.retain, true)
    await c.subscribeAsync('so/+', {qos: 1, rh: 1})
    const retained = [await box.next(), await box.next()].map((x) => x.topic).sort()
    assert.deepEqual(retained, ['so/kept', 'so/rap'])
    await c.subscribeAsync('so/+', {qos: 1, rh: 1})
    await settle(c)
    assert.equal(box.pending.length, 0, 'rh 1: not again for an existing subscription')
  })

  test('Subscription Identifiers come with the messages they matched', async (t) => {
    const f = await fixture(t)
    const c = await f.client({clientId: 'ids'})
    const box = inbox(c)
    await c.subscribeAsync('si/a', {qos: 0, properties: {subscriptionIdentifier: 11}})
    await c.subscribeAsync('si/+', {qos: 0, properties: {subscriptionIdentifier: 22}})
    await c.publishAsync('si/a', 'both')
    const ids = (await box.next()).packet.properties?.subscriptionIdentifier
    assert.deepEqual((Array.isArray(ids) ? ids : [ids]).sort(), [11, 22])
    await c.publishAsync('si/b', 'one')
    assert.equal((await box.next()).packet.properties?.subscriptionIdentifier, 22)
  })

  test('No Local on a shared subscription: the connection is closed with a protocol error', async (t) => {
    const f = await fixture(t)
    const c = await f.client({clientId: 'bad'})
    const disconnected = nextEvent(c, 'disconnect')
    c.subscribeAsync('$share/g/x', {qos: 0, nl: true}).catch(() => undefined)
    assert.equal((await disconnected)[0].reasonCode, ReasonCode.ProtocolError)
  })

  test('a shared subscription spreads messages over its members, and no retained message is sent', async (t) => {
    const f = await fixture(t)
    const a = await f.client({clientId: 'a'})
    const b = await f.client({clientId: 'b'})
    const pub = await f.client({clientId: 'pub'})
    await pub.publishAsync('sh/r', 'old', {qos: 1, retain: true})
    await a.subscribeAsync('$share/workers/sh/#', {qos: 1})
    await b.subscribeAsync('$share/workers/sh/#', {qos: 1})
    for (let i = 0; i < 10; i++) await pub.publishAsync(`sh/${i}`, String(i), {qos: 1})
    await settle(a)
    await settle(b)
    const got = [...inbox(a).pending, ...inbox(b).pending].map((m) => m.payload.toString()).sort((x, y) => Number(x) - Number(y))
    assert.deepEqual(got, Array.from({length: 10}, (_, i) => String(i)))
    assert.ok(inbox(a).pending.length > 0 && inbox(b).pending.length > 0)
  })

  test('a QoS 1 message unacknowledged by a member that goes away is delivered to another member', async (t) => {
    const f = await fixture(t)
    const stuck = await f.client({clientId: 'stuck', customHandleAcks: () => undefined}) // never acknowledges
    await stuck.subscribeAsync('$share/g/job', {qos: 1})
    const pub = await f.client({clientId: 'pub'})
    await pub.publishAsync('job', 'work', {qos: 1})
    await settle(pub)
    const worker = await f.client({clientId: 'worker'})
    await worker.subscribeAsync('$share/g/job', {qos: 1})
    stuck.stream.destroy()
    const m = await inbox(worker).next()
    assert.equal(m.payload.toString(), 'work')
  })
})
