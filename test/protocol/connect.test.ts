import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, V3ConnackCode} from '../../src/codec/index.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {ALL_VERSIONS, connackCode, hex, rawConnect, startBroker, str, versionName, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const v3Code = (v: number, v3: number, v5: number) => (v === 5 ? v5 : v3)

/** [MQTT-3.1.4-1] a bad CONNECT is closed; v5 may first say why in a CONNACK >= 0x80, and we do. */
async function refusedUnanswered(w: Wire, v: number, v5Code: number): Promise<void> {
  if (v === 5) {
    const ack = await w.expect('connack')
    assert.equal(ack.reasonCode, v5Code)
    assert.equal(ack.sessionPresent, false)
  }
  await w.closed()
  assert.equal(w.buffered.length, 0)
}

/** A CONNECT with an empty client id (which mqtt-packet refuses to encode for some versions). */
function connectEmptyId(w: Wire, v: number, clean: boolean): void {
  w.sendRaw(rawConnect({level: v, flags: clean ? 0x02 : 0x00, properties: v === 5 ? hex('00') : undefined, payload: [str('')]}))
}

for (const v of ALL_VERSIONS) {
  describe(`CONNECT ${versionName(v)}`, () => {
    test('[MQTT-3.1.4-4] [MQTT-3.2.0-1] an acceptable CONNECT is answered with CONNACK 0', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      const ack = await w.connect({clientId: 'client-1'})
      assert.equal(connackCode(ack), 0)
      assert.equal(ack.sessionPresent, false)
      await w.quiet()
      assert.equal(broker.connectionCount, 1)
    })

    test('[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection unanswered', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      w.send({cmd: 'pingreq'})
      await w.closed()
      assert.equal(w.buffered.length, 0)
    })

    test('[MQTT-3.1.0-2] a second CONNECT is a protocol error (v5: DISCONNECT 0x82)', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.send({cmd: 'connect', protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v, clientId: 'c1', clean: true, keepalive: 0})
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
      await w.closed()
      assert.equal(w.buffered.length, 0)
    })

    test('[MQTT-3.1.2-3] a set reserved connect flag is malformed: closed without CONNACK', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      w.sendRaw(rawConnect({level: v, flags: 0x03, properties: v === 5 ? hex('00') : undefined, payload: [str('c1')]}))
      await refusedUnanswered(w, v, ReasonCode.MalformedPacket)
    })

    test('[MQTT-3.1.2-13] [MQTT-3.1.2-15] will QoS or will retain without the will flag: closed', async (t) => {
      const broker = startBroker(t)
      for (const flags of [0x0a, 0x22]) {
        const w = new Wire(broker, v)
        w.sendRaw(rawConnect({level: v, flags, properties: v === 5 ? hex('00') : undefined, payload: [str('c1')]}))
        // v5 [MQTT-3.1.2-11] [MQTT-3.1.2-13]: the packet parses but breaks a rule, a Protocol Error
        await refusedUnanswered(w, v, ReasonCode.ProtocolError)
      }
    })

    test('[MQTT-3.1.2-14] will QoS 3 is malformed: closed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      const props = v === 5 ? [hex('00')] : []
      w.sendRaw(rawConnect({level: v, flags: 0x1e, properties: v === 5 ? hex('00') : undefined, payload: [str('c1'), ...props, str('w'), str('x')]}))
      await refusedUnanswered(w, v, ReasonCode.MalformedPacket)
      assert.equal(engineOf(broker).sessions.size, 0)
    })

    test('[MQTT-1.5.3-1] [MQTT-3.1.3-4] a client id that is not valid UTF-8 closes the connection', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      w.sendRaw(rawConnect({level: v, properties: v === 5 ? hex('00') : undefined, payload: [str(hex('61c328'))]}))
      await refusedUnanswered(w, v, ReasonCode.MalformedPacket)
      assert.equal(engineOf(broker).sessions.size, 0)
    })

    test('[MQTT-1.5.3-2] a client id with U+0000 closes the connection', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      w.sendRaw(rawConnect({level: v, properties: v === 5 ? hex('00') : undefined, payload: [str(hex('610062'))]}))
      await refusedUnanswered(w, v, ReasonCode.MalformedPacket)
      assert.equal(engineOf(broker).sessions.size, 0)
    })

    test('[MQTT-3.1.3-5] a 23-character client id of 0-9a-zA-Z is accepted', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      assert.equal(connackCode(await w.connect({clientId: 'abcdefghijklmnopqrstuvW'})), 0)
      assert.ok(engineOf(broker).sessions.has('abcdefghijklmnopqrstuvW'))
    })

    test('a long client id is accepted (as Mosquitto does)', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      assert.equal(connackCode(await w.connect({clientId: 'x'.repeat(100)})), 0)
    })

    test('[MQTT-3.2.2-4] [MQTT-3.2.2-5] [MQTT-3.1.4-5] a refused CONNECT: session present 0, closed, later bytes ignored', async (t) => {
      const broker = startBroker(t, {auth: {authenticate: () => false}})
      const w = new Wire(broker, v)
      w.send({cmd: 'connect', protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v, clientId: 'c1', clean: false, keepalive: 0, username: 'u', password: Buffer.from('p')})
      w.send({cmd: 'publish', topic: 'r', payload: Buffer.from('x'), qos: 0, retain: true, dup: false})
      const ack = await w.expect('connack')
      assert.equal(connackCode(ack), v3Code(v, V3ConnackCode.BadUserNameOrPassword, ReasonCode.BadUserNameOrPassword))
      assert.equal(ack.sessionPresent, false)
      await w.closed()
      assert.equal(engineOf(broker).retained.size, 0)
      assert.equal(engineOf(broker).sessions.size, 0)
      assert.equal(engineOf(broker).metrics.authFailures, 1)
    })

    test('[MQTT-3.1.2-19] [MQTT-3.1.2-21] user name and password reach the authenticator', async (t) => {
      const seen: Array<[string | undefined, string | undefined]> = []
      const broker = startBroker(t, {auth: {authenticate: (r) => { seen.push([r.username, r.password?.toString()]); return true }}})
      const w = new Wire(broker, v)
      assert.equal(connackCode(await w.connect({username: 'alice', password: Buffer.from('secret')})), 0)
      const w2 = new Wire(broker, v)
      assert.equal(connackCode(await w2.connect({clientId: 'c2'})), 0)
      assert.deepEqual(seen, [['alice', 'secret'], [undefined, undefined]])
    })

    test('an authenticator can refuse with "not authorized" (v3: 0x05, v5: 0x87)', async (t) => {
      const broker = startBroker(t, {auth: {authenticate: async () => ReasonCode.NotAuthorized}})
      const w = new Wire(broker, v)
      assert.equal(connackCode(await w.connect()), v3Code(v, V3ConnackCode.NotAuthorized, ReasonCode.NotAuthorized))
      await w.closed()
    })

    test('[MQTT-3.1.3-6] an empty client id with clean session gets an assigned one (v3.1: 0x02)', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      connectEmptyId(w, v, true)
      const ack = await w.expect('connack')
      if (v === 3) {
        // MQTT 3.1 requires a client id of 1 to 23 characters
        assert.equal(connackCode(ack), V3ConnackCode.IdentifierRejected)
        await w.closed()
        return
      }
      assert.equal(connackCode(ack), 0)
      assert.equal(engineOf(broker).sessions.size, 1)
      const id = [...engineOf(broker).sessions.keys()][0]
      assert.ok(id.startsWith('auto-'))
      // [MQTT-3.2.2-16] (v5) the assigned id is returned in CONNACK
      if (v === 5) assert.equal(ack.properties?.assignedClientIdentifier, id)
      else assert.equal(ack.properties, undefined)
      const w2 = new Wire(broker, v)
      connectEmptyId(w2, v, true)
      assert.equal(connackCode(await w2.expect('connack')), 0)
      assert.equal(engineOf(broker).sessions.size, 2, 'assigned ids are unique')
    })

    test('[MQTT-3.1.3-8] an empty client id with clean session 0: v3 0x02, v5 gets an assigned id', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      connectEmptyId(w, v, false)
      const ack = await w.expect('connack')
      if (v === 5) {
        assert.equal(connackCode(ack), 0)
        assert.ok(ack.properties?.assignedClientIdentifier)
        return
      }
      assert.equal(connackCode(ack), V3ConnackCode.IdentifierRejected)
      assert.equal(ack.sessionPresent, false)
      await w.closed()
      assert.equal(engineOf(broker).sessions.size, 0)
    })

    test('[MQTT-3.1.3-9] empty client ids refused when not allowed (v3 0x02, v5 0x85)', async (t) => {
      const broker = startBroker(t, {allowZeroLengthClientId: false})
      const w = new Wire(broker, v)
      connectEmptyId(w, v, true)
      assert.equal(connackCode(await w.expect('connack')), v3Code(v, V3ConnackCode.IdentifierRejected, ReasonCode.ClientIdentifierNotValid))
      await w.closed()
    })

    test('[MQTT-3.1.2-4] [MQTT-3.2.2-2] [MQTT-3.2.2-3] session present tells whether a session was resumed', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      const persistent = v === 5 ? {clean: false, properties: {sessionExpiryInterval: 60}} : {clean: false}
      assert.equal((await a.connect({clientId: 'p', ...persistent})).sessionPresent, false, 'no session yet')
      a.send({cmd: 'disconnect'})
      await a.closed()
      const b = new Wire(broker, v)
      // (v3.1 3.2) a 3.1 CONNACK has no session present flag: its first byte is always 0
      assert.equal((await b.connect({clientId: 'p', ...persistent})).sessionPresent, v !== 3)
      b.send({cmd: 'disconnect'})
      await b.closed()
      // [MQTT-3.1.2-6] [MQTT-3.2.2-1] clean session discards it and answers session present 0
      const c = new Wire(broker, v)
      assert.equal((await c.connect({clientId: 'p', clean: true})).sessionPresent, false)
      c.send({cmd: 'disconnect'})
      await c.closed()
      const d = new Wire(broker, v)
      assert.equal((await d.connect({clientId: 'p', ...persistent})).sessionPresent, false, 'the clean session was not kept')
    })

    test('[MQTT-3.1.2-6] a clean session ends when the connection does', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v)
      await a.connect({clientId: 'p', clean: true})
      await a.subscribe('t', 1)
      a.end()
      await a.closed()
      const b = new Wire(broker, v)
      await b.connect({clientId: 'q'})
      b.publish('t', 'x', 1)
      await b.expect('puback')
      assert.equal(engineOf(broker).sessions.has('p'), false)
      assert.equal(engineOf(broker).router.size, 0)
    })

    test('CONNECT timeout: a socket that never sends CONNECT is closed', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers, connectTimeoutMs: 5000})
      const w = new Wire(broker, v)
      const connected = new Wire(broker, v)
      await connected.connect()
      timers.advance(4999)
      await connected.quiet()
      assert.equal(w.isClosed, false)
      timers.advance(1)
      await w.closed()
      await connected.quiet() // a connected client is not affected
    })

    test('a completed CONNECT leaves no CONNECT timer behind', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers, connectTimeoutMs: 5000})
      const w = new Wire(broker, v)
      await w.connect()
      assert.equal(timers.pendingCount, 0)
    })

    test('a partial CONNECT does not stop the CONNECT timeout', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers, connectTimeoutMs: 5000})
      const w = new Wire(broker, v)
      w.sendRaw('10 20 00 04')
      await new Promise((r) => setImmediate(r))
      timers.advance(5000)
      await w.closed()
    })
  })
}

