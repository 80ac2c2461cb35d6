import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

for (const v of VERSIONS) {
  describe(`DISCONNECT ${versionName(v)}`, () => {
    test('[MQTT-3.14.4-1] a client DISCONNECT closes the connection; the broker sends nothing back', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.send({cmd: 'disconnect'})
      await w.closed()
      assert.equal(w.buffered.length, 0)
      assert.equal(broker.connectionCount, 0)
      assert.equal(engineOf(broker).metrics.clientsConnected, 0)
    })

    test(`the broker shutting down ${v === 5 ? 'sends DISCONNECT 0x8B' : 'closes the connection'}`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      await broker.close()
      if (v === 5) {
        const d = await w.expect('disconnect')
        assert.equal(d.reasonCode, ReasonCode.ServerShuttingDown)
      }
      await w.closed()
      assert.equal(w.buffered.length, 0)
    })

    test('a connection that is closed gets no more packets', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 0)
      sub.send({cmd: 'disconnect'})
      await sub.closed()
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('t', 'x')
      await pub.quiet()
      assert.equal(sub.buffered.length, 0)
    })

    test('the broker accepts no connection once closed', async (t) => {
      const broker = startBroker(t)
      await broker.close()
      const w = new Wire(broker, v)
      await w.closed()
    })
  })
}

describe('DISCONNECT v5 only', () => {
  test('a server DISCONNECT carries a reason string', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0})
    const d = await w.expect('disconnect')
    assert.equal(d.reasonCode, ReasonCode.ProtocolError)
    assert.match(d.properties?.reasonString ?? '', /CONNECT/)
  })

  test('[MQTT-3.14.4-3] DISCONNECT 0x00 discards the will; an error reason code does not', async (t) => {
    const broker = startBroker(t)
    const watch = new Wire(broker, 5)
    await watch.connect({clientId: 'watch'})
    await watch.subscribe('will/#', 0)
    for (const [reasonCode, published] of [[0x00, false], [0x80, true], [0x04, true]] as const) {
      const c = new Wire(broker, 5)
      await c.connect({clientId: `c${reasonCode}`, will: {topic: `will/${reasonCode}`, payload: Buffer.from('x'), qos: 0, retain: false}})
      c.send({cmd: 'disconnect', reasonCode})
      await c.closed()
      if (published) assert.equal((await watch.expect('publish')).topic, `will/${reasonCode}`)
      await watch.quiet()
    }
  })

  test('[MQTT-3.14.2-2] DISCONNECT may change the session expiry interval', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect({clean: false, properties: {sessionExpiryInterval: 10}})
    w.send({cmd: 'disconnect', properties: {sessionExpiryInterval: 0}})
    await w.closed()
    assert.equal(engineOf(broker).sessions.size, 0, 'the session ended at once')
  })

  test('[MQTT-3.14.2-2] setting a session expiry on DISCONNECT when it was 0 at CONNECT is a protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect({properties: {sessionExpiryInterval: 0}})
    w.send({cmd: 'disconnect', properties: {sessionExpiryInterval: 60}})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
    await w.closed()
    assert.equal(engineOf(broker).sessions.size, 0)
  })

  test('a DISCONNECT with a reason string and user properties is accepted', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.send({cmd: 'disconnect', reasonCode: 0, properties: {reasonString: 'done', userProperties: {a: 'b'}}})
    await w.closed()
    assert.equal(w.buffered.length, 0)
  })
})
