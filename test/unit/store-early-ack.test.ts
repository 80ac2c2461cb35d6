import assert from 'node:assert/strict'
import {describe, test, type TestContext} from 'node:test'

import {createBroker, type Broker} from '../../src/broker/broker.js'
import {MemoryBacking, MemoryStore, OutboundState} from '../../src/broker/store/index.js'
import type {ConnectPacket, ProtocolVersion} from '../../src/codec/index.js'
import {versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

/*
 * With persistence on, a QoS 1 PUBACK waits for the commit of the writes it confirms, except when every
 * stored delivery of the message has already been acknowledged by its receiver: then nothing of it can
 * be lost and the PUBACK goes at once, in order with the acknowledgements before it.
 */

/** A broker on a memory store whose commits can be held back. */
async function gatedBroker(t: TestContext, options: {maxInflightMessages?: number} = {}) {
  const disk = new MemoryBacking()
  const store = await MemoryStore.open(disk)
  let holding = false
  const held: Array<() => void> = []
  const durable = store.durable.bind(store)
  store.durable = () => holding ? new Promise<void>((resolve, reject) => { held.push(() => { durable().then(resolve, reject) }) }) : durable()
  const release = () => {
    holding = false
    for (const go of held.splice(0)) go()
  }
  const broker = createBroker({store, ...options})
  await broker.restore()
  t.after(async () => {
    release()
    await broker.close()
    await store.close()
  })
  return {broker, disk, hold: () => { holding = true }, release}
}

const persistent = (v: ProtocolVersion): Partial<ConnectPacket> => v === 5 ? {clean: false, properties: {sessionExpiryInterval: 3600}} : {clean: false}

async function client(broker: Broker, v: ProtocolVersion, clientId: string, subscribeTo?: string): Promise<Wire> {
  const w = new Wire(broker, v)
  await w.connect({clientId, ...persistent(v)})
  if (subscribeTo !== undefined) await w.subscribe(subscribeTo, 1)
  return w
}

for (const v of VERSIONS) {
  describe(`QoS 1 acknowledgements with persistence ${versionName(v)}`, () => {
    test('a message its stored subscriber has acknowledged is PUBACKed while the commit is still pending', async (t) => {
      const g = await gatedBroker(t)
      const sub = await client(g.broker, v, 'sub', 't')
      const pub = await client(g.broker, v, 'pub')
      g.hold()
      pub.publish('t', 'one', 1, {messageId: 7})
      const p = await sub.expect('publish')
      await pub.quiet()
      assert.equal(pub.buffered.length, 0, 'no PUBACK while the delivery is neither acknowledged nor committed')
      await sub.ack(p)
      assert.equal((await pub.expect('puback')).messageId, 7)
      const onDisk = () => [...g.disk.outbound.values()].filter((o) => o.clientId === 'sub').length
      assert.equal(onDisk(), 0, 'the PUBACK did not wait for the message to reach the disk')
      g.release()
      await new Promise((r) => setTimeout(r, 20))
      await engineOf(g.broker).persistence!.store.flush()
      assert.equal(onDisk(), 0, 'delivered before its commit: its row never reaches the disk')
    })

    test('a message queued for an offline subscriber is PUBACKed only after its commit', async (t) => {
      const g = await gatedBroker(t)
      const sub = await client(g.broker, v, 'sub', 't')
      sub.send({cmd: 'disconnect'})
      await sub.closed()
      const pub = await client(g.broker, v, 'pub')
      g.hold()
      pub.publish('t', 'one', 1, {messageId: 3})
      await pub.quiet()
      assert.equal(pub.buffered.length, 0)
      g.release()
      assert.equal((await pub.expect('puback')).messageId, 3)
      assert.equal([...g.disk.outbound.values()].filter((o) => o.clientId === 'sub').length, 1, 'durable when acknowledged')
    })

    test('acknowledgements keep their order: a delivered message waits behind one that needs its commit', async (t) => {
      const g = await gatedBroker(t)
      const offline = await client(g.broker, v, 'offline', 'slow')
      offline.send({cmd: 'disconnect'})
      await offline.closed()
      const sub = await client(g.broker, v, 'sub', 'fast')
      const pub = await client(g.broker, v, 'pub')
      g.hold()
      pub.publish('slow', 'first', 1, {messageId: 1})
      pub.publish('fast', 'second', 1, {messageId: 2})
      await sub.ack(await sub.expect('publish'))
      await pub.quiet()
      assert.equal(pub.buffered.length, 0, 'the second PUBACK does not overtake the first')
      g.release()
      assert.deepEqual((await pub.take(2)).map((a) => a.messageId), [1, 2])
    })

    test('messages queued behind a connected subscriber\'s full in-flight window are PUBACKed once it acknowledges them, never written', async (t) => {
      const g = await gatedBroker(t, {maxInflightMessages: 1})
      const sub = await client(g.broker, v, 'sub', 't')
      const pub = await client(g.broker, v, 'pub')
      g.hold()
      pub.publish('t', 'one', 1, {messageId: 1})
      pub.publish('t', 'two', 1, {messageId: 2})
      const first = await sub.expect('publish')
      await sub.quiet()
      assert.equal(sub.buffered.length, 0, 'the second waits in the queue: a window of one')
      await sub.ack(first)
      await sub.ack(await sub.expect('publish'))
      assert.deepEqual((await pub.take(2)).map((a) => a.messageId), [1, 2], 'both PUBACKs while the commits are held')
      g.release()
      await engineOf(g.broker).persistence!.store.flush()
      assert.equal([...g.disk.outbound.values()].filter((o) => o.clientId === 'sub').length, 0, 'delivered before any commit: nothing written')
    })

    test('messages queued behind a full window that the subscriber does not acknowledge are PUBACKed only once on the disk', async (t) => {
      const g = await gatedBroker(t, {maxInflightMessages: 1})
      const sub = await client(g.broker, v, 'sub', 't')
      const pub = await client(g.broker, v, 'pub')
      g.hold()
      pub.publish('t', 'one', 1, {messageId: 1})
      pub.publish('t', 'two', 1, {messageId: 2})
      await sub.expect('publish')
      await pub.quiet()
      assert.equal(pub.buffered.length, 0, 'no PUBACK while neither delivered nor committed')
      g.release()
      assert.deepEqual((await pub.take(2)).map((a) => a.messageId), [1, 2])
      const rows = [...g.disk.outbound.values()].filter((o) => o.clientId === 'sub')
      assert.equal(rows.length, 2, 'the one in flight and the one queued are both durable when acknowledged')
      assert.deepEqual(rows.map((o) => (o.inline ?? g.disk.messages.get(o.messageId))?.payload.toString()).sort(), ['one', 'two'])
      assert.deepEqual(rows.map((o) => o.state).sort(), [OutboundState.Queued, OutboundState.Publish].sort(), 'each in the state it is in')
    })

    test('a retained message waits for its commit even when delivered', async (t) => {
      const g = await gatedBroker(t)
      const sub = await client(g.broker, v, 'sub', 't')
      const pub = await client(g.broker, v, 'pub')
      g.hold()
      pub.publish('t', 'kept', 1, {messageId: 5, retain: true})
      await sub.ack(await sub.expect('publish'))
      await pub.quiet()
      assert.equal(pub.buffered.length, 0)
      g.release()
      assert.equal((await pub.expect('puback')).messageId, 5)
      assert.equal(g.disk.retained.get('t')?.payload.toString(), 'kept')
    })
  })
}

test('a delivery still in flight when the broker closes is stored and resent after the restart', async (t) => {
  const disk = new MemoryBacking()
  const store = await MemoryStore.open(disk)
  const broker = createBroker({store})
  await broker.restore()
  const sub = await client(broker, 5, 'sub', 't')
  const pub = await client(broker, 5, 'pub')
  pub.publish('t', 'unacked', 1, {messageId: 1})
  const first = await sub.expect('publish')
  assert.equal(first.dup, false)
  await broker.close() // the subscriber never acknowledged it: nothing committed it before
  await store.close()
  const again = await MemoryStore.open(disk)
  const restarted = createBroker({store: again})
  t.after(async () => {
    await restarted.close()
    await again.close()
  })
  await restarted.restore()
  const w = new Wire(restarted, 5)
  await w.connect({clientId: 'sub', ...persistent(5)})
  const resent = await w.expect('publish')
  assert.equal(resent.payload.toString(), 'unacked')
  assert.equal(resent.dup, true)
})

test('a QoS 1 message whose delivery fails (a delivery hook throws) is acknowledged and leaves nothing counted', async (t) => {
  const store = await MemoryStore.open(new MemoryBacking())
  const broker = createBroker({store, auth: {authorizeDeliver: (_client, topic) => {
    if (topic === 'boom') throw new Error('hook failed')
    return true
  }}})
  await broker.restore()
  t.after(async () => {
    await broker.close()
    await store.close()
  })
  await client(broker, 5, 'sub', '#')
  const pub = await client(broker, 5, 'pub')
  pub.publish('fine', 'x', 1, {messageId: 1})
  assert.equal((await pub.expect('puback')).messageId, 1)
  const acks = engineOf(broker).persistence!.acks
  assert.equal(acks.tracked, 0)
  pub.publish('boom', 'x', 1, {messageId: 2})
  // the hook's failure costs that one delivery (counted), not the publisher's connection
  assert.equal((await pub.expect('puback')).messageId, 2)
  assert.equal(engineOf(broker).metrics.dropped['delivery-failed'], 1)
  assert.equal(acks.tracked, 0, 'the failed message left no entry behind')
})

test('a held acknowledgement that cannot be sent costs that connection only, not the acknowledgements behind it', async (t) => {
  const {broker, hold, release} = await gatedBroker(t)
  const sub = await client(broker, 5, 'sub', 't')
  sub.end() // offline: what it is sent waits for the disk, and so does the PUBACK
  await sub.closed()
  const bad = await client(broker, 5, 'bad')
  const good = await client(broker, 5, 'good')
  const link = engineOf(broker).sessions.get('bad')!.link as unknown as {send(p: unknown): void}
  link.send = () => { throw new Error('engine bug') }
  hold()
  bad.publish('t', 'x', 1, {messageId: 1})
  good.publish('t', 'y', 1, {messageId: 2})
  await good.quiet() // both are now waiting for the commit
  release()
  assert.equal((await good.expect('puback')).messageId, 2)
  await bad.closed()
  assert.equal(engineOf(broker).metrics.internalErrors, 1)
})
