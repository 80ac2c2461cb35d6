import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test, type TestContext} from 'node:test'

import {createBroker, type Broker} from '../../src/broker/broker.js'
import {MemoryBacking, MemoryStore, SqliteStore, type BrokerStore} from '../../src/broker/store/index.js'
import type {Timers} from '../../src/broker/timers.js'
import type {ConnectPacket, ProtocolVersion} from '../../src/codec/index.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

/*
 * The engine with a store: what a restart finds. A crash is simulated by copying the memory store's
 * committed state at that instant (the broker that "crashed" keeps running, unseen) and starting a
 * new broker on the copy.
 */

function copy(b: MemoryBacking): MemoryBacking {
  const c = new MemoryBacking()
  for (const [k, v] of b.sessions) c.sessions.set(k, v)
  for (const [k, v] of b.subscriptions) c.subscriptions.set(k, new Map(v))
  for (const [k, v] of b.messages) c.messages.set(k, v)
  for (const [k, v] of b.outbound) c.outbound.set(k, {...v})
  for (const [k, v] of b.inbound) c.inbound.set(k, new Set(v))
  for (const [k, v] of b.retained) c.retained.set(k, v)
  return c
}

async function boot(t: TestContext, backing: MemoryBacking, timers?: Timers): Promise<Broker> {
  const store = await MemoryStore.open(backing)
  const broker = createBroker({store, ...(timers ? {timers} : {})})
  t.after(async () => {
    await broker.close()
    await store.close()
  })
  await broker.restore()
  return broker
}

const persistent = (v: ProtocolVersion, expiry = 3600): Partial<ConnectPacket> =>
  v === 5 ? {clean: false, properties: {sessionExpiryInterval: expiry}} : {clean: false}

async function resume(broker: Broker, v: ProtocolVersion, clientId: string, present = true): Promise<Wire> {
  const w = new Wire(broker, v)
  const ack = await w.connect({clientId, ...persistent(v)})
  assert.equal(ack.sessionPresent, present, 'session present')
  return w
}

