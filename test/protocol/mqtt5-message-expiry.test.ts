import assert from 'node:assert/strict'
import {describe, test, type TestContext} from 'node:test'
import type {ProtocolVersion} from '../../src/codec/index.js'
import type {Broker} from '../../src/broker/broker.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {startBroker, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

async function offline(broker: Broker, v: ProtocolVersion = 5): Promise<void> {
  const s = new Wire(broker, v)
  await s.connect({clientId: 's', clean: false, ...(v === 5 ? {properties: {sessionExpiryInterval: 3600}} : {})})
  await s.subscribe('t', 1)
  s.send({cmd: 'disconnect'})
  await s.closed()
}

async function back(broker: Broker, v: ProtocolVersion = 5): Promise<Wire> {
  const s = new Wire(broker, v)
  assert.equal((await s.connect({clientId: 's', clean: false, ...(v === 5 ? {properties: {sessionExpiryInterval: 3600}} : {})})).sessionPresent, true)
  return s
}

async function setup(t: TestContext, options = {}) {
  const timers = new FakeTimers()
  const broker = startBroker(t, {timers, ...options})
  const pub = new Wire(broker, 5)
  await pub.connect({clientId: 'pub'})
  const send = async (payload: string, expiry?: number, extra = {}) => {
    pub.publish('t', payload, 1, {properties: expiry === undefined ? undefined : {messageExpiryInterval: expiry}, ...extra})
    await pub.expect('puback')
  }
  return {timers, broker, pub, send}
}

describe('v5 Message Expiry Interval', () => {
  test('[MQTT-3.3.2-5] a queued message that expires is never delivered (and the drop is counted)', async (t) => {
    const {timers, broker, send} = await setup(t)
    await offline(broker)
    await send('stale', 10)
    await send('fresh')
    timers.advance(10_000)
    const s = await back(broker)
    assert.equal((await s.expect('publish')).payload.toString(), 'fresh')
    await s.quiet()
    assert.equal(engineOf(broker).metrics.dropped.expired, 1)
  })

  test('[MQTT-3.3.2-6] a message that waited is forwarded with the time it has left', async (t) => {
    const {timers, broker, send} = await setup(t)
    await offline(broker)
    await send('m', 10)
    timers.advance(4_000)
    const s = await back(broker)
    assert.equal((await s.expect('publish')).properties?.messageExpiryInterval, 6)
  })

  test('a message delivered at once keeps its interval', async (t) => {
    const {broker, send} = await setup(t)
    const s = new Wire(broker, 5)
    await s.connect({clientId: 's'})
    await s.subscribe('t', 0)
    await send('m', 10)
    assert.equal((await s.expect('publish')).properties?.messageExpiryInterval, 10)
  })

  test('a message waiting behind a full inflight window expires there', async (t) => {
    const {timers, broker, send} = await setup(t)
    const s = new Wire(broker, 5)
    await s.connect({clientId: 's', properties: {receiveMaximum: 1}})
    await s.subscribe('t', 1)
    await send('first')
    await send('waits', 5)
    await send('last')
    const first = await s.expect('publish')
    await s.quiet()
    timers.advance(5_000)
    s.send({cmd: 'puback', messageId: first.messageId})
    const next = await s.expect('publish')
    assert.equal(next.payload.toString(), 'last')
  })

  test('[MQTT-3.3.2-5] retained messages expire: sent with the time left, then no more, and removed', async (t) => {
    const {timers, broker, send} = await setup(t)
    await send('r', 10, {retain: true})
    timers.advance(4_000)
    const a = new Wire(broker, 5)
    await a.connect({clientId: 'a'})
    await a.subscribe('t', 1)
    const p = await a.expect('publish')
    assert.equal(p.retain, true)
    assert.equal(p.properties?.messageExpiryInterval, 6)
    timers.advance(6_000)
    const b = new Wire(broker, 5)
    await b.connect({clientId: 'b'})
    await b.subscribe('t', 1)
    await b.quiet()
    assert.equal(engineOf(broker).retained.size, 0)
  })

  test('expired messages make room in a full queue before anything new is dropped', async (t) => {
    const {timers, broker, send} = await setup(t, {maxQueuedMessages: 2})
    await offline(broker)
    await send('a', 1)
    await send('b', 1)
    timers.advance(1_000)
    await send('c')
    assert.equal(engineOf(broker).metrics.dropped['queue-full'] ?? 0, 0)
    const s = await back(broker)
    assert.equal((await s.expect('publish')).payload.toString(), 'c')
    await s.quiet()
  })

  test('a v3 subscriber does not get expired messages either (and sees no property)', async (t) => {
    const {timers, broker, send} = await setup(t)
    await offline(broker, 4)
    await send('stale', 10)
    await send('fresh', 100)
    timers.advance(10_000)
    const s = await back(broker, 4)
    const p = await s.expect('publish')
    assert.equal(p.payload.toString(), 'fresh')
    assert.equal(p.properties, undefined)
    await s.quiet()
  })

  test('a message already sent is completed after expiry (resent with DUP on resume)', async (t) => {
    const {timers, broker, send} = await setup(t)
    const s = new Wire(broker, 5)
    await s.connect({clientId: 's', clean: false, properties: {sessionExpiryInterval: 3600}})
    await s.subscribe('t', 1)
    await send('m', 5)
    const first = await s.expect('publish')
    s.end()
    await s.closed()
    timers.advance(10_000)
    const again = await back(broker)
    const p = await again.expect('publish')
    assert.equal(p.messageId, first.messageId)
    assert.equal(p.dup, true)
  })

  test('a will\'s Message Expiry Interval applies to the published will', async (t) => {
    const {timers, broker} = await setup(t)
    const c = new Wire(broker, 5)
    await c.connect({clientId: 'c', will: {topic: 'w', payload: Buffer.from('x'), qos: 1, retain: true, properties: {messageExpiryInterval: 10}}})
    c.end()
    await c.closed()
    timers.advance(3_000)
    const s = new Wire(broker, 5)
    await s.connect({clientId: 'sub'})
    await s.subscribe('w', 1)
    assert.equal((await s.expect('publish')).properties?.messageExpiryInterval, 7)
  })
})
