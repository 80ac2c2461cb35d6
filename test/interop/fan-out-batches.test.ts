// A fan-out over real TCP sockets, where the broker joins each subscriber's batch in one buffer shared by
// every connection (write-batch.ts) and reuses it only while the kernel takes each write whole. A reader
// that stops reading makes its socket keep part of a batch; everything it and the fast readers get must
// still be exactly what was published, in order.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import type {MqttClient} from 'mqtt'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import {engineOf} from '../../src/broker/internal.js'
import type {Connection} from '../../src/broker/connection.js'
import {listenerFor, tryConnect} from '../helpers/listeners.js'
import {fastReaders, numberedPayload, RawSubscriber, readAndAcknowledge} from '../helpers/raw-subscriber.js'

const COUNT = 5000 // 20 MB: more than the kernel buffers for a reader that stopped (its window does not grow)
const SIZE = 4000
const LIMIT = 64 * 1024 * 1024

const payload = (i: number): Buffer => numberedPayload(i, SIZE)

describe('fan-out batches in a buffer shared by every connection', () => {
  let broker: Broker
  let port: number
  let close: () => Promise<void>
  const clients: MqttClient[] = []

  before(async () => {
    broker = createBroker({maxOutboundBufferBytes: LIMIT, maxInflightMessages: 0, maxQueuedMessages: 0})
    const tcp = await listenerFor(broker, {protocol: 'mqtt', port: 0})
    port = tcp.listener.address().port
    close = () => tcp.listener.close()
  })
  after(async () => {
    for (const c of clients) c.end(true)
    await broker.close()
    await close()
  })

  test('fast readers get every message intact; a reader that stops gets them all at QoS 1 once it reads again', async () => {
    const {got: fast, done: fastDone} = await fastReaders(port, 3, 'fan/t', 0, COUNT, clients)
    const slow = new RawSubscriber(port)
    await slow.subscribe('slow', 'fan/t', 1)
    slow.socket.pause()

    const pub = await tryConnect(`mqtt://127.0.0.1:${port}`, {clientId: 'pub'})
    assert.ok(pub.ok)
    clients.push(pub.client)
    await Promise.all(Array.from({length: COUNT}, (_, i) => pub.client.publishAsync('fan/t', payload(i), {qos: 1})))
    await fastDone
    for (const got of fast) {
      for (let i = 0; i < COUNT; i++) assert.ok(got[i]!.equals(payload(i)), `message ${i} arrived as it was published`)
    }

    // the kernel did not take all of what the slow reader was sent: its socket holds the rest, within the limit
    const held = (engineOf(broker).sessions.get('slow')!.link as Connection).stream.writableLength
    assert.ok(held > 0, 'the slow reader\'s socket holds bytes the kernel did not take')
    assert.ok(held <= LIMIT, `${held} bytes held`)

    const got = await readAndAcknowledge(slow, COUNT)
    assert.equal(got.length, COUNT)
    for (let i = 0; i < COUNT; i++) {
      assert.equal(got[i]!.qos, 1)
      assert.ok((got[i]!.payload as Buffer).equals(payload(i)), `message ${i} reached the slow reader as it was published`)
    }
    // each with a packet id of its own (written into the shared encoding where the batch was joined),
    // so that every PUBACK ended a flight
    assert.equal(new Set(got.map((p) => p.messageId)).size, COUNT)
    slow.send({cmd: 'pingreq'})
    await slow.until(() => slow.packets.some((p) => p.cmd === 'pingresp'))
    assert.equal(engineOf(broker).sessions.get('slow')!.inflight.size, 0)
    slow.socket.destroy()
  })
})
