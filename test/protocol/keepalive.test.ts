import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

for (const v of VERSIONS) {
  describe(`keepalive ${versionName(v)}`, () => {
    test(`[MQTT-3.1.2-24] closed after 1.5 x keepalive of silence${v === 5 ? ' (DISCONNECT 0x8D)' : ''}`, async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const w = new Wire(broker, v)
      await w.connect({keepalive: 10})
      timers.advance(14_999)
      await new Promise((r) => setImmediate(r))
      assert.equal(w.isClosed, false)
      assert.equal(w.buffered.length, 0)
      timers.advance(1)
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.KeepAliveTimeout)
      await w.closed()
    })

    test('[MQTT-3.12.4-1] PINGREQ gets PINGRESP and keeps the connection alive', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const w = new Wire(broker, v)
      await w.connect({keepalive: 10})
      for (let i = 0; i < 5; i++) {
        timers.advance(14_000)
        w.send({cmd: 'pingreq'})
        await w.expect('pingresp')
      }
      timers.advance(14_999)
      await w.quiet()
      assert.equal(w.isClosed, false)
    })

    test('any packet counts as activity', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const w = new Wire(broker, v)
      await w.connect({keepalive: 2})
      for (let i = 0; i < 5; i++) {
        timers.advance(2_900)
        await w.subscribe('t', 0)
      }
      timers.advance(2_999)
      await new Promise((r) => setImmediate(r))
      assert.equal(w.isClosed, false)
      timers.advance(1)
      await w.closed()
    })

    test('keepalive 0 turns the mechanism off', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const w = new Wire(broker, v)
      await w.connect({keepalive: 0})
      timers.advance(10 * 24 * 3600 * 1000)
      await w.quiet()
    })

    test('the keepalive of one client does not affect another', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const a = new Wire(broker, v)
      await a.connect({clientId: 'a', keepalive: 1})
      const b = new Wire(broker, v)
      await b.connect({clientId: 'b', keepalive: 100})
      timers.advance(1500)
      await a.closed()
      await b.quiet()
    })

    test('a keepalive timeout ends a clean session and keeps a persistent one', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const a = new Wire(broker, v)
      await a.connect({clientId: 'a', keepalive: 1})
      const b = new Wire(broker, v)
      await b.connect({clientId: 'b', keepalive: 1, clean: false, ...(v === 5 ? {properties: {sessionExpiryInterval: 600}} : {})})
      timers.advance(1500)
      await a.closed()
      await b.closed()
      assert.deepEqual([...engineOf(broker).sessions.keys()], ['b'])
    })
  })
}

describe('keepalive v5 only', () => {
  test('[MQTT-3.2.2-21] a broker maximum lowers the keepalive and is announced as Server Keep Alive', async (t) => {
    const timers = new FakeTimers()
    const broker = startBroker(t, {timers, maxKeepalive: 20})
    const w = new Wire(broker, 5)
    const ack = await w.connect({keepalive: 60})
    assert.equal(ack.properties?.serverKeepAlive, 20)
    timers.advance(29_999)
    await w.quiet()
    timers.advance(30_000)
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.KeepAliveTimeout)
  })

  test('keepalive 0 with a broker maximum gets the maximum', async (t) => {
    const broker = startBroker(t, {maxKeepalive: 20})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect({keepalive: 0})).properties?.serverKeepAlive, 20)
  })

  test('a keepalive within the maximum is not announced', async (t) => {
    const broker = startBroker(t, {maxKeepalive: 20})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect({keepalive: 10})).properties?.serverKeepAlive, undefined)
  })
})

describe('keepalive v3', () => {
  for (const v of [3, 4] as const) {
    test(`${versionName(v)}: a keepalive above the broker maximum is refused with 0x02 (as Mosquitto does)`, async (t) => {
      const broker = startBroker(t, {maxKeepalive: 20})
      const w = new Wire(broker, v)
      assert.equal((await w.connect({keepalive: 21})).returnCode, 2)
      await w.closed()
      const z = new Wire(broker, v)
      assert.equal((await z.connect({keepalive: 0})).returnCode, 2)
      const ok = new Wire(broker, v)
      assert.equal((await ok.connect({keepalive: 20})).returnCode, 0)
    })
  }
})
