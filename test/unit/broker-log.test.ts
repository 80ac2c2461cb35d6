import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import pino from 'pino'
import {createFileAuth} from '../../src/broker/auth/file-auth.js'
import type {Broker} from '../../src/broker/broker.js'
import {serveOps} from '../../src/broker/metrics-http.js'
import {BrokerLog} from '../../src/cli/broker/log.js'
import {encodePacket} from '../../src/codec/index.js'
import {duplexPair} from '../helpers/duplex-pair.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {parsePrometheus, sample} from '../helpers/prometheus.js'
import {startBroker, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const INTERVAL = 10_000

interface Line {level: number; msg: string; clientId?: string; counts?: Record<string, number>; keys?: number; events?: number}

/** A pino logger writing into an array (synchronously), and a BrokerLog over it with fake time. */
function capture(timers: FakeTimers, level = 'info'): {lines: Line[]; brokerLog: BrokerLog} {
  const lines: Line[] = []
  const log = pino({level}, {write: (s: string) => { lines.push(JSON.parse(s) as Line) }})
  return {lines, brokerLog: new BrokerLog(log, {timers, intervalMs: INTERVAL})}
}

/** A QoS 0 PUBLISH of `n` bytes of payload to t. */
const qos0 = (payload: Buffer) => encodePacket({cmd: 'publish', topic: 't', payload, qos: 0, retain: false, dup: false}, 4)

/** Subscribers to t that never read, and a publisher that sends `count` QoS 0 messages of 1 kB. */
async function flood(broker: Broker, subscribers: number, count: number): Promise<void> {
  for (let i = 0; i < subscribers; i++) {
    const sub = new Wire(broker, 4)
    await sub.connect({clientId: `sub${i}`})
    await sub.subscribe('t', 0)
    sub.pause()
  }
  const pub = new Wire(broker, 4)
  await pub.connect({clientId: 'pub'})
  const one = qos0(Buffer.alloc(1024, 0x61))
  for (let sent = 0; sent < count; sent += 100) pub.sendRaw(Buffer.concat(Array.from({length: 100}, () => one)))
  await pub.quiet() // every PUBLISH before the PINGREQ has been routed
}

const dropLines = (lines: Line[]) => lines.filter((l) => l.msg.startsWith('message dropped'))

describe('broker log: lines a client can cause are bounded per interval', () => {
  test('thousands of drops for one non-reading subscriber: one line, then one line an interval with the counts', async (t) => {
    const timers = new FakeTimers()
    const broker = startBroker(t, {timers, maxOutboundBufferBytes: 16 * 1024})
    const {lines, brokerLog} = capture(timers)
    t.after(() => brokerLog.close())
    brokerLog.attach(broker)
    await flood(broker, 1, 5000)
    const dropped = engineOf(broker).metrics.dropped['slow-reader']
    assert.ok(dropped > 4000, `the subscriber did not read: ${dropped} of 5000 dropped`)
    assert.equal(dropLines(lines).length, 1, 'one line within the interval')
    timers.advance(INTERVAL)
    const [first, summary] = dropLines(lines)
    assert.equal(dropLines(lines).length, 2)
    assert.equal(first.clientId, 'sub0')
    assert.equal(summary.clientId, 'sub0')
    assert.deepEqual(summary.counts, {'slow-reader': dropped - 1}, 'every drop is counted: one line plus the sum')
    assert.equal(engineOf(broker).metrics.logSuppressed.messageDropped, dropped - 1)
    // the flood goes on: still one line an interval
    await flood(broker, 0, 1000)
    assert.equal(dropLines(lines).length, 2)
    timers.advance(INTERVAL)
    assert.equal(dropLines(lines).length, 3)
    assert.deepEqual(dropLines(lines)[2].counts, {'slow-reader': engineOf(broker).metrics.dropped['slow-reader'] - dropped})
    // quiet interval: nothing more, and the next drop is logged at once again
    timers.advance(INTERVAL)
    timers.advance(INTERVAL)
    assert.equal(dropLines(lines).length, 3)
  })

  test('many flooded subscribers: the global cap holds, the rest share one line, nothing goes uncounted', async (t) => {
    const timers = new FakeTimers()
    const broker = startBroker(t, {timers, maxOutboundBufferBytes: 4 * 1024})
    const {lines, brokerLog} = capture(timers)
    t.after(() => brokerLog.close())
    brokerLog.attach(broker)
    await flood(broker, 40, 300)
    const dropped = engineOf(broker).metrics.dropped['slow-reader']
    assert.ok(dropped > 40 * 250, `${dropped} drops`)
    assert.equal(dropLines(lines).length, 20, 'at most 20 drop lines an interval')
    timers.advance(INTERVAL)
    const summaries = dropLines(lines).slice(20)
    assert.equal(summaries.length, 21, '20 client lines and one for the others')
    const counted = summaries.reduce((n, l) => n + (l.counts?.['slow-reader'] ?? l.events ?? 0), 0)
    assert.equal(counted + 20, dropped, 'the lines and the counts add up to every drop')
    assert.equal(summaries.at(-1)!.keys, 20)
  })

  test('connect/disconnect churn and bad packets from one address: ten lines of each an interval, then counts', async (t) => {
    const timers = new FakeTimers()
    const broker = startBroker(t, {timers})
    const {lines, brokerLog} = capture(timers)
    t.after(() => brokerLog.close())
    brokerLog.attach(broker)
    const closed: Array<Promise<void>> = []
    for (let i = 0; i < 300; i++) {
      const [client, server] = duplexPair()
      client.on('error', () => undefined)
      closed.push(new Promise((resolve) => client.on('close', resolve)))
      client.resume()
      broker.handle(server, `10.1.2.3:${20_000 + i}`)
      client.write(encodePacket({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `churn${i}`, clean: true, keepalive: 0}, 4))
      client.write(Buffer.from([0x00, 0x00])) // reserved packet type 0: malformed
    }
    await Promise.all(closed)
    const of = (msg: string) => lines.filter((l) => l.msg.startsWith(msg))
    assert.equal(of('client connected').length, 10)
    assert.equal(of('client disconnected').length, 10)
    timers.advance(INTERVAL)
    assert.deepEqual(of('client connected')[10].counts, {connected: 290})
    const reasons = of('client disconnected')[10].counts!
    assert.equal(Object.values(reasons).reduce((a, b) => a + b, 0), 290)
    assert.equal(engineOf(broker).metrics.logSuppressed.clientConnected, 290)
    assert.equal(engineOf(broker).metrics.logSuppressed.clientDisconnected, 290)
  })

  test('a password guesser: ten "connection refused" lines an interval from its address, then the counts', async (t) => {
    const timers = new FakeTimers()
    const {lines, brokerLog} = capture(timers)
    const auth = createFileAuth({passwords: {verify: async () => false}, onDenied: brokerLog.denial, maxVerificationsPerAddress: 1000})
    const broker = startBroker(t, {timers, auth})
    t.after(() => brokerLog.close())
    brokerLog.attach(broker)
    const guesses = Array.from({length: 200}, async (_, i) => {
      const w = new Wire(broker, 4, `198.51.100.9:${10_000 + i}`)
      const ack = await w.connect({clientId: `g${i}`, username: 'admin', password: Buffer.from(`guess${i}`)})
      return ack.returnCode
    })
    assert.ok((await Promise.all(guesses)).every((code) => code === 4))
    const refused = () => lines.filter((l) => l.msg.startsWith('connection refused'))
    assert.equal(refused().length, 10)
    timers.advance(INTERVAL)
    assert.equal(refused().length, 11)
    assert.deepEqual(refused()[10].counts, {'bad user name or password': 190})
    assert.equal(engineOf(broker).metrics.logSuppressed.connectionRefused, 190)
    assert.equal(engineOf(broker).metrics.authFailures, 200)
  })

  test('the counts are in /metrics and $SYS', async (t) => {
    const timers = new FakeTimers()
    const broker = startBroker(t, {timers, maxOutboundBufferBytes: 16 * 1024, sysInterval: 1})
    const {brokerLog} = capture(timers)
    t.after(() => brokerLog.close())
    brokerLog.attach(broker)
    await flood(broker, 1, 2000)
    timers.advance(INTERVAL)
    const dropped = engineOf(broker).metrics.dropped['slow-reader']
    const ops = await serveOps({broker, listeners: () => []}, {host: '127.0.0.1', port: 0})
    t.after(() => ops.close())
    const text = parsePrometheus(await (await fetch(`http://127.0.0.1:${ops.address().port}/metrics`)).text())
    assert.equal(sample(text, 'midge_log_lines_suppressed_total', {event: 'messageDropped'}), dropped - 1)
    assert.equal(sample(text, 'midge_messages_dropped_total', {reason: 'slow-reader'}), dropped)
    engineOf(broker).sys!.update()
    const sys = new Map(engineOf(broker).retained.match('$SYS/#', timers.now()).map((m) => [m.topic, m.payload.toString()]))
    assert.equal(sys.get('$SYS/broker/log/suppressed'), String(dropped - 1))
    assert.equal(sys.get('$SYS/broker/publish/messages/dropped/slow-reader'), String(dropped))
  })
})
