import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {PROTOCOL_MAX_PACKET_SIZE} from '../../src/codec/index.js'
import {ReasonCode} from '../../src/codec/index.js'
import {startBroker, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

describe('v5 Maximum Packet Size', () => {
  test('ours is announced in CONNACK and enforced (DISCONNECT 0x95)', async (t) => {
    const broker = startBroker(t, {maxPacketSize: 1024})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.maximumPacketSize, 1024)
    w.publish('t', Buffer.alloc(1100))
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.PacketTooLarge)
  })

  test('no limit beyond the protocol\'s: nothing announced', async (t) => {
    const broker = startBroker(t, {maxPacketSize: PROTOCOL_MAX_PACKET_SIZE})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.maximumPacketSize, undefined)
  })

  test('[MQTT-3.1.2-24] [MQTT-3.1.2-25] a message larger than the client allows is dropped for it, counted, and the rest flows', async (t) => {
    const broker = startBroker(t)
    const small = new Wire(broker, 5)
    await small.connect({clientId: 'small', properties: {maximumPacketSize: 100}})
    await small.subscribe('t', 1)
    const big = new Wire(broker, 5)
    await big.connect({clientId: 'big'})
    await big.subscribe('t', 1)
    for (const [i, size] of [[1, 200], [2, 10], [3, 300], [4, 20]]) {
      big.publish('t', Buffer.alloc(size), 1, {messageId: i})
    }
    const mine = await big.take(8)
    assert.equal(mine.filter((p) => p.cmd === 'publish').length, 4)
    assert.equal((await small.expect('publish')).payload.length, 10)
    assert.equal((await small.expect('publish')).payload.length, 20)
    await small.quiet()
    assert.equal(engineOf(broker).metrics.dropped['too-large'], 2)
    assert.equal(engineOf(broker).sessions.get('small')!.inflight.size, 2, 'the dropped ones hold no packet id')
  })

  test('a retained message too large for the client is not sent to it', async (t) => {
    const broker = startBroker(t)
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    pub.publish('r', Buffer.alloc(500), 0, {retain: true})
    await pub.quiet()
    const w = new Wire(broker, 5)
    await w.connect({properties: {maximumPacketSize: 100}})
    await w.subscribe('r', 0)
    await w.quiet()
    assert.equal(engineOf(broker).metrics.dropped['too-large'], 1)
  })

  test('a v3 client has no such limit', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 4)
    await w.connect()
    await w.subscribe('t', 0)
    w.publish('t', Buffer.alloc(100_000))
    assert.equal((await w.expect('publish')).payload.length, 100_000)
  })
})
