// The bound on what all the broker's sockets hold together (maxOutboundBufferBytesTotal): past it, a
// subscriber whose socket the kernel stopped taking from gets nothing more until the socket drains (QoS 0
// is dropped for it, QoS 1 waits in its session, one copy of each message shared by every session),
// while the subscribers that keep up still get everything. Real sockets, mqtt.js and mqtt-packet.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import type {MqttClient} from 'mqtt'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import {engineOf} from '../../src/broker/internal.js'
import type {Connection} from '../../src/broker/connection.js'
import {listenerFor, tryConnect} from '../helpers/listeners.js'
import {fastReaders, numberedPayload, RawSubscriber, readAndAcknowledge} from '../helpers/raw-subscriber.js'

const COUNT = 5000 // 20 MB to each subscriber: more than the kernel buffers of a reader that stopped
const SIZE = 4000
const TOTAL = 1024 * 1024 // the bound under test, far below what two stopped readers would hold
const SLACK_PER_SOCKET = 64 * 1024 // a batch, a packet and a socket's high-water mark (write-batch.ts)

const payload = (i: number): Buffer => numberedPayload(i, SIZE)

describe('the bound on bytes held by all sockets together', () => {
  let broker: Broker
  let port: number
  let close: () => Promise<void>
  const clients: MqttClient[] = []
  const raw: RawSubscriber[] = []

  before(async () => {
    // each connection alone may hold 64 MiB: only the broker-wide bound can keep the total at 1 MiB
    broker = createBroker({maxOutboundBufferBytes: 64 * 1024 * 1024, maxOutboundBufferBytesTotal: TOTAL, maxInflightMessages: 0, maxQueuedMessages: 0})
    const tcp = await listenerFor(broker, {protocol: 'mqtt', port: 0})
    port = tcp.listener.address().port
    close = () => tcp.listener.close()
  })
  after(async () => {
    for (const c of clients) c.end(true)
    for (const r of raw) r.socket.destroy()
    await broker.close()
    await close()
  })

  /** What the broker's sockets hold now (bytes written and not yet taken by the kernel), and how many sockets. */
  function held(): {bytes: number; sockets: number} {
    let bytes = 0
    let sockets = 0
    for (const s of engineOf(broker).sessions.values()) {
      const conn = s.link as Connection | undefined
      if (conn === undefined) continue
      bytes += conn.stream.writableLength
      sockets++
    }
    return {bytes, sockets}
  }

  test('readers that stop cannot make the broker hold more; those that keep up get every message; a QoS 1 reader gets all once it reads', async () => {
    const {got: fast, done: fastDone} = await fastReaders(port, 2, 'fan/t', 1, COUNT, clients)
    const stuck = new RawSubscriber(port) // QoS 0, never reads again
    raw.push(stuck)
    await stuck.subscribe('stuck', 'fan/t', 0)
    stuck.socket.pause()
    const slow = new RawSubscriber(port) // QoS 1, reads once everything is published
    raw.push(slow)
    await slow.subscribe('slow', 'fan/t', 1)
    slow.socket.pause()

    const pub = await tryConnect(`mqtt://127.0.0.1:${port}`, {clientId: 'pub'})
    assert.ok(pub.ok)
    clients.push(pub.client)
    let most = 0
    let mostSockets = 0
    const sample = setInterval(() => {
      const h = held()
      if (h.bytes > most) most = h.bytes
      mostSockets = Math.max(mostSockets, h.sockets)
    }, 2)
    try {
      await Promise.all(Array.from({length: COUNT}, (_, i) => pub.client.publishAsync('fan/t', payload(i), {qos: 1})))
      await fastDone
    } finally {
      clearInterval(sample)
    }
    for (const got of fast) {
      for (let i = 0; i < COUNT; i++) assert.ok(got[i]!.equals(payload(i)), `message ${i} reached a fast reader as it was published`)
    }
    const now = held()
    most = Math.max(most, now.bytes)
    assert.ok(most <= TOTAL + mostSockets * SLACK_PER_SOCKET, `the sockets held ${most} bytes at most`)
    // the stopped readers were held back: the QoS 0 one lost messages as a slow reader, the QoS 1 one's wait in its session
    assert.ok((engineOf(broker).metrics.dropped['slow-reader'] ?? 0) > 0, 'QoS 0 to the stuck reader was dropped')
    assert.ok(engineOf(broker).sessions.get('slow')!.queued > 0, 'QoS 1 to the stopped reader waits in its session')

    const got = await readAndAcknowledge(slow, COUNT)
    assert.equal(got.length, COUNT)
    for (let i = 0; i < COUNT; i++) {
      assert.equal(got[i]!.qos, 1)
      assert.ok((got[i]!.payload as Buffer).equals(payload(i)), `message ${i} reached the slow reader as it was published, in order`)
    }

    // once the stuck reader is gone, nothing is counted as held any more
    stuck.socket.destroy()
    const slowConn = engineOf(broker).sessions.get('slow')!.link as Connection
    const deadline = Date.now() + 10_000
    while (slowConn.broker.writes.outboundBytes !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.equal(slowConn.broker.writes.outboundBytes, 0)
  })
})