describe('CONNECT username and password flags', () => {
  for (const v of [3, 4] as const) {
    test(`[MQTT-3.1.2-22] ${versionName(v)}: a password without a user name closes the connection unanswered`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      w.sendRaw(rawConnect({level: v, flags: 0x42, payload: [str('c1'), str('pw')]}))
      await refusedUnanswered(w, v, 0)
      assert.equal(engineOf(broker).sessions.size, 0)
    })
  }

  test('[MQTT-3.1.2-18] v5: a password without a user name is allowed', async (t) => {
    const seen: unknown[] = []
    const broker = startBroker(t, {auth: {authenticate: (r) => { seen.push(r.password?.toString()); return true }}})
    const w = new Wire(broker, 5)
    w.sendRaw(rawConnect({level: 5, flags: 0x42, properties: hex('00'), payload: [str('c1'), str('pw')]}))
    assert.equal(connackCode(await w.expect('connack')), 0)
    assert.deepEqual(seen, ['pw'])
  })

  test('[MQTT-3.1.2-19] a user name flag without a user name is malformed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    w.sendRaw(rawConnect({level: 4, flags: 0x82, payload: [str('c1')]}))
    await refusedUnanswered(w, 4, 0)
  })

  test('(v5) a user name flag without a user name: CONNACK 0x81, closed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    w.sendRaw(rawConnect({level: 5, flags: 0x82, properties: hex('00'), payload: [str('c1')]}))
    await refusedUnanswered(w, 5, ReasonCode.MalformedPacket)
  })

  test('(v5) a Receive Maximum of 0 is a protocol error: CONNACK 0x82, closed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0, properties: {receiveMaximum: 0}})
    await refusedUnanswered(w, 5, ReasonCode.ProtocolError)
    assert.equal(engineOf(broker).sessions.size, 0)
  })
})

