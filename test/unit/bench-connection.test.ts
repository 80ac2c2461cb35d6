// The bench's connection reads frames with the codec's FrameScanner and in-place readers: against a
// scripted broker on a real socket, frames cut at every byte arrive whole, acknowledgements are the
// codec's bytes, and an oversized or malformed frame ends the connection with a clear reason.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {createServer, type AddressInfo, type Server, type Socket} from 'node:net'
import {test, type TestContext} from 'node:test'
import mqtt from 'mqtt-packet'
import {BenchConnection, ControlDecoder, type ConnectionHandlers} from '../../src/bench/connection.js'
import {FrameScanner, type ProtocolVersion} from '../../src/codec/index.js'

/** A broker that answers CONNECT with CONNACK and hands the test its socket and what it receives. */
async function scriptedBroker(t: TestContext, version: ProtocolVersion) {
  const sockets: Socket[] = []
  const received: Buffer[] = []
  let wake: (() => void) | undefined
  const server: Server = createServer((socket) => {
    sockets.push(socket)
    const scanner = new FrameScanner(1e6)
    socket.on('data', (chunk: Buffer) => {
      scanner.push(chunk, (buf, start, _body, end) => {
        const frame = Buffer.from(buf.subarray(start, end))
        if (frame[0] === 0x10) socket.write(mqtt.generate({cmd: 'connack', sessionPresent: false, returnCode: 0, reasonCode: 0}, {protocolVersion: version}))
        else received.push(frame)
      })
      wake?.()
    })
    socket.on('error', () => undefined)
    wake?.()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((resolve) => { wake = resolve })
  }
  return {port: (server.address() as AddressInfo).port, sockets, received, until}
}

function recorder() {
  const payloads: Buffer[] = []
  const acks: Array<[number, number]> = []
  const lost: string[] = []
  const handlers: ConnectionHandlers = {
    onPublish(buf, start, end) { payloads.push(Buffer.from(buf.subarray(start, end))) },
    onAck(id, code) { acks.push([id, code]) },
    onChunk() {},
    onLost(reason) { lost.push(reason) },
  }
  return {payloads, acks, lost, handlers}
}

for (const version of [4, 5] as ProtocolVersion[]) {
  test(`v${version}: frames cut at every byte arrive whole; QoS 1/2 and PUBREL are acknowledged with the codec's bytes`, async (t) => {
    const broker = await scriptedBroker(t, version)
    const conn = await BenchConnection.open({host: '127.0.0.1', port: broker.port, protocolVersion: version, clientId: 'b'}, 10_000, new ControlDecoder())
    t.after(() => conn.destroy())
    const r = recorder()
    conn.handlers = r.handlers
    const gen = (p: object) => mqtt.generate(p as mqtt.Packet, {protocolVersion: version})
    const stream = Buffer.concat([
      gen({cmd: 'publish', topic: 'a', payload: Buffer.from('zero'), qos: 0, retain: false, dup: false,
        properties: version === 5 ? {contentType: 'text/plain'} : undefined}),
      gen({cmd: 'publish', topic: 'bb', payload: Buffer.alloc(300, 7), qos: 1, messageId: 11, retain: false, dup: false}),
      gen({cmd: 'publish', topic: 'c', payload: Buffer.from('two'), qos: 2, messageId: 12, retain: false, dup: false}),
      gen({cmd: 'puback', messageId: 5}),
      gen({cmd: 'pubrec', messageId: 6}),
      gen({cmd: 'pubrel', messageId: 12}),
      gen({cmd: 'pubcomp', messageId: 6}),
      gen({cmd: 'pingresp'}),
    ])
    const socket = broker.sockets[0]!
    for (let i = 0; i < stream.length; i++) socket.write(stream.subarray(i, i + 1))
    // the short form in both versions: (v5 3.4.2.1) Reason Code and Property Length may be left out
    // when the code is Success and there are no properties
    const short = (p: object) => mqtt.generate(p as mqtt.Packet, {protocolVersion: 4})
    const expected = [
      short({cmd: 'puback', messageId: 11}), short({cmd: 'pubrec', messageId: 12}),
      short({cmd: 'pubrel', messageId: 6}), short({cmd: 'pubcomp', messageId: 12}),
    ]
    await broker.until(() => broker.received.length >= expected.length)
    assert.deepEqual(broker.received, expected)
    assert.deepEqual(r.payloads, [Buffer.from('zero'), Buffer.alloc(300, 7), Buffer.from('two')])
    assert.deepEqual(r.acks, [[5, 0], [6, 0]])
    assert.deepEqual(r.lost, [])
  })
}

test('a frame over the maximum packet size ends the connection, named, before its body arrives', async (t) => {
  const broker = await scriptedBroker(t, 4)
  const conn = await BenchConnection.open({host: '127.0.0.1', port: broker.port, protocolVersion: 4, clientId: 'b', maxPacketSize: 1000}, 10_000, new ControlDecoder())
  t.after(() => conn.destroy())
  const r = recorder()
  conn.handlers = r.handlers
  const big = mqtt.generate({cmd: 'publish', topic: 't', payload: Buffer.alloc(5000), qos: 0, retain: false, dup: false})
  broker.sockets[0]!.write(big.subarray(0, 4)) // the fixed header and a byte: the body never comes
  await once(conn.stream, 'close')
  assert.deepEqual(r.lost, [`connection lost: oversized packet from the broker: packet of ${big.length} bytes exceeds the maximum of 1000`])
  assert.equal(conn.open, false)
})

test('a malformed frame (a PUBLISH whose topic runs past it) ends the connection, named', async (t) => {
  const broker = await scriptedBroker(t, 4)
  const conn = await BenchConnection.open({host: '127.0.0.1', port: broker.port, protocolVersion: 4, clientId: 'b'}, 10_000, new ControlDecoder())
  t.after(() => conn.destroy())
  const r = recorder()
  conn.handlers = r.handlers
  broker.sockets[0]!.write(Buffer.from([0x30, 3, 0, 9, 0x61]))
  await once(conn.stream, 'close')
  assert.deepEqual(r.lost, ['connection lost: malformed packet from the broker: PUBLISH fields longer than the packet'])
  assert.deepEqual(r.payloads, [])
})
