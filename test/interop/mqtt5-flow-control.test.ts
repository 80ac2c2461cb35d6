// Interop (mqtt npm package, v5): Receive Maximum both ways, Maximum Packet Size both ways.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/index.js'
import {connack, fixture, inbox, nextEvent, settle} from './mqtt5-helpers.js'
import {engineOf} from '../../src/broker/internal.js'

describe('mqtt.js v5: flow control and maximum packet size', () => {
  test('our Receive Maximum is announced; mqtt.js within it is served, beyond it gets DISCONNECT 0x93', async (t) => {
    const f = await fixture(t, {receiveMaximum: 5})
    const sub = await f.client({clientId: 'sub'})
    await sub.subscribeAsync('fc/#', {qos: 2})
    const pub = await f.client({clientId: 'pub'})
    assert.equal(connack(pub).properties?.receiveMaximum, 5)
    // five at a time: within the maximum
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({length: 5}, (_, i) => pub.publishAsync('fc/x', String(round * 5 + i), {qos: 2})))
    }
    const box = inbox(sub)
    for (let i = 0; i < 20; i++) assert.equal((await box.next()).payload.toString(), String(i))
    // mqtt.js does not limit itself to the server's Receive Maximum: the sixth unreleased QoS 2 is refused
    const disconnected = nextEvent(pub, 'disconnect')
    for (let i = 0; i < 6; i++) pub.publishAsync('fc/y', String(i), {qos: 2}).catch(() => undefined)
    const [packet] = await disconnected
    assert.equal(packet.reasonCode, ReasonCode.ReceiveMaximumExceeded)
  })

  test('we honour mqtt.js\'s Receive Maximum: at most that many QoS 1 in flight to it', async (t) => {
    const f = await fixture(t)
    const opts = {clientId: 'slow', clean: false, properties: {receiveMaximum: 3, sessionExpiryInterval: 60}}
    const first = await f.client(opts)
    await first.subscribeAsync('rm/#', {qos: 1})
    await first.endAsync()
    const pub = await f.client({clientId: 'pub'})
    for (let i = 0; i < 12; i++) await pub.publishAsync('rm/x', String(i), {qos: 1})
    // the queued twelve go out as the window allows once it is back
    let peak = 0
    const sub = await f.client({
      ...opts,
      customHandleAcks: (_topic, _message, _packet, done) => {
        peak = Math.max(peak, engineOf(f.broker).sessions.get('slow')!.inflight.size)
        setImmediate(() => done(0))
      },
    })
    const box = inbox(sub)
    const got: string[] = []
    while (got.length < 12) got.push((await box.next()).payload.toString())
    assert.deepEqual(got, Array.from({length: 12}, (_, i) => String(i)))
    assert.equal(peak, 3)
  })

  test('a message larger than mqtt.js\'s Maximum Packet Size is not sent to it; the next ones are', async (t) => {
    const f = await fixture(t)
    const sub = await f.client({clientId: 'small', properties: {maximumPacketSize: 256}})
    await sub.subscribeAsync('mp/#', {qos: 1})
    const pub = await f.client({clientId: 'pub'})
    await pub.publishAsync('mp/x', Buffer.alloc(1000), {qos: 1})
    await pub.publishAsync('mp/x', 'small', {qos: 1})
    const box = inbox(sub)
    assert.equal((await box.next()).payload.toString(), 'small')
    await settle(sub)
    assert.equal(box.pending.length, 0)
    assert.equal(engineOf(f.broker).metrics.dropped['too-large'], 1)
  })

  test('our Maximum Packet Size is announced; a larger PUBLISH from mqtt.js gets DISCONNECT 0x95', async (t) => {
    const f = await fixture(t, {maxPacketSize: 512})
    const pub = await f.client({clientId: 'pub'})
    assert.equal(connack(pub).properties?.maximumPacketSize, 512)
    const disconnected = nextEvent(pub, 'disconnect')
    pub.publishAsync('mp/big', Buffer.alloc(2000), {qos: 1}).catch(() => undefined)
    const [packet] = await disconnected
    assert.equal(packet.reasonCode, ReasonCode.PacketTooLarge)
  })
})
