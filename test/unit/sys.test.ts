// $SYS topics: Mosquitto's names, formats and meanings, checked after a known workload, with fake time.
import assert from 'node:assert/strict'
import {describe, test, type TestContext} from 'node:test'
import type {Broker} from '../../src/broker/broker.js'
import type {BrokerOptions} from '../../src/broker/options.js'
import {MemoryBacking, MemoryStore} from '../../src/broker/store/index.js'
import {SysTopics} from '../../src/broker/sys.js'
import type {PublishPacket} from '../../src/codec/index.js'
import {acl, createFileAuth} from '../helpers/auth.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {startBroker, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

function setup(t: TestContext, interval = 10, options: Partial<BrokerOptions> = {}): {broker: Broker; timers: FakeTimers; sys: SysTopics} {
  const timers = new FakeTimers()
  const broker = startBroker(t, {timers, ...options})
  const sys = new SysTopics(engineOf(broker), {interval, version: '0.1.0', timers})
  t.after(() => sys.stop())
  return {broker, timers, sys}
}

/** Subscribes to a filter and returns the retained messages it gets, topic -> payload. */
async function readRetained(w: Wire, filter = '$SYS/#'): Promise<Map<string, string>> {
  await w.subscribe(filter, 0)
  const out = new Map<string, string>()
  for (const p of await drain(w)) {
    assert.equal(p.retain, true)
    out.set(p.topic, p.payload.toString())
  }
  return out
}

const written = new WeakMap<Wire, number>()

/** Counts what a wire sends to the broker. */
function counted(w: Wire): Wire {
  const write = w.stream.write.bind(w.stream) as (chunk: Buffer) => boolean
  written.set(w, 0)
  w.stream.write = ((chunk: Buffer) => {
    written.set(w, written.get(w)! + chunk.length)
    return write(chunk)
  }) as typeof w.stream.write
  return w
}

/** Bytes the wires sent to the broker. */
function sent(...wires: Wire[]): number {
  return wires.reduce((n, w) => n + written.get(w)!, 0)
}

/** Every PUBLISH that arrives before the answer to a PINGREQ sent now. */
async function drain(w: Wire): Promise<PublishPacket[]> {
  w.send({cmd: 'pingreq'})
  const out: PublishPacket[] = []
  for (;;) {
    const p = await w.next()
    if (p.cmd === 'pingresp') return out
    assert.equal(p.cmd, 'publish')
    out.push(p as PublishPacket)
  }
}

