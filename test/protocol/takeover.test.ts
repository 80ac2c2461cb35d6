import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type ProtocolVersion} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const persistent = (v: ProtocolVersion) => (v === 5 ? {clean: false, properties: {sessionExpiryInterval: 60}} : {clean: false})

for (const v of VERSIONS) {
  describe(`client takeover ${versionName(v)}`, () => {
    test(`[MQTT-3.1.4-2] the same client id closes the old connection${v === 5 ? ' with DISCONNECT 0x8E' : ''}`, async (t) => {
      const broker = startBroker(t)
      const old = new Wire(broker, v)
      await old.connect({clientId: 'dup'})
      const neu = new Wire(broker, v)
      assert.equal((await neu.connect({clientId: 'dup'})).returnCode ?? 0, 0)
      if (v === 5) {
        const d = await old.expect('disconnect')
        assert.equal(d.reasonCode, ReasonCode.SessionTakenOver)
      }
      await old.closed()
      assert.equal(old.buffered.length, 0)
      await neu.quiet()
      assert.equal(broker.connectionCount, 1)
      assert.equal(engineOf(broker).metrics.clientsConnected, 1)
    })

    test('a persistent session moves to the new connection: subscriptions kept, session present', async (t) => {
      const broker = startBroker(t)
      const old = new Wire(broker, v)
      await old.connect({clientId: 'dup', ...persistent(v)})
      await old.subscribe('t', 1)
      const neu = new Wire(broker, v)
      assert.equal((await neu.connect({clientId: 'dup', ...persistent(v)})).sessionPresent, true)
      await old.closed()
      neu.publish('t', 'x', 0)
      assert.equal((await neu.expect('publish')).payload.toString(), 'x')
      assert.equal(engineOf(broker).sessions.size, 1)
    })

    test('takeover with clean session starts afresh', async (t) => {
      const broker = startBroker(t)
      const old = new Wire(broker, v)
      await old.connect({clientId: 'dup', ...persistent(v)})
      await old.subscribe('t', 1)
      const neu = new Wire(broker, v)
      assert.equal((await neu.connect({clientId: 'dup', clean: true})).sessionPresent, false)
      await old.closed()
      neu.publish('t', 'x', 0)
      await neu.quiet()
      assert.equal(engineOf(broker).router.size, 0)
    })

    test('messages in flight to the old connection are resent to the new one', async (t) => {
      const broker = startBroker(t)
      const old = new Wire(broker, v)
      await old.connect({clientId: 'dup', ...persistent(v)})
      await old.subscribe('t', 1)
      old.publish('t', 'x', 1)
      const first = (await old.take(2)).find((p) => p.cmd === 'publish')!
      const neu = new Wire(broker, v)
      await neu.connect({clientId: 'dup', ...persistent(v)})
      const again = await neu.expect('publish')
      assert.equal(again.messageId, first.messageId)
      assert.equal(again.dup, true)
    })

    test('the old connection is gone for good: packets it still sends are ignored', async (t) => {
      const broker = startBroker(t)
      const old = new Wire(broker, v)
      await old.connect({clientId: 'dup'})
      const neu = new Wire(broker, v)
      await neu.connect({clientId: 'dup'})
      await neu.subscribe('t', 0)
      old.publish('t', 'late')
      await old.closed()
      await neu.quiet()
    })

    test('a v3.1.1 connection taken over by a v5 one and back', async (t) => {
      const broker = startBroker(t)
      const other = v === 5 ? 4 : 5
      const a = new Wire(broker, v)
      await a.connect({clientId: 'x'})
      const b = new Wire(broker, other)
      await b.connect({clientId: 'x'})
      await a.closed()
      const c = new Wire(broker, v)
      await c.connect({clientId: 'x'})
      if (other === 5) assert.equal((await b.expect('disconnect')).reasonCode, ReasonCode.SessionTakenOver)
      await b.closed()
      await c.quiet()
    })

    test('the broker emits clientDisconnected for the old and clientConnected for the new', async (t) => {
      const broker = startBroker(t)
      const events: string[] = []
      broker.events.on('clientConnected', (e) => events.push(`up ${e.clientId}`))
      broker.events.on('clientDisconnected', (e) => events.push(`down ${e.clientId}`))
      const old = new Wire(broker, v)
      await old.connect({clientId: 'dup'})
      const neu = new Wire(broker, v)
      await neu.connect({clientId: 'dup'})
      await old.closed()
      assert.deepEqual(events, ['up dup', 'down dup', 'up dup'])
    })
  })
}
