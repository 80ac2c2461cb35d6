import assert from 'node:assert/strict'
import {after, afterEach, beforeEach, describe, test} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {
  OutboundState, StoreError,
  type BrokerStore, type OutboundRecord, type StoredMessage, type StoredSession, type StoredSessionState,
} from '../../src/broker/store/index.js'

/** Row counts of a closed store's storage, by kind. */
export interface RowCounts {
  sessions: number
  subscriptions: number
  messages: number
  outbound: number
  inbound: number
  retained: number
}

/** One storage location under test; open() may be called again after close() to reopen it. */
export interface StoreHarness {
  open(): Promise<BrokerStore>
  /** Row counts; only called while no store is open. */
  counts(): Promise<RowCounts> | RowCounts
  /** Marks the (closed) storage as written by a newer schema version. */
  setNewerSchema(): Promise<void> | void
  /** Damages the (closed) storage; absent when the storage cannot be damaged. */
  corrupt?(): Promise<void> | void
  /** A fingerprint of the (closed) storage's bytes, to show a refused open changed nothing. */
  fingerprint?(): string
  cleanup(): Promise<void> | void
  /** The StoreError class the store throws, when the store is not src/'s (the built one in dist/). */
  storeError?: typeof StoreError
}

const T0 = 1_700_000_000_000

function message(topic: string, payload = `payload of ${topic}`, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {topic, payload: Buffer.from(payload), qos: 1, retain: false, ...extra}
}

function queued(msg: StoredMessage, extra: Partial<OutboundRecord> = {}): OutboundRecord {
  return {message: msg, qos: msg.qos, retain: false, state: OutboundState.Queued, packetId: 0, dup: false, ...extra}
}

function session(clientId: string, extra: Partial<StoredSession> = {}): StoredSession {
  return {clientId, protocolVersion: 5, expiryInterval: 3600, ...extra}
}

function byId(states: StoredSessionState[]): Map<string, StoredSessionState> {
  return new Map(states.map((s) => [s.session.clientId, s]))
}

/** Plain view of a message for deep comparison. */
function plain(m: StoredMessage): StoredMessage {
  const {topic, payload, qos, retain, properties, expiresAt, origin} = m
  return {
    topic, payload: Buffer.from(payload), qos, retain,
    ...(properties === undefined ? {} : {properties}),
    ...(expiresAt === undefined ? {} : {expiresAt}),
    ...(origin === undefined ? {} : {origin}),
  }
}

/**
 * The behaviour every SessionStore/RetainedStore implementation shares. `factory` makes a fresh,
 * empty storage location for each test.
 */