describe('$SYS topics', () => {
  test('values after a known workload', async (t) => {
    const {broker, timers, sys} = setup(t)
    sys.start()
    // a persistent subscriber that goes away, a publisher, and the reader
    const away = counted(new Wire(broker, 4))
    await away.connect({clientId: 'away', clean: false})
    await away.subscribe('w/#', 1)
    await away.subscribe('$share/g/s/#', 0)
    const pub = counted(new Wire(broker, 5))
    await pub.connect({clientId: 'pub'})
    for (let i = 0; i < 5; i++) {
      pub.publish('w/x', `m${i}`, 1, {messageId: i + 1})
      await pub.expect('puback')
      const got = await away.expect('publish')
      await away.ack(got)
    }
    pub.publish('w/r', 'kept', 0, {retain: true})
    await away.expect('publish')
    away.end()
    await away.closed()
    // two QoS 1 messages wait in the away session; a QoS 0 one is not queued (and not counted as dropped)
    for (let i = 0; i < 2; i++) {
      pub.publish('w/q', `q${i}`, 1, {messageId: 10 + i})
      await pub.expect('puback')
    }
    pub.publish('w/q', 'qos0', 0)
    await pub.quiet()
    // a short-lived clean client
    const brief = counted(new Wire(broker, 4))
    await brief.connect({clientId: 'brief'})
    brief.end()
    await brief.closed()

    timers.advance(10_000)
    const reader = new Wire(broker, 5)
    await reader.connect({clientId: 'reader'})
    const sys1 = await readRetained(reader)

    assert.equal(sys1.get('$SYS/broker/version'), 'midge version 0.1.0')
    assert.equal(sys1.get('$SYS/broker/uptime'), '10 seconds')
    // at the update: pub connected, away disconnected with its session
    assert.equal(sys1.get('$SYS/broker/clients/connected'), '1')
    assert.equal(sys1.get('$SYS/broker/clients/active'), '1')
    assert.equal(sys1.get('$SYS/broker/clients/disconnected'), '1')
    assert.equal(sys1.get('$SYS/broker/clients/inactive'), '1')
    assert.equal(sys1.get('$SYS/broker/clients/total'), '2')
    assert.equal(sys1.get('$SYS/broker/clients/maximum'), '2')
    assert.equal(sys1.get('$SYS/broker/clients/expired'), '0')
    // 5 + 1 + 2 + 1 PUBLISHes in; 5 + 1 out (the queued two are not sent yet)
    assert.equal(sys1.get('$SYS/broker/publish/messages/received'), '9')
    assert.equal(sys1.get('$SYS/broker/publish/messages/sent'), '6')
    assert.equal(sys1.get('$SYS/broker/publish/messages/dropped'), '0')
    // stored: the retained w/r and the two queued messages; retained count at the update: w/r plus the $SYS values so far
    assert.equal(sys1.get('$SYS/broker/store/messages/count'), sys1.get('$SYS/broker/messages/stored'))
    const retainedAtUpdate = Number(sys1.get('$SYS/broker/retained messages/count'))
    assert.ok(retainedAtUpdate > 1)
    assert.equal(Number(sys1.get('$SYS/broker/store/messages/count')), retainedAtUpdate + 2)
    assert.equal(sys1.get('$SYS/broker/subscriptions/count'), '1')
    assert.equal(sys1.get('$SYS/broker/shared_subscriptions/count'), '1')
    assert.equal(sys1.get('$SYS/broker/messages/inflight'), '0')
    assert.match(sys1.get('$SYS/broker/heap/current')!, /^\d+$/)
    // load: 9 PUBLISHes in the 10 s interval = 54 a minute, folded into each average from 0
    for (const [window, span] of [['1min', 60], ['5min', 300], ['15min', 900]] as const) {
      const expected = (54 * (1 - Math.exp(-10 / span))).toFixed(2)
      assert.equal(sys1.get(`$SYS/broker/load/publish/received/${window}`), expected, window)
      assert.equal(sys1.get(`$SYS/broker/load/publish/dropped/${window}`), '0.00')
    }
    // every packet and byte is counted: more packets than PUBLISHes, bytes as the engine counted them
    assert.ok(Number(sys1.get('$SYS/broker/messages/received')) > 9)
    assert.ok(Number(sys1.get('$SYS/broker/messages/sent')) > 6)
    assert.equal(sys1.get('$SYS/broker/bytes/received'), String(sent(away, pub, brief)))
    // payloads: m0..m4 (2 bytes each), kept, q0, q1, qos0
    assert.equal(sys1.get('$SYS/broker/publish/bytes/received'), String(5 * 2 + 4 + 2 * 2 + 4))
    assert.equal(sys1.get('$SYS/broker/publish/bytes/sent'), String(5 * 2 + 4))
    // 3 sockets and 3 CONNECTs in the interval
    assert.equal(sys1.get('$SYS/broker/load/sockets/1min'), (18 * (1 - Math.exp(-10 / 60))).toFixed(2))
    assert.equal(sys1.get('$SYS/broker/load/connections/1min'), (18 * (1 - Math.exp(-10 / 60))).toFixed(2))
    for (const name of ['messages/received', 'messages/sent', 'publish/sent', 'bytes/received', 'bytes/sent', 'sockets', 'connections']) {
      assert.match(sys1.get(`$SYS/broker/load/${name}/1min`)!, /^\d+\.\d\d$/, name)
    }
  })

  test('the next update sends uptime and what changed only, to live subscribers (retain 0)', async (t) => {
    const {broker, timers, sys} = setup(t, 5)
    sys.start()
    const reader = new Wire(broker, 4)
    await reader.connect({clientId: 'reader'})
    await readRetained(reader)
    timers.advance(5000)
    const topics = (await drain(reader)).map((p) => {
      assert.equal(p.retain, false)
      return p.topic
    })
    assert.ok(topics.includes('$SYS/broker/uptime'))
    assert.ok(topics.includes('$SYS/broker/clients/connected'), 'the reader connected since the first update')
    assert.ok(!topics.includes('$SYS/broker/version'))
    assert.ok(!topics.includes('$SYS/broker/clients/expired'))
    assert.equal(engineOf(broker).retained.match('$SYS/broker/uptime', timers.now())[0].payload.toString(), '5 seconds')
  })

  test('an expired session is counted', async (t) => {
    const {broker, timers, sys} = setup(t, 10)
    sys.start()
    const c = new Wire(broker, 5)
    await c.connect({clientId: 'brief-session', properties: {sessionExpiryInterval: 3}})
    c.end()
    await c.closed()
    timers.advance(10_000)
    assert.equal(engineOf(broker).retained.match('$SYS/broker/clients/expired', timers.now())[0].payload.toString(), '1')
    assert.equal(engineOf(broker).retained.match('$SYS/broker/clients/total', timers.now())[0].payload.toString(), '0')
  })

  test('sys_interval 0 publishes nothing and arms no timer', async (t) => {
    const {broker, timers, sys} = setup(t, 0)
    sys.start()
    timers.advance(60_000)
    assert.equal(engineOf(broker).retained.size, 0)
  })

  test('stop() ends the updates', async (t) => {
    const {broker, timers, sys} = setup(t, 1)
    sys.start()
    timers.advance(1000)
    sys.stop()
    timers.advance(5000)
    assert.equal(engineOf(broker).retained.match('$SYS/broker/uptime', timers.now())[0].payload.toString(), '1 seconds')
  })

  test('the ACL decides who reads $SYS', async (t) => {
    const auth = createFileAuth({acl: acl('user admin\ntopic read $SYS/#\nuser bob\ntopic read $SYS/broker/clients/#\ntopic readwrite bob/#\n')})
    const {broker, sys} = setup(t, 10, {auth})
    sys.start()
    const admin = new Wire(broker, 5)
    await admin.connect({clientId: 'a', username: 'admin'})
    assert.ok((await readRetained(admin)).has('$SYS/broker/uptime'))
    const bob = new Wire(broker, 5)
    await bob.connect({clientId: 'b', username: 'bob'})
    const seen = await readRetained(bob)
    assert.ok(seen.size > 0)
    for (const topic of seen.keys()) assert.match(topic, /^\$SYS\/broker\/clients\//)
    const anon = new Wire(broker, 5)
    await anon.connect({clientId: 'c'})
    // no rule applies to it: granted, as Mosquitto does, and nothing is delivered
    const ack = await anon.subscribe('$SYS/#', 0)
    assert.deepEqual(ack.granted, [0])
    assert.equal((await readRetained(anon)).size, 0)
  })

  test('with persistence, $SYS values are not stored', async (t) => {
    const store = await MemoryStore.open(new MemoryBacking())
    t.after(() => store.close())
    const {broker, timers, sys} = setup(t, 1, {store})
    sys.start()
    const pub = new Wire(broker, 4)
    await pub.connect({clientId: 'p'})
    pub.publish('kept/topic', 'yes', 1, {retain: true})
    await pub.expect('puback')
    timers.advance(2000)
    await store.flush()
    assert.ok(engineOf(broker).retained.size > 1)
    assert.deepEqual((await store.loadRetained()).map((m) => m.topic), ['kept/topic'])
  })
})
