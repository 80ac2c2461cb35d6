// Interop (mqtt npm package, v5): Session Expiry Interval, Will Delay Interval and Message Expiry Interval.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {FakeTimers} from '../helpers/fake-timers.js'
import {connack, fixture, inbox, nextEvent, settle} from './mqtt5-helpers.js'
import {engineOf} from '../../src/broker/internal.js'

describe('mqtt.js v5: session expiry, will delay, message expiry', () => {
  test('a session with an expiry interval keeps subscriptions and QoS 1 messages, then expires', async (t) => {
    const timers = new FakeTimers()
    const f = await fixture(t, {timers, maxSessionExpiry: 300})
    const opts = {clientId: 'persist', clean: false, properties: {sessionExpiryInterval: 3600}}
    const a = await f.client(opts)
    assert.equal(connack(a).properties?.sessionExpiryInterval, 300, 'the broker maximum is announced')
    await a.subscribeAsync('se/t', {qos: 1})
    await a.endAsync()
    const pub = await f.client({clientId: 'pub'})
    await pub.publishAsync('se/t', 'while away', {qos: 1})
    const b = await f.client(opts)
    assert.equal(connack(b).sessionPresent, true)
    const box = inbox(b)
    const m = await box.next()
    assert.equal(m.payload.toString(), 'while away')
    await b.endAsync()
    timers.advance(300_000)
    assert.equal(engineOf(f.broker).sessions.has('persist'), false)
    const c = await f.client(opts)
    assert.equal(connack(c).sessionPresent, false)
  })

  test('DISCONNECT with Session Expiry Interval 0 ends the session', async (t) => {
    const f = await fixture(t)
    const a = await f.client({clientId: 'short', clean: false, properties: {sessionExpiryInterval: 600}})
    await a.endAsync({reasonCode: 0, properties: {sessionExpiryInterval: 0}})
    const b = await f.client({clientId: 'short', clean: false, properties: {sessionExpiryInterval: 600}})
    assert.equal(connack(b).sessionPresent, false)
  })

  test('a will with a delay is published after the delay, and a reconnect in time cancels it', async (t) => {
    const timers = new FakeTimers()
    const f = await fixture(t, {timers})
    const watch = await f.client({clientId: 'watch'})
    await watch.subscribeAsync('wd/#', {qos: 1})
    const box = inbox(watch)
    const will = (name: string) => ({clientId: name, clean: false, properties: {sessionExpiryInterval: 600},
      will: {topic: `wd/${name}`, payload: Buffer.from('gone'), qos: 1 as const, retain: false, properties: {willDelayInterval: 10}}})
    const late = await f.client(will('late'))
    const back = await f.client(will('back'))
    late.stream.destroy()
    back.stream.destroy()
    await Promise.all([nextEvent(late, 'close'), nextEvent(back, 'close')])
    await settle(watch)
    timers.advance(5_000)
    await f.client({...will('back'), clientId: 'back'})
    timers.advance(5_000)
    const m = await box.next()
    assert.equal(m.topic, 'wd/late')
    timers.advance(60_000)
    await settle(watch)
    assert.deepEqual(box.pending.map((x) => x.topic), [])
  })

  test('DISCONNECT 0x04 publishes the will', async (t) => {
    const f = await fixture(t)
    const watch = await f.client({clientId: 'watch'})
    await watch.subscribeAsync('w4', {qos: 0})
    const box = inbox(watch)
    const c = await f.client({clientId: 'c4', will: {topic: 'w4', payload: Buffer.from('bye'), qos: 0, retain: false}})
    await c.endAsync({reasonCode: 4})
    assert.equal((await box.next()).payload.toString(), 'bye')
  })

  test('a queued message is delivered with the time it has left, an expired one not at all', async (t) => {
    const timers = new FakeTimers()
    const f = await fixture(t, {timers})
    const opts = {clientId: 'mx', clean: false, properties: {sessionExpiryInterval: 600}}
    const a = await f.client(opts)
    await a.subscribeAsync('mx/#', {qos: 1})
    await a.endAsync()
    const pub = await f.client({clientId: 'pub'})
    await pub.publishAsync('mx/short', 'short', {qos: 1, properties: {messageExpiryInterval: 5}})
    await pub.publishAsync('mx/long', 'long', {qos: 1, properties: {messageExpiryInterval: 60}})
    timers.advance(10_000)
    const b = await f.client(opts)
    const box = inbox(b)
    const m = await box.next()
    assert.equal(m.topic, 'mx/long')
    assert.equal(m.packet.properties?.messageExpiryInterval, 50)
    await settle(b)
    assert.equal(box.pending.length, 0)
  })
})
