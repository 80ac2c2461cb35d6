import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import type {Broker} from '../../src/broker/broker.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {startBroker, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const will = (delay: number) => ({will: {topic: 'will', payload: Buffer.from('gone'), qos: 0 as const, retain: false, properties: {willDelayInterval: delay}}})

async function setup(t: import('node:test').TestContext, delay: number, expiry: number) {
  const timers = new FakeTimers()
  const broker = startBroker(t, {timers})
  const watch = new Wire(broker, 5)
  await watch.connect({clientId: 'watch'})
  await watch.subscribe('will', 0)
  const c = new Wire(broker, 5)
  await c.connect({clientId: 'c', clean: false, properties: {sessionExpiryInterval: expiry}, ...will(delay)})
  return {timers, broker, watch, c}
}

async function connectAgain(broker: Broker, clean: boolean): Promise<Wire> {
  const w = new Wire(broker, 5)
  await w.connect({clientId: 'c', clean, properties: {sessionExpiryInterval: 60}})
  return w
}

describe('v5 Will Delay Interval', () => {
  test('[MQTT-3.1.3-9] the will is published after its delay', async (t) => {
    const {timers, watch, c} = await setup(t, 5, 60)
    c.end()
    await c.closed()
    timers.advance(4_999)
    await watch.quiet()
    timers.advance(1)
    const p = await watch.expect('publish')
    assert.equal(p.payload.toString(), 'gone')
    assert.equal((p.properties as Record<string, unknown> | undefined)?.willDelayInterval, undefined, 'the delay is not forwarded')
  })

  test('[MQTT-3.1.3-9] ... or when the session ends, whichever is first', async (t) => {
    const {timers, broker, watch, c} = await setup(t, 30, 10)
    c.end()
    await c.closed()
    timers.advance(9_999)
    await watch.quiet()
    timers.advance(1)
    assert.equal((await watch.expect('publish')).topic, 'will')
    assert.equal(engineOf(broker).sessions.has('c'), false)
    timers.advance(60_000)
    await watch.quiet()
  })

  test('[MQTT-3.1.3-9] a reconnect within the delay cancels the will', async (t) => {
    const {timers, broker, watch, c} = await setup(t, 5, 60)
    c.end()
    await c.closed()
    timers.advance(4_000)
    await connectAgain(broker, false)
    timers.advance(600_000)
    await watch.quiet()
  })

  test('a reconnect with clean start ends the session, so the will goes out at once', async (t) => {
    const {timers, broker, watch, c} = await setup(t, 5, 60)
    c.end()
    await c.closed()
    timers.advance(1_000)
    await connectAgain(broker, true)
    assert.equal((await watch.expect('publish')).topic, 'will')
    timers.advance(600_000)
    await watch.quiet()
  })

  test('a session expiry of 0 publishes the will at close, whatever the delay', async (t) => {
    const {watch, c} = await setup(t, 5, 0)
    c.end()
    assert.equal((await watch.expect('publish')).topic, 'will')
  })

  test('[MQTT-3.14.4-3] DISCONNECT 0x04 publishes the will after its delay', async (t) => {
    const {timers, watch, c} = await setup(t, 5, 60)
    c.send({cmd: 'disconnect', reasonCode: ReasonCode.DisconnectWithWill})
    await c.closed()
    timers.advance(4_999)
    await watch.quiet()
    timers.advance(1)
    assert.equal((await watch.expect('publish')).topic, 'will')
  })

  test('a takeover with clean start 0 keeps the session: a delayed will is not sent', async (t) => {
    const {timers, broker, watch, c} = await setup(t, 5, 60)
    await connectAgain(broker, false)
    await c.closed()
    timers.advance(600_000)
    await watch.quiet()
  })

  test('a takeover with clean start 1 ends the session: the will is sent', async (t) => {
    const {broker, watch, c} = await setup(t, 5, 60)
    await connectAgain(broker, true)
    await c.closed()
    assert.equal((await watch.expect('publish')).topic, 'will')
  })

  test('a broker shutting down clears delayed wills', async (t) => {
    const {timers, broker, c} = await setup(t, 5, 60)
    c.end()
    await c.closed()
    await broker.close()
    const published: string[] = []
    const publish = engineOf(broker).publish.bind(broker)
    engineOf(broker).publish = (m) => { published.push(m.topic); return publish(m) }
    timers.advance(600_000)
    assert.deepEqual(published, [])
  })
})
