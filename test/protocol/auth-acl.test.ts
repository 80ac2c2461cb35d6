// ACL enforcement through the file-auth hooks, rule type by rule type, for v3.1.1 and v5: PUBLISH
// (v5 0x87, v3 dropped silently), SUBSCRIBE (0x87 / 0x80 for a filter never readable), and delivery of
// every message, retained messages and wills included.
import assert from 'node:assert/strict'
import {describe, test, type TestContext} from 'node:test'
import type {ConnectPacket, ProtocolVersion, PublishPacket} from '../../src/codec/index.js'
import {PasswordFile} from '../../src/passwd/index.js'
import {acl, createFileAuth} from '../helpers/auth.js'
import {connackCode, startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const ACL = `
# anonymous clients
topic read public/#
topic write anon/out

user alice
topic readwrite alice/#
topic deny alice/secret/#
topic read shared/#

user bob
topic shared/#

user admin
topic readwrite #

pattern read devices/%c/in
pattern write devices/%c/out
pattern readwrite users/%u/#
`

const passwords = PasswordFile.empty()
for (const user of ['alice', 'bob', 'admin', 'ops']) await passwords.setPassword(user, `${user}-pw`, {memory: 64, iterations: 1})

const REFUSED = 0x87

for (const v of VERSIONS) {
  const refusedSub = v === 5 ? REFUSED : 0x80
  describe(`ACL ${versionName(v)}`, () => {
    const setup = (t: TestContext, text = ACL) => {
      const auth = createFileAuth({passwords, acl: acl(text), allowAnonymous: true})
      const broker = startBroker(t, {auth})
      let n = 0
      /** A connected client: a user name from the password file, or anonymous. */
      const as = async (user?: string, fields: Partial<ConnectPacket> = {}) => {
        const w = new Wire(broker, v)
        const credentials = user === undefined ? {} : {username: user, password: Buffer.from(`${user}-pw`)}
        assert.equal(connackCode(await w.connect({clientId: `${user ?? 'anon'}-${++n}`, ...credentials, ...fields})), 0)
        return w
      }
      /** An admin (reads and writes everything) subscribed to `filter`. */
      const watcher = async (filter = '#') => {
        const w = await as('admin')
        await w.subscribe(filter, 1)
        return w
      }
      return {auth, broker, as, watcher}
    }

    /**
     * Publishes at QoS 1 and returns the PUBACK's reason code (v3: always 0; v5's 0x10 "no matching
     * subscribers" counts as 0). A copy delivered back to the publisher first is checked and acknowledged.
     */
    const publish = async (w: Wire, topic: string, payload = 'm', extra: Partial<PublishPacket> = {}) => {
      w.publish(topic, payload, 1, {messageId: 9, ...extra})
      let p = await w.next()
      if (p.cmd === 'publish') {
        assert.deepEqual([p.topic, p.payload.toString()], [topic, payload])
        await w.ack(p)
        p = await w.next()
      }
      assert.equal(p.cmd, 'puback')
      const code = p.cmd === 'puback' ? p.reasonCode ?? 0 : -1
      return code === 0x10 ? 0 : code
    }

    const received = async (w: Wire, topic: string, payload = 'm') => {
      const p = await w.expect('publish')
      assert.deepEqual([p.topic, p.payload.toString()], [topic, payload])
      await w.ack(p)
    }

    test('PUBLISH without write access: v5 PUBACK 0x87, v3 acknowledged and dropped; the message goes nowhere', async (t) => {
      const {as, watcher} = setup(t)
      const watch = await watcher()
      const anon = await as()
      assert.equal(await publish(anon, 'public/news'), v === 5 ? REFUSED : 0)
      await watch.quiet()
    })

    test('PUBLISH QoS 2 without write access: v5 PUBREC 0x87; v3 the flow completes and nothing is delivered', async (t) => {
      const {as, watcher} = setup(t)
      const watch = await watcher()
      const anon = await as()
      anon.publish('public/news', 'm', 2, {messageId: 3})
      const rec = await anon.expect('pubrec')
      if (v === 5) assert.equal(rec.reasonCode, REFUSED)
      else {
        anon.send({cmd: 'pubrel', messageId: 3})
        await anon.expect('pubcomp')
      }
      await watch.quiet()
    })

    test('"topic read" (anonymous block): subscribe and receive, not publish', async (t) => {
      const {as} = setup(t)
      const admin = await as('admin')
      const anon = await as()
      assert.deepEqual((await anon.subscribe('public/#', 1)).granted, [1])
      assert.equal(await publish(admin, 'public/news'), 0)
      await received(anon, 'public/news')
    })

    test('"topic write" (anonymous block): publish, but a subscription is refused', async (t) => {
      const {as, watcher} = setup(t)
      const watch = await watcher('anon/#')
      const anon = await as()
      assert.equal(await publish(anon, 'anon/out'), 0)
      await received(watch, 'anon/out')
      assert.deepEqual((await anon.subscribe('anon/out', 1)).granted, [refusedSub])
    })

    test('"topic FILTER" without an access word is readwrite', async (t) => {
      const {as} = setup(t)
      const bob = await as('bob')
      assert.deepEqual((await bob.subscribe('shared/#', 1)).granted, [1])
      assert.equal(await publish(bob, 'shared/x'), 0) // and received back: publish() checks it
    })

    test('a user block applies to that user only, and the anonymous block to anonymous clients only', async (t) => {
      const {as} = setup(t)
      const anon = await as()
      const alice = await as('alice')
      assert.deepEqual((await anon.subscribe('alice/#', 1)).granted, [refusedSub])
      assert.equal(await publish(anon, 'alice/x'), v === 5 ? REFUSED : 0)
      assert.deepEqual((await alice.subscribe('public/#', 1)).granted, [refusedSub])
      assert.equal(await publish(alice, 'anon/out'), v === 5 ? REFUSED : 0)
      assert.equal(await publish(alice, 'alice/x'), 0)
    })

    test('a user with no block of its own gets the patterns only', async (t) => {
      const {as} = setup(t, 'user someone-else\ntopic #\npattern readwrite users/%u/#\n')
      const alice = await as('alice')
      assert.deepEqual((await alice.subscribe(['users/alice/#', 'public/#'], 1)).granted, [1, refusedSub])
    })

    test('"deny" is checked first: it wins over a broader readwrite, for publish, subscribe and delivery', async (t) => {
      const {as} = setup(t)
      const admin = await as('admin')
      const alice = await as('alice')
      assert.equal(await publish(alice, 'alice/secret/plan'), v === 5 ? REFUSED : 0)
      assert.deepEqual((await alice.subscribe('alice/secret/#', 1)).granted, [refusedSub])
      // a wider filter is granted, and the denied region is filtered message by message
      assert.deepEqual((await alice.subscribe('alice/#', 1)).granted, [1])
      await publish(admin, 'alice/secret/plan', 'hidden')
      await publish(admin, 'alice/notes', 'visible')
      await received(alice, 'alice/notes', 'visible')
      await alice.quiet()
    })

    test('a subscription wider than what may be read is granted; only readable messages are delivered', async (t) => {
      const {as} = setup(t)
      const admin = await as('admin')
      const anon = await as()
      assert.deepEqual((await anon.subscribe('#', 1)).granted, [1])
      await publish(admin, 'private/x', 'no')
      await publish(admin, 'public/x', 'yes')
      await received(anon, 'public/x', 'yes')
      await anon.quiet()
    })

    test('"pattern" with %c: each client its own topics', async (t) => {
      const {as, watcher} = setup(t)
      const watch = await watcher('devices/#')
      const dev = await as(undefined, {clientId: 'dev1'})
      assert.deepEqual((await dev.subscribe(['devices/dev1/in', 'devices/dev2/in', 'devices/+/in'], 1)).granted, [1, refusedSub, 1])
      assert.equal(await publish(dev, 'devices/dev1/out'), 0)
      await received(watch, 'devices/dev1/out')
      assert.equal(await publish(dev, 'devices/dev2/out'), v === 5 ? REFUSED : 0)
      await watch.quiet()
      // through devices/+/in only its own topic is delivered
      const admin = await as('admin')
      await publish(admin, 'devices/dev2/in', 'not yours')
      await publish(admin, 'devices/dev1/in', 'yours')
      await received(dev, 'devices/dev1/in', 'yours')
      await dev.quiet()
    })

    test('"pattern" with %u: each user its own topics; never an anonymous client', async (t) => {
      const {as} = setup(t)
      const admin = await as('admin')
      const alice = await as('alice')
      const anon = await as()
      assert.equal(await publish(alice, 'users/alice/status'), 0)
      assert.equal(await publish(alice, 'users/bob/status'), v === 5 ? REFUSED : 0)
      assert.deepEqual((await alice.subscribe('users/#', 1)).granted, [1])
      assert.deepEqual((await anon.subscribe(['users/#', 'users/%u/#'], 1)).granted, [refusedSub, refusedSub])
      await publish(admin, 'users/bob/x', 'bob')
      await publish(admin, 'users/alice/x', 'alice')
      await received(alice, 'users/alice/x', 'alice')
      await alice.quiet()
    })

    test('retained messages are filtered by read access when a subscription is made', async (t) => {
      const {as} = setup(t)
      const admin = await as('admin')
      await publish(admin, 'private/r', 'no', {retain: true})
      await publish(admin, 'public/r', 'yes', {retain: true})
      const anon = await as()
      assert.deepEqual((await anon.subscribe('#', 1)).granted, [1])
      const p = await anon.expect('publish')
      assert.deepEqual([p.topic, p.payload.toString(), p.retain], ['public/r', 'yes', true])
      await anon.ack(p)
      await anon.quiet()
    })

    test('a retained PUBLISH without write access is not stored', async (t) => {
      const {as} = setup(t)
      const anon = await as()
      await publish(anon, 'public/r', 'forged', {retain: true})
      const admin = await as('admin')
      await admin.subscribe('#', 1)
      await admin.quiet()
    })

    test('a will is published only with write access, and delivered only to readers', async (t) => {
      const {as, watcher} = setup(t)
      const watch = await watcher()
      const anon = await as()
      assert.deepEqual((await anon.subscribe('#', 1)).granted, [1])
      const will = (topic: string) => ({will: {topic, payload: Buffer.from('gone'), qos: 1 as const, retain: false}})
      const bob = await as('bob', will('shared/bob'))
      bob.end()
      await received(watch, 'shared/bob', 'gone')
      await anon.quiet() // anonymous clients cannot read shared/#
      const forger = await as('bob', will('public/alert'))
      forger.end()
      await watch.quiet() // bob cannot write public/#: the will is dropped
      await anon.quiet()
    })

    test('a retained will is filtered like any retained message', async (t) => {
      const {as} = setup(t)
      const bob = await as('bob', {will: {topic: 'shared/last', payload: Buffer.from('gone'), qos: 0, retain: true}})
      bob.end()
      await bob.closed()
      const admin = await as('admin')
      const anon = await as()
      await admin.subscribe('shared/#', 0)
      assert.equal((await admin.expect('publish')).topic, 'shared/last')
      await anon.subscribe('#', 0)
      await anon.quiet()
    })

    test('$SYS and $share/ topics: writable only where a rule names them, even for a user with `#`', async (t) => {
      // issue #16: Mosquitto refuses them (acl__check_dollar); midge lets an explicit ACL rule through
      const {as} = setup(t, `${ACL}\nuser ops\ntopic write $SYS/custom/#\ntopic read $SYS/#\n`)
      const ops = await as('ops')
      await ops.subscribe('$SYS/#', 1)
      const admin = await as('admin')
      assert.equal(await publish(admin, '$SYS/broker/uptime', 'forged'), v === 5 ? REFUSED : 0)
      assert.equal(await publish(admin, '$share/g/t'), v === 5 ? REFUSED : 0)
      // delivered back to ops (publish() checks that copy) since a rule names $SYS/custom
      assert.equal(await publish(ops, '$SYS/custom/x', 'ok'), 0)
      assert.equal(await publish(ops, '$SYS/broker/uptime', 'forged'), v === 5 ? REFUSED : 0)
      await ops.quiet()
    })

    test('update() puts a new ACL in force for existing subscriptions and new publishes', async (t) => {
      const {auth, as} = setup(t)
      const admin = await as('admin')
      const anon = await as()
      await anon.subscribe('#', 1)
      await publish(admin, 'news/1', 'before')
      await anon.quiet()
      auth.update({passwords, acl: acl(`${ACL}\npattern read news/#\n`)})
      await publish(admin, 'news/1', 'after')
      await received(anon, 'news/1', 'after')
    })
  })
}

describe('ACL without a password file', () => {
  test('user names are taken as given (as Mosquitto does) and select the user block', async (t) => {
    const auth = createFileAuth({acl: acl('topic read public/#\nuser alice\ntopic alice/#\n')})
    const broker = startBroker(t, {auth})
    for (const v of VERSIONS as ProtocolVersion[]) {
      const w = new Wire(broker, v)
      assert.equal(connackCode(await w.connect({clientId: `a${v}`, username: 'alice'})), 0)
      assert.deepEqual((await w.subscribe(['alice/#', 'public/#'], 0)).granted, [0, v === 5 ? REFUSED : 0x80])
    }
  })
})

describe('a client no ACL rule applies to (Mosquitto\'s behaviour)', () => {
  for (const v of VERSIONS) {
    test(`${versionName(v)}: its SUBSCRIBE is granted and nothing is delivered to it`, async (t) => {
      const auth = createFileAuth({acl: acl('user alice\ntopic readwrite #\n')})
      const broker = startBroker(t, {auth})
      const carol = new Wire(broker, v)
      assert.equal(connackCode(await carol.connect({clientId: 'carol', username: 'carol'})), 0)
      assert.deepEqual((await carol.subscribe(['x/#', '#'], 1)).granted, [1, 1])
      const alice = new Wire(broker, v)
      assert.equal(connackCode(await alice.connect({clientId: 'alice', username: 'alice'})), 0)
      await alice.subscribe('x/#', 1)
      alice.publish('x/1', 'secret', 1, {messageId: 1})
      const answers = await alice.take(2) // her PUBACK and her own copy, in either order
      const copy = answers.find((p) => p.cmd === 'publish')
      assert.ok(copy !== undefined && answers.some((p) => p.cmd === 'puback')) // the message was routed
      await alice.ack(copy as PublishPacket)
      await carol.quiet()
    })
  }
})

describe('read access is checked again when a message that waited is sent (as Mosquitto does)', () => {
  for (const v of VERSIONS) {
    test(`${versionName(v)}: after an ACL reload, queued and in-flight messages on a revoked topic are not delivered on resume`, async (t) => {
      const readable = 'user sub\ntopic read x/#\ntopic read ok/#\nuser pub\ntopic write #\n'
      const auth = createFileAuth({acl: acl(readable)})
      const broker = startBroker(t, {auth})
      const session = v === 5 ? {clean: false, properties: {sessionExpiryInterval: 300}} : {clean: false}
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub', username: 'sub', ...session})
      await sub.subscribe(['x/#', 'ok/#'], 1)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub', username: 'pub'})
      pub.publish('x/inflight', 'a', 1, {messageId: 1})
      await pub.expect('puback')
      assert.equal((await sub.expect('publish')).topic, 'x/inflight') // received, never acknowledged
      sub.end()
      await sub.closed()
      for (const [i, topic] of ['x/queued', 'ok/queued'].entries()) {
        pub.publish(topic, 'b', 1, {messageId: 2 + i})
        await pub.expect('puback')
      }
      auth.update({acl: acl('user sub\ntopic read ok/#\nuser pub\ntopic write #\n')})
      const back = new Wire(broker, v)
      await back.connect({clientId: 'sub', username: 'sub', ...session})
      const p = await back.expect('publish')
      assert.equal(p.topic, 'ok/queued') // the only one still readable
      await back.ack(p)
      await back.quiet()
      assert.equal(engineOf(broker).metrics.dropped['not-authorized'], 2)
    })
  }
})