for (const v of VERSIONS) {
  describe(`persistence across a crash ${versionName(v)}`, () => {
    test('subscriptions and queued QoS 1/2 messages are found again, in order; QoS 0 is not', async (t) => {
      const disk = new MemoryBacking()
      const a = await boot(t, disk)
      const sub = await resume(a, v, 'sub', false)
      await sub.subscribe([{topic: 'q1', qos: 1}, {topic: 'q2', qos: 2}])
      sub.send({cmd: 'disconnect'})
      await sub.closed()
      const pub = new Wire(a, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('q1', 'one', 1, {messageId: 1})
      pub.publish('q2', 'two', 2, {messageId: 2})
      pub.publish('q1', 'three', 1, {messageId: 3})
      pub.publish('q1', 'lost', 0)
      const acks = await pub.take(3)
      assert.deepEqual(acks.map((p) => p.cmd), ['puback', 'pubrec', 'puback'])
      const b = await boot(t, copy(disk))
      const again = await resume(b, v, 'sub')
      const got = [await again.expect('publish'), await again.expect('publish'), await again.expect('publish')]
      assert.deepEqual(got.map((p) => [p.topic, p.payload.toString(), p.qos]), [['q1', 'one', 1], ['q2', 'two', 2], ['q1', 'three', 1]])
      for (const p of got) await again.ack(p)
      await again.quiet()
      // the subscription itself survived
      const pub2 = new Wire(b, v)
      await pub2.connect({clientId: 'pub2'})
      pub2.publish('q1', 'after', 1, {messageId: 9})
      await pub2.expect('puback')
      assert.equal((await again.expect('publish')).payload.toString(), 'after')
    })

    test('a queued message keeps the packet id it was given when queued, across a restart (as Mosquitto does)', async (t) => {
      const disk = new MemoryBacking()
      const a = await boot(t, disk)
      const sub = await resume(a, v, 'sub', false)
      await sub.subscribe('t', 1)
      const pub = new Wire(a, v)
      await pub.connect({clientId: 'pub'})
      // five delivered and acknowledged while connected: the session's ids have moved on to 6
      for (let i = 1; i <= 5; i++) {
        pub.publish('t', `live${i}`, 1, {messageId: i})
        await pub.expect('puback')
        await sub.ack(await sub.expect('publish'))
      }
      sub.send({cmd: 'disconnect'})
      await sub.closed()
      for (let i = 6; i <= 7; i++) {
        pub.publish('t', `queued${i}`, 1, {messageId: i})
        await pub.expect('puback')
      }
      const b = await boot(t, copy(disk))
      const again = await resume(b, v, 'sub')
      const got = [await again.expect('publish'), await again.expect('publish')]
      assert.deepEqual(got.map((p) => [p.payload.toString(), p.messageId]), [['queued6', 6], ['queued7', 7]])
      for (const p of got) await again.ack(p)
      await again.quiet()
    })

    test('a PUBACK is sent only once the message is in the store', async (t) => {
      const disk = new MemoryBacking()
      const a = await boot(t, disk)
      const sub = await resume(a, v, 'sub', false)
      await sub.subscribe('t', 1)
      sub.send({cmd: 'disconnect'})
      await sub.closed()
      const pub = new Wire(a, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 1; i <= 50; i++) pub.publish('t', `m${i}`, 1, {messageId: i})
      for (let i = 1; i <= 50; i++) {
        const ack = await pub.expect('puback')
        assert.equal(ack.messageId, i, 'in order')
        const stored = [...disk.outbound.values()].filter((o) => o.clientId === 'sub').length
        assert.ok(stored >= i, `message ${i} is durable when acknowledged`)
      }
    })

    test('in-flight messages are resent with DUP and their packet id; PUBREL after PUBREC', async (t) => {
      const disk = new MemoryBacking()
      const a = await boot(t, disk)
      const sub = await resume(a, v, 'sub', false)
      await sub.subscribe([{topic: 'one', qos: 1}, {topic: 'two', qos: 2}])
      const pub = new Wire(a, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('one', 'x', 1, {messageId: 1})
      pub.publish('two', 'y', 2, {messageId: 2})
      await pub.take(2)
      const p1 = await sub.expect('publish')
      const p2 = await sub.expect('publish')
      sub.send({cmd: 'pubrec', messageId: p2.messageId})
      await sub.expect('pubrel')
      await sub.quiet()
      await engineOf(a).persistence!.store.flush()
      const b = await boot(t, copy(disk))
      const again = await resume(b, v, 'sub')
      const r1 = await again.expect('publish')
      assert.deepEqual([r1.topic, r1.messageId, r1.dup, r1.qos], ['one', p1.messageId, true, 1])
      const rel = await again.expect('pubrel')
      assert.equal(rel.messageId, p2.messageId)
      again.send({cmd: 'puback', messageId: r1.messageId})
      again.send({cmd: 'pubcomp', messageId: p2.messageId})
      await again.quiet()
      assert.equal(engineOf(b).sessions.get('sub')!.inflight.size, 0)
    })

    test('an inbound QoS 2 packet id awaiting PUBREL survives: the resent PUBLISH is not delivered twice', async (t) => {
      const disk = new MemoryBacking()
      const a = await boot(t, disk)
      const sub = await resume(a, v, 'sub', false)
      await sub.subscribe('t', 2)
      sub.send({cmd: 'disconnect'})
      await sub.closed()
      const pub = await resume(a, v, 'pub', false)
      pub.publish('t', 'once', 2, {messageId: 7})
      await pub.expect('pubrec')
      const b = await boot(t, copy(disk))
      const pub2 = await resume(b, v, 'pub')
      pub2.publish('t', 'once', 2, {messageId: 7, dup: true})
      await pub2.expect('pubrec')
      pub2.send({cmd: 'pubrel', messageId: 7})
      const comp = await pub2.expect('pubcomp')
      assert.equal(comp.reasonCode ?? 0, 0)
      const again = await resume(b, v, 'sub')
      const got = await again.expect('publish')
      assert.equal(got.payload.toString(), 'once')
      await again.ack(got)
      await again.quiet()
    })

    test('retained messages and their deletion survive', async (t) => {
      const disk = new MemoryBacking()
      const a = await boot(t, disk)
      const pub = new Wire(a, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('r/kept', 'k', 1, {messageId: 1, retain: true})
      pub.publish('r/gone', 'g', 1, {messageId: 2, retain: true})
      pub.publish('r/gone', '', 1, {messageId: 3, retain: true})
      pub.publish('r/q0', 'zero', 0, {retain: true})
      await pub.take(3)
      const b = await boot(t, copy(disk))
      const s = new Wire(b, v)
      await s.connect({clientId: 's'})
      s.send({cmd: 'subscribe', messageId: 1, subscriptions: [{topic: 'r/#', qos: 1}]})
      // with a store, SUBACK waits for the subscription's commit: retained messages may come first
      const got = (await s.take(3)).filter((p) => p.cmd === 'publish') as Array<{topic: string; retain: boolean}>
      assert.deepEqual(got.map((p) => [p.topic, p.retain]).sort(), [['r/kept', true], ['r/q0', true]])
      await s.quiet()
    })

    test('clean sessions are not stored, and a clean start removes a stored one', async (t) => {
      const disk = new MemoryBacking()
      const a = await boot(t, disk)
      const c = new Wire(a, v)
      await c.connect({clientId: 'clean'})
      await c.subscribe('x', 1)
      const p = await resume(a, v, 'p', false)
      await p.subscribe('y', 1)
      await p.quiet()
      assert.deepEqual([...disk.sessions.keys()], ['p'])
      p.send({cmd: 'disconnect'})
      await p.closed()
      const p2 = new Wire(a, v)
      await p2.connect({clientId: 'p', clean: true})
      await p2.subscribe('z', 0)
      assert.equal(disk.sessions.size, 0)
      assert.equal(disk.subscriptions.get('p')?.size ?? 0, 0)
    })

    test('the per-session queue limit applies to stored messages', async (t) => {
      const disk = new MemoryBacking()
      const store = await MemoryStore.open(disk)
      const a = createBroker({store, maxQueuedMessages: 2})
      t.after(async () => { await a.close(); await store.close() })
      const sub = await resume(a, v, 'sub', false)
      await sub.subscribe('t', 1)
      sub.send({cmd: 'disconnect'})
      await sub.closed()
      const pub = new Wire(a, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 1; i <= 5; i++) pub.publish('t', `m${i}`, 1, {messageId: i})
      await pub.take(5)
      assert.equal(disk.outbound.size, 2)
    })
  })
}

describe('persistence: expiry across a restart (v5, fake time)', () => {
  test('a session expires at its stored deadline; one past it is removed at start-up and its will published', async (t) => {
    const disk = new MemoryBacking()
    const clockA = new FakeTimers()
    const a = await boot(t, disk, clockA)
    const s = new Wire(a, 5)
    await s.connect({clientId: 'short', clean: false, properties: {sessionExpiryInterval: 10}})
    await s.subscribe('t', 1)
    s.send({cmd: 'disconnect'})
    await s.closed()
    const w = new Wire(a, 5)
    await w.connect({
      clientId: 'with-will', clean: false, properties: {sessionExpiryInterval: 5},
      will: {topic: 'wills/w', payload: Buffer.from('gone'), qos: 1, retain: true, properties: {willDelayInterval: 100}},
    })
    w.end() // no DISCONNECT: the will waits for its delay or the session's end
    await w.closed()
    await engineOf(a).persistence!.store.flush()

    const clockB = new FakeTimers()
    clockB.advance(7000) // 7 s after the disconnections
    const b = await boot(t, copy(disk), clockB)
    assert.equal(engineOf(b).sessions.has('with-will'), false, 'expired while down')
    assert.equal(engineOf(b).sessions.has('short'), true)
    assert.equal(engineOf(b).retained.size, 1, 'the will of the expired session was published')
    clockB.advance(2999)
    assert.equal(engineOf(b).sessions.has('short'), true)
    clockB.advance(1)
    assert.equal(engineOf(b).sessions.has('short'), false, 'expired 10 s after the disconnection, across the restart')
    await engineOf(b).persistence!.store.flush()
  })

  test('a queued message\'s expiry keeps counting down across a restart', async (t) => {
    const disk = new MemoryBacking()
    const clockA = new FakeTimers()
    const a = await boot(t, disk, clockA)
    const s = new Wire(a, 5)
    await s.connect({clientId: 'sub', clean: false, properties: {sessionExpiryInterval: 3600}})
    await s.subscribe('t', 1)
    s.send({cmd: 'disconnect'})
    await s.closed()
    const pub = new Wire(a, 5)
    await pub.connect({clientId: 'pub'})
    pub.publish('t', 'short', 1, {messageId: 1, properties: {messageExpiryInterval: 5}})
    pub.publish('t', 'long', 1, {messageId: 2, properties: {messageExpiryInterval: 60}})
    await pub.take(2)
    const clockB = new FakeTimers()
    clockB.advance(6000)
    const b = await boot(t, copy(disk), clockB)
    const again = new Wire(b, 5)
    await again.connect({clientId: 'sub', clean: false, properties: {sessionExpiryInterval: 3600}})
    const got = await again.expect('publish')
    assert.equal(got.payload.toString(), 'long')
    assert.equal(got.properties?.messageExpiryInterval, 54)
    await again.ack(got)
    await again.quiet()
  })
})

describe('persistence with SQLite', () => {
  test('a broker restarted on the same file resumes its sessions', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'midge-persist-'))
    t.after(() => rmSync(dir, {recursive: true, force: true}))
    const file = join(dir, 'midge.db')
    const start = async (): Promise<{broker: Broker; store: BrokerStore}> => {
      const store = await SqliteStore.open({file})
      const broker = createBroker({store})
      await broker.restore()
      return {broker, store}
    }
    let {broker, store} = await start()
    const sub = await resume(broker, 5, 'sub', false)
    await sub.subscribe('t', 2)
    sub.send({cmd: 'disconnect'})
    await sub.closed()
    const pub = new Wire(broker, 5)
    await pub.connect({clientId: 'pub'})
    for (let i = 1; i <= 100; i++) pub.publish('t', `m${i}`, i % 10 === 0 ? 2 : 1, {messageId: i, retain: i === 100})
    const acks = await pub.take(100)
    for (const ack of acks) if (ack.cmd === 'pubrec') pub.send({cmd: 'pubrel', messageId: ack.messageId})
    assert.deepEqual((await pub.take(10)).map((p) => p.cmd), Array(10).fill('pubcomp'))
    await broker.close()
    await store.close()
    ;({broker, store} = await start())
    t.after(async () => { await broker.close(); await store.close() })
    const again = await resume(broker, 5, 'sub')
    const payloads: string[] = []
    while (payloads.length < 100) {
      const p = await again.next()
      if (p.cmd === 'pubrel') again.send({cmd: 'pubcomp', messageId: p.messageId})
      if (p.cmd !== 'publish') continue
      payloads.push(p.payload.toString())
      again.send({cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: p.messageId})
    }
    assert.deepEqual(payloads, Array.from({length: 100}, (_, i) => `m${i + 1}`))
    assert.equal(engineOf(broker).retained.size, 1)
  })
})