describe('CONNECT protocol name and level', () => {
  test('[MQTT-3.1.2-2] MQTT level 3 is refused with CONNACK 0x01, then closed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    w.sendRaw(rawConnect({name: 'MQTT', level: 3, payload: [str('c1')]}))
    const ack = await w.expect('connack')
    assert.equal(ack.returnCode, V3ConnackCode.UnacceptableProtocolVersion)
    await w.closed()
  })

  test('[MQTT-3.1.2-2] MQIsdp level 4 is refused with CONNACK 0x01', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    w.sendRaw(rawConnect({name: 'MQIsdp', level: 4, payload: [str('c1')]}))
    assert.equal((await w.expect('connack')).returnCode, V3ConnackCode.UnacceptableProtocolVersion)
    await w.closed()
  })

  test('[MQTT-3.1.2-2] MQTT level 2 and 0 are refused with CONNACK 0x01', async (t) => {
    const broker = startBroker(t)
    for (const level of [0, 2]) {
      const w = new Wire(broker, 4)
      w.sendRaw(rawConnect({name: 'MQTT', level, payload: [str('c1')]}))
      assert.equal((await w.expect('connack')).returnCode, V3ConnackCode.UnacceptableProtocolVersion)
      await w.closed()
    }
  })

  test('[MQTT-3.1.2-2] (v5) a level above 5 is refused with a v5 CONNACK 0x84, then closed', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    w.sendRaw(rawConnect({name: 'MQTT', level: 6, properties: hex('00'), payload: [str('c1')]}))
    assert.equal((await w.expect('connack')).reasonCode, ReasonCode.UnsupportedProtocolVersion)
    await w.closed()
  })

  test('[MQTT-3.1.2-1] a wrong protocol name closes the connection unanswered', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    w.sendRaw(rawConnect({name: 'MQTX', level: 4, payload: [str('c1')]}))
    await w.closed()
    assert.equal(w.buffered.length, 0)
  })

  test('v3.1 and v5 clients on one broker at once', async (t) => {
    const broker = startBroker(t)
    const a = new Wire(broker, 3)
    const b = new Wire(broker, 5)
    const c = new Wire(broker, 4)
    await a.connect({clientId: 'a'})
    await b.connect({clientId: 'b'})
    await c.connect({clientId: 'c'})
    await a.subscribe('t', 1)
    await b.subscribe('t', 1)
    c.publish('t', 'hi', 1)
    await c.expect('puback')
    for (const w of [a, b]) assert.equal((await w.expect('publish')).payload.toString(), 'hi')
  })
})