export function runStoreContract(name: string, factory: () => Promise<StoreHarness> | StoreHarness): void {
  describe(`store contract: ${name}`, () => {
    let h: StoreHarness
    let store: BrokerStore | undefined
    const open = async (): Promise<BrokerStore> => (store = await h.open())
    const reopen = async (options?: {discard?: boolean}): Promise<BrokerStore> => {
      await store?.close(options)
      return open()
    }
    const closed = async (): Promise<RowCounts> => {
      await store?.close()
      store = undefined
      return h.counts()
    }

    beforeEach(async () => {
      h = await factory()
    })
    afterEach(async () => {
      await store?.close({discard: true})
      store = undefined
      await h.cleanup()
    })
    after(() => undefined)

    test('a new store is empty', async () => {
      const s = await open()
      assert.deepEqual(await s.loadSessions(), [])
      assert.deepEqual(await s.loadRetained(), [])
      assert.equal(s.pending, 0)
    })

    test('retained messages: set, replace, delete, with every field, across a reopen', async () => {
      let s = await open()
      const full = message('a/b', 'hello', {
        qos: 2, retain: true, expiresAt: T0 + 5000, origin: 'pub-1',
        properties: {
          payloadFormatIndicator: true, contentType: 'text/plain', responseTopic: 'r/t',
          correlationData: Buffer.from([0, 1, 2, 255]), userProperties: {a: '1', b: ['2', '3'], $base64: 'x'},
        },
      })
      s.setRetained(message('a/b', 'old', {retain: true}))
      s.setRetained(full)
      s.setRetained(message('c', 'c', {retain: true, qos: 0}))
      s.setRetained(message('gone', 'x', {retain: true}))
      await s.flush()
      s.deleteRetained('gone')
      s.deleteRetained('never-set')
      await s.flush()
      s = await reopen()
      const got = (await s.loadRetained()).map(plain).sort((x, y) => x.topic.localeCompare(y.topic))
      assert.deepEqual(got, [plain(full), plain(message('c', 'c', {retain: true, qos: 0}))])
      assert.ok(Buffer.isBuffer(got[0].properties?.correlationData))
    })

    test('sessions: upsert with will, replace, across a reopen', async () => {
      let s = await open()
      const will = {
        topic: 'will/t', payload: Buffer.from('bye'), qos: 1 as const, retain: true, publishAt: T0 + 30_000,
        properties: {willDelayInterval: 30, messageExpiryInterval: 60, correlationData: Buffer.from('c'), userProperties: {k: 'v'}},
      }
      s.upsertSession(session('one', {protocolVersion: 4, username: 'alice', expiryInterval: 0xffff_ffff}))
      s.upsertSession(session('two', {expiresAt: T0 + 3_600_000, will}))
      s.upsertSession(session('three', {expiryInterval: 10}))
      s.upsertSession(session('three', {expiryInterval: 20, expiresAt: T0 + 20_000, username: 'bob'}))
      await s.flush()
      s = await reopen()
      const got = byId(await s.loadSessions())
      assert.deepEqual([...got.keys()].sort(), ['one', 'three', 'two'])
      assert.deepEqual(got.get('one')!.session, session('one', {protocolVersion: 4, username: 'alice', expiryInterval: 0xffff_ffff}))
      assert.deepEqual(got.get('two')!.session, session('two', {expiresAt: T0 + 3_600_000, will}))
      assert.deepEqual(got.get('three')!.session, session('three', {expiryInterval: 20, expiresAt: T0 + 20_000, username: 'bob'}))
      assert.deepEqual(got.get('one')!.outbound, [])
      assert.deepEqual(got.get('one')!.inboundQos2, [])
      assert.equal(got.get('one')!.subscriptions.size, 0)
    })

    test('subscriptions with every option: add, replace, remove', async () => {
      let s = await open()
      s.upsertSession(session('c'))
      s.addSubscription('c', 'a/+', {qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0})
      s.addSubscription('c', 'a/+', {qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2, subscriptionId: 268_435_455})
      s.addSubscription('c', '$share/g/x/#', {qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 1, subscriptionId: 7})
      s.addSubscription('c', 'gone', {qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0})
      await s.flush()
      s.removeSubscription('c', 'gone')
      s.removeSubscription('c', 'never')
      s = await reopen()
      const subs = byId(await s.loadSessions()).get('c')!.subscriptions
      assert.deepEqual(new Map([...subs].sort()), new Map([
        ['$share/g/x/#', {qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 1, subscriptionId: 7}],
        ['a/+', {qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2, subscriptionId: 268_435_455}],
      ]))
    })

    test('outbound messages: every field round trips, updates persist, order is enqueue order', async () => {
      let s = await open()
      s.upsertSession(session('c'))
      s.upsertSession(session('d'))
      const m1 = message('t/1', 'one', {qos: 2, properties: {contentType: 'x', correlationData: Buffer.from('cd')}, expiresAt: T0 + 1000, origin: 'p'})
      const ids: number[] = []
      ids.push(s.enqueue('c', queued(m1, {qos: 2, retain: true, state: OutboundState.Publish, packetId: 17, subscriptionIds: [1, 5]})))
      for (let i = 0; i < 20; i++) {
        ids.push(s.enqueue(i % 2 === 0 ? 'c' : 'd', queued(message(`t/${i}`, `m${i}`), i === 3 ? {sharedGroup: 'g'} : {})))
      }
      assert.deepEqual([...ids].sort((x, y) => x - y), ids, 'ids ascend in enqueue order')
      await s.flush()
      s.updateOutbound(ids[1], {state: OutboundState.Publish, packetId: 18})
      s.updateOutbound(ids[0], {state: OutboundState.Pubrel})
      s.updateOutbound(ids[1], {dup: true})
      s.updateOutbound(123_456_789, {dup: true}) // unknown: ignored
      s = await reopen()
      const got = byId(await s.loadSessions())
      const c = got.get('c')!.outbound
      const d = got.get('d')!.outbound
      assert.equal(c.length, 11)
      assert.equal(d.length, 10)
      assert.deepEqual(c.map((o) => o.message.topic), ['t/1', ...Array.from({length: 10}, (_, i) => `t/${i * 2}`)])
      assert.deepEqual(d.map((o) => o.message.topic), Array.from({length: 10}, (_, i) => `t/${i * 2 + 1}`))
      assert.deepEqual(c.map((o) => o.id), [ids[0], ...ids.filter((_, i) => i > 0 && (i - 1) % 2 === 0)])
      const first = c[0]
      assert.deepEqual(plain(first.message), plain(m1))
      assert.equal(first.qos, 2)
      assert.equal(first.retain, true)
      assert.equal(first.state, OutboundState.Pubrel)
      assert.equal(first.packetId, 17)
      assert.equal(first.dup, false)
      assert.deepEqual(first.subscriptionIds, [1, 5])
      assert.equal(first.sharedGroup, undefined)
      assert.deepEqual({state: c[1].state, packetId: c[1].packetId, dup: c[1].dup}, {state: OutboundState.Publish, packetId: 18, dup: true})
      assert.equal(d[1].sharedGroup, 'g')
      // new ids keep ascending after a reopen
      const next = s.enqueue('c', queued(message('later')))
      assert.ok(next > Math.max(...ids))
    })

    test('one message to several sessions is stored once and freed with its last reference', async () => {
      let s = await open()
      s.upsertSession(session('a'))
      s.upsertSession(session('b'))
      const shared = message('fan/out', 'x'.repeat(1000))
      const ia = s.enqueue('a', queued(shared))
      const ib = s.enqueue('b', queued(shared, {qos: 0 as 0}))
      await s.flush()
      assert.equal((await closed()).messages, 1)
      s = await open()
      const got = byId(await s.loadSessions())
      const [oa] = got.get('a')!.outbound
      const [ob] = got.get('b')!.outbound
      assert.equal(oa.message, ob.message, 'loaded as one object')
      assert.equal(ob.qos, 0)
      s.removeOutbound(ia)
      let counts = await closed()
      assert.deepEqual([counts.messages, counts.outbound], [1, 1])
      s = await open()
      s.removeOutbound(ib)
      s.removeOutbound(ib) // twice: ignored
      counts = await closed()
      assert.deepEqual([counts.messages, counts.outbound], [0, 0])
    })

    test('a message object passed again after a reload (a retained message, a redelivery) is stored again', async () => {
      let s = await open()
      s.upsertSession(session('a'))
      s.upsertSession(session('b'))
      s.enqueue('a', queued(message('t', 'p', {expiresAt: T0})))
      s = await reopen()
      const [loaded] = byId(await s.loadSessions()).get('a')!.outbound
      s.enqueue('b', queued(loaded.message))
      s.enqueue('b', queued(loaded.message))
      s = await reopen()
      const got = byId(await s.loadSessions())
      assert.deepEqual(got.get('b')!.outbound.map((o) => plain(o.message)), [plain(loaded.message), plain(loaded.message)])
      assert.deepEqual(got.get('a')!.outbound.map((o) => plain(o.message)), [plain(loaded.message)])
      s.removeOutbound(got.get('b')!.outbound[0].id)
      s.removeOutbound(got.get('a')!.outbound[0].id)
      const counts = await closed()
      assert.deepEqual([counts.outbound, counts.messages], [1, 1])
    })

    test('a message sent to one session, then to another in a later batch, survives the first removal', async () => {
      let s = await open()
      s.upsertSession(session('a'))
      s.upsertSession(session('b'))
      const m = message('late/joiner', 'payload')
      const ia = s.enqueue('a', queued(m))
      await s.flush()
      s.enqueue('b', queued(m))
      await s.flush()
      s.removeOutbound(ia)
      s = await reopen()
      const got = byId(await s.loadSessions())
      assert.deepEqual(got.get('a')!.outbound, [])
      assert.deepEqual(got.get('b')!.outbound.map((o) => plain(o.message)), [plain(m)])
    })

    test('inbound QoS 2 packet ids: add, remove, across a reopen', async () => {
      let s = await open()
      s.upsertSession(session('c'))
      for (const id of [1, 2, 65535, 300]) s.addInboundQos2('c', id)
      s.addInboundQos2('c', 2)
      await s.flush()
      s.removeInboundQos2('c', 2)
      s.removeInboundQos2('c', 9)
      s = await reopen()
      assert.deepEqual([...byId(await s.loadSessions()).get('c')!.inboundQos2].sort((x, y) => x - y), [1, 300, 65535])
    })

    test('deleting a session removes its subscriptions, messages and inbound ids, and nothing else', async () => {
      let s = await open()
      for (const id of ['gone', 'kept']) {
        s.upsertSession(session(id))
        s.addSubscription(id, 'a/#', {qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0})
        s.addInboundQos2(id, 5)
      }
      const shared = message('shared')
      s.enqueue('gone', queued(shared))
      s.enqueue('kept', queued(shared))
      for (let i = 0; i < 50; i++) s.enqueue('gone', queued(message(`only/${i}`), {state: i < 5 ? OutboundState.Publish : OutboundState.Queued, packetId: i < 5 ? i + 1 : 0}))
      await s.flush()
      s.enqueue('gone', queued(message('unflushed')))
      s.deleteSession('gone')
      const counts = await closed()
      assert.deepEqual(counts, {sessions: 1, subscriptions: 1, messages: 1, outbound: 1, inbound: 1, retained: 0})
      s = await open()
      const got = byId(await s.loadSessions())
      assert.deepEqual([...got.keys()], ['kept'])
      assert.equal(got.get('kept')!.outbound[0].message.topic, 'shared')
    })

    test('a session deleted and created again within one batch starts empty', async () => {
      let s = await open()
      s.upsertSession(session('c', {username: 'old'}))
      s.addSubscription('c', 'x', {qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0})
      s.enqueue('c', queued(message('x')))
      await s.flush()
      s.addSubscription('c', 'y', {qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0})
      s.deleteSession('c')
      s.upsertSession(session('c', {username: 'new'}))
      s.addSubscription('c', 'z', {qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0})
      s = await reopen()
      const c = byId(await s.loadSessions()).get('c')!
      assert.equal(c.session.username, 'new')
      assert.deepEqual([...c.subscriptions.keys()], ['z'])
      assert.deepEqual(c.outbound, [])
    })

    test('writes undone within one batch never reach the storage', async () => {
      const s = await open()
      s.upsertSession(session('c'))
      await s.flush()
      for (let i = 0; i < 100; i++) {
        const id = s.enqueue('c', queued(message(`t/${i}`)))
        s.updateOutbound(id, {state: OutboundState.Publish, packetId: i + 1})
        s.removeOutbound(id)
      }
      await s.flush()
      const counts = await closed()
      assert.deepEqual([counts.messages, counts.outbound], [0, 0])
    })

    test('expired sessions are removed in one call, by absolute deadline, and returned with their wills', async () => {
      let s = await open()
      const will = {topic: 'w', payload: Buffer.from('w'), qos: 0 as const, retain: false}
      s.upsertSession(session('past', {expiresAt: T0 - 1, will}))
      s.upsertSession(session('now', {expiresAt: T0}))
      s.upsertSession(session('future', {expiresAt: T0 + 1}))
      s.upsertSession(session('connected'))
      s.enqueue('past', queued(message('m')))
      s.addSubscription('past', 'x', {qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0})
      s = await reopen()
      const expired = await s.expireSessions(T0)
      assert.deepEqual(expired.map((x) => x.clientId).sort(), ['now', 'past'])
      assert.deepEqual(expired.find((x) => x.clientId === 'past')!.will, will)
      assert.deepEqual(await s.expireSessions(T0), [])
      await s.close({discard: true}) // the sweep is already committed
      store = undefined
      const counts = await h.counts()
      assert.deepEqual([counts.sessions, counts.messages, counts.outbound, counts.subscriptions], [2, 0, 0, 0])
    })

    test('message expiry: queued messages past their deadline are removed, in-flight ones kept', async () => {
      let s = await open()
      s.upsertSession(session('c'))
      const old = message('old', 'o', {expiresAt: T0 - 1})
      s.enqueue('c', queued(old))
      s.enqueue('c', queued(old, {state: OutboundState.Publish, packetId: 1}))
      s.enqueue('c', queued(message('fresh', 'f', {expiresAt: T0 + 1000})))
      s.enqueue('c', queued(message('forever')))
      s = await reopen()
      assert.equal(await s.expireMessages(T0), 1)
      s = await reopen()
      const out = byId(await s.loadSessions()).get('c')!.outbound
      assert.deepEqual(out.map((o) => [o.message.topic, o.state]), [['old', OutboundState.Publish], ['fresh', 0], ['forever', 0]])
      assert.equal(out[1].message.expiresAt, T0 + 1000, 'kept as an absolute deadline')
      assert.equal(await s.expireMessages(T0 + 1000), 1)
    })

    test('retained expiry by absolute deadline', async () => {
      let s = await open()
      s.setRetained(message('a', 'a', {retain: true, expiresAt: T0}))
      s.setRetained(message('b', 'b', {retain: true, expiresAt: T0 + 1}))
      s.setRetained(message('c', 'c', {retain: true}))
      s.setRetained(message('d', 'd', {retain: true, expiresAt: T0 - 5}))
      s.setRetained(message('d', 'd', {retain: true})) // replaced without expiry
      s = await reopen()
      assert.equal(await s.expireRetained(T0), 1)
      s = await reopen()
      assert.deepEqual((await s.loadRetained()).map((m) => m.topic).sort(), ['b', 'c', 'd'])
    })

    test('a crash before a flush loses exactly the unflushed writes', async () => {
      let s = await open()
      s.upsertSession(session('c'))
      s.addSubscription('c', 'kept', {qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0})
      const kept = s.enqueue('c', queued(message('kept')))
      s.addInboundQos2('c', 1)
      s.setRetained(message('r/kept', 'r', {retain: true}))
      await s.durable()
      s.addSubscription('c', 'lost', {qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0})
      s.enqueue('c', queued(message('lost')))
      s.updateOutbound(kept, {state: OutboundState.Publish, packetId: 9})
      s.addInboundQos2('c', 2)
      s.setRetained(message('r/lost', 'r', {retain: true}))
      s.deleteRetained('r/kept')
      s.upsertSession(session('lost'))
      assert.ok(s.pending > 0)
      s = await reopen({discard: true})
      const got = byId(await s.loadSessions())
      assert.deepEqual([...got.keys()], ['c'])
      const c = got.get('c')!
      assert.deepEqual([...c.subscriptions.keys()], ['kept'])
      assert.deepEqual(c.outbound.map((o) => [o.message.topic, o.state, o.packetId]), [['kept', OutboundState.Queued, 0]])
      assert.deepEqual(c.inboundQos2, [1])
      assert.deepEqual((await s.loadRetained()).map((m) => m.topic), ['r/kept'])
    })

    test('writes nobody asks to be durable are committed on their own within a fraction of a second', async () => {
      let s = await open()
      s.setRetained(message('r/qos0', 'r', {retain: true, qos: 0}))
      s.upsertSession(session('c'))
      assert.ok(s.pending > 0)
      // the auto-commit is due 100 ms after the first write; the deadline only bounds a broken store
      const deadline = Date.now() + 20_000
      while (s.pending > 0 && Date.now() < deadline) await sleep(20)
      assert.equal(s.pending, 0, 'committed without a flush() or durable() call')
      await s.durable() // nothing left to flush: resolves when the commit that took them is done
      s = await reopen({discard: true})
      assert.deepEqual((await s.loadRetained()).map((m) => m.topic), ['r/qos0'])
      assert.deepEqual((await s.loadSessions()).map((x) => x.session.clientId), ['c'])
    })

    test('durable(): the writes of one turn share one commit, and later writes wait for the next', async () => {
      const s = await open()
      s.upsertSession(session('c'))
      const p1 = s.durable()
      s.enqueue('c', queued(message('a')))
      const p2 = s.durable()
      assert.equal(p1, p2, 'one promise per turn')
      await p1
      assert.equal(s.pending, 0)
      await s.durable() // nothing pending: resolves
      s.enqueue('c', queued(message('b')))
      const p3 = s.durable()
      assert.notEqual(p3, p1)
      await p3
      const again = await reopen({discard: true})
      assert.deepEqual(byId(await again.loadSessions()).get('c')!.outbound.map((o) => o.message.topic), ['a', 'b'])
    })

    test('a closed store refuses writes; close flushes by default', async () => {
      let s = await open()
      s.upsertSession(session('c'))
      await s.close()
      assert.throws(() => s.upsertSession(session('d')), (e: unknown) => e instanceof (h.storeError ?? StoreError) && e.code === 'closed')
      s = await open()
      assert.equal((await s.loadSessions()).length, 1)
    })

    test('a storage written by a newer schema version is refused and left as it was', async () => {
      const s = await open()
      s.upsertSession(session('c'))
      await s.close()
      store = undefined
      await h.setNewerSchema()
      const before = h.fingerprint?.()
      await assert.rejects(h.open(), (e: unknown) => e instanceof (h.storeError ?? StoreError) && e.code === 'newer-schema' && /newer/.test(e.message))
      assert.equal(h.fingerprint?.(), before)
    })

    test('a damaged storage is refused and left byte for byte unchanged', async (t) => {
      if (h.corrupt === undefined) return t.skip('this storage cannot be damaged')
      const s = await open()
      s.upsertSession(session('c'))
      for (let i = 0; i < 200; i++) s.enqueue('c', queued(message(`t/${i}`, 'x'.repeat(200))))
      await s.close()
      store = undefined
      await h.corrupt()
      const before = h.fingerprint?.()
      await assert.rejects(h.open(), (e: unknown) => e instanceof (h.storeError ?? StoreError) && e.code === 'corrupt')
      assert.equal(h.fingerprint?.(), before)
    })

    test('a storage in use by another open store is refused', async () => {
      await open()
      await assert.rejects(h.open(), (e: unknown) => e instanceof (h.storeError ?? StoreError) && e.code === 'locked')
    })

    test('bounded growth: 10,000 messages through one session leave nothing behind', async () => {
      const s = await open()
      s.upsertSession(session('c'))
      const ids: number[] = []
      for (let i = 0; i < 10_000; i++) {
        ids.push(s.enqueue('c', queued(message(`t/${i % 10}`, 'p'.repeat(100)))))
        if (ids.length === 100) {
          await s.flush()
          for (const id of ids) s.removeOutbound(id)
          ids.length = 0
        }
      }
      const counts = await closed()
      assert.deepEqual([counts.messages, counts.outbound], [0, 0])
    })
  })
}
