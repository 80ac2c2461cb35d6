import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {once} from 'node:events'
import v8 from 'node:v8'
import vm from 'node:vm'
import WebSocket from 'ws'
import {encodePacket, FrameScanner, ReasonCode} from '../../src/codec/index.js'
import {varint} from '../helpers/varint.js'
import {frame, startBroker, str, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** Bytes of ArrayBuffers alive after full collections (buffers are released by a sweeper that may lag a turn). */
async function liveBuffers(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().arrayBuffers
}

/** A QoS 0 PUBLISH frame (v3.1.1 layout: no properties) of exactly `size` bytes. */
function publishOfSize(topic: string, size: number): Buffer {
  const head = str(topic)
  // fixed header: 1 byte + 3 length bytes for sizes between 16,384 and 2,097,151
  return frame(0x30, Buffer.concat([head, Buffer.alloc(size - 4 - head.length, 0x61)]))
}

describe('huge messages', () => {
  test('the default maximum packet size is 2,000,000 bytes, announced to v5 clients', async (t) => {
    const broker = startBroker(t)
    assert.equal(engineOf(broker).options.maxPacketSize, 2_000_000)
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.maximumPacketSize, 2_000_000)
  })

  test('v5: a PUBLISH one byte over the default is refused with DISCONNECT 0x95, before its body is read', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    // only the fixed header of a 2,000,001-byte packet: the broker must not wait for the body
    w.sendRaw(Buffer.concat([Buffer.from([0x30]), varint(2_000_001 - 4)]))
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.PacketTooLarge)
    await w.closed()
  })

  test('v3.1.1: a PUBLISH over the default closes the connection; one of exactly the default is delivered', async (t) => {
    const broker = startBroker(t)
    const sub = new Wire(broker, 4)
    await sub.connect({clientId: 'sub'})
    await sub.subscribe('big', 0)
    const pub = new Wire(broker, 4)
    await pub.connect({clientId: 'pub'})
    const exact = publishOfSize('big', 2_000_000)
    assert.equal(exact.length, 2_000_000)
    pub.sendRaw(exact)
    assert.equal((await sub.expect('publish', 10_000)).payload.length, 2_000_000 - 9)
    pub.sendRaw(publishOfSize('big', 2_000_001))
    await pub.closed()
    await sub.quiet() // nothing of it was delivered
  })

  test('a WebSocket message larger than the maximum packet size is not buffered: closed with 1009', async (t) => {
    const broker = startBroker(t, {maxPacketSize: 10_000})
    const {port} = await broker.listen({protocol: 'ws', port: 0})
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, ['mqtt'])
    await once(ws, 'open')
    ws.send(encodePacket({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'ws', clean: true, keepalive: 0}, 4))
    await once(ws, 'message') // CONNACK
    ws.send(Buffer.alloc(20_000, 0x30)) // one 20 kB WebSocket message
    const [code] = await once(ws, 'close')
    assert.equal(code, 1009) // Message Too Big
  })

  test('the framer keeps no large buffer alive once a large frame has gone', () => {
    const framer = new FrameScanner(4_000_000)
    const big = publishOfSize('t', 1_500_000)
    const frames: number[] = []
    // the frame arrives in pieces, the last one carrying the first byte of the next packet (PINGREQ)
    framer.push(big.subarray(0, 700_000), (_buf, start, _body, end) => { frames.push(end - start) })
    framer.push(Buffer.concat([big.subarray(700_000), Buffer.from([0xc0])]), (_buf, start, _body, end) => { frames.push(end - start) })
    assert.deepEqual(frames, [1_500_000])
    assert.equal(framer.heldBytes, 1)
    assert.ok(framer.retainedBytes < 65_536, `the one held byte keeps ${framer.retainedBytes} bytes alive`)
    framer.push(Buffer.from([0x00]), (_buf, start, _body, end) => { frames.push(end - start) })
    assert.deepEqual(frames, [1_500_000, 2])
    assert.equal(framer.heldBytes, 0)
    assert.equal(framer.retainedBytes, 0)
  })

  test('after allowed large messages have been delivered, the broker holds none of their memory', async (t) => {
    const broker = startBroker(t)
    const sub = new Wire(broker, 4)
    await sub.connect({clientId: 'sub'})
    await sub.subscribe('big', 0)
    const pub = new Wire(broker, 4)
    await pub.connect({clientId: 'pub'})
    await pub.quiet()
    const before = await liveBuffers()
    for (let i = 0; i < 4; i++) {
      sendInPieces(pub, publishOfSize('big', 1_900_000))
      assert.equal(await payloadLength(sub), 1_900_000 - 9)
      // measured while the broker waits for the rest of the PINGREQ, then after it
      const waiting = await liveBuffers() - before
      assert.ok(waiting < 1_000_000, `${waiting} bytes of buffers still held after a message of 1.9 MB, waiting for one byte`)
      pub.sendRaw(Buffer.from([0x00]))
      assert.equal((await pub.expect('pingresp')).cmd, 'pingresp')
    }
    const grown = await liveBuffers() - before
    assert.ok(grown < 1_000_000, `${grown} bytes of buffers still held after four messages of 1.9 MB`)
  })
})

/** A frame in two pieces, the second carrying the first byte of a PINGREQ too (as a socket cuts a stream). */
function sendInPieces(w: Wire, bytes: Buffer): void {
  const half = bytes.length >>> 1
  w.sendRaw(bytes.subarray(0, half))
  w.sendRaw(Buffer.concat([bytes.subarray(half), Buffer.from([0xc0])]))
}

/** The payload size of the next PUBLISH (the packet itself is not kept by the caller). */
async function payloadLength(w: Wire): Promise<number> {
  return (await w.expect('publish', 10_000)).payload.length
}

