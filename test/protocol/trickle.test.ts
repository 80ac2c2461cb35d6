import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {encodePacket, ReasonCode, type ProtocolVersion} from '../../src/codec/index.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** A QoS 0 PUBLISH to t with `size` bytes of payload. */
const publish = (v: ProtocolVersion, size: number) =>
  encodePacket({cmd: 'publish', topic: 't', payload: Buffer.alloc(size, 0x61), qos: 0, retain: false, dup: false}, v)

/** Sends bytes in `pieces` pieces, `everyMs` of fake time apart (the first at once); resolves once all were read. */
async function trickle(w: Wire, timers: FakeTimers, bytes: Buffer, pieces: number, everyMs: number): Promise<void> {
  const size = Math.ceil(bytes.length / pieces)
  for (let i = 0; i < pieces; i++) {
    if (i > 0) timers.advance(everyMs)
    w.sendRaw(bytes.subarray(i * size, (i + 1) * size))
    await turn()
  }
}

for (const v of VERSIONS) {
  describe(`a packet must make progress ${versionName(v)}`, () => {
    test(`bytes trickling into a packet that never completes: closed 1.5 keepalives after it began${v === 5 ? ' (DISCONNECT 0x8D)' : ''}`, async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const w = new Wire(broker, v)
      await w.connect({keepalive: 10})
      // a PUBLISH announcing 100 kB, of which 10 bytes a second arrive
      const big = publish(v, 100_000)
      w.sendRaw(big.subarray(0, 10))
      await turn()
      for (let ms = 1000; ms < 15_000; ms += 1000) {
        timers.advance(1000)
        w.sendRaw(big.subarray(ms / 100, ms / 100 + 10))
        await turn()
        assert.equal(w.isClosed, false, `still open ${ms} ms into the packet`)
      }
      timers.advance(999) // 14.999 s into the packet
      await turn()
      assert.equal(w.isClosed, false)
      timers.advance(1)
      if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.KeepAliveTimeout)
      await w.closed()
    })

    test('large packets arriving slowly but each within the allowance are not closed, back to back', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 0)
      const w = new Wire(broker, v)
      await w.connect({clientId: 'pub', keepalive: 10})
      // three 100 kB packets, each over 14 s in 15 pieces, the next one starting in the chunk that ends
      // the previous: 42 s of packets with no moment between them, far longer than 15 s
      const three = Buffer.concat([publish(v, 100_000), publish(v, 100_000), publish(v, 100_000)])
      await trickle(w, timers, three, 45, 14_000 / 15)
      for (let i = 0; i < 3; i++) assert.equal((await sub.expect('publish')).payload.length, 100_000)
      timers.advance(14_000)
      await w.quiet() // a PINGREQ round trip: open
      assert.equal(w.isClosed, false)
    })

    test('a trickled CONNECT is closed at the CONNECT timeout', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers, connectTimeoutMs: 10_000})
      const w = new Wire(broker, v)
      const connect = encodePacket({cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: 'x'.repeat(200), clean: true, keepalive: 0}, v)
      for (let i = 0; i < 9; i++) {
        w.sendRaw(connect.subarray(i, i + 1))
        timers.advance(1000)
        await turn()
      }
      assert.equal(w.isClosed, false)
      timers.advance(1000)
      await w.closed()
    })
  })
}
