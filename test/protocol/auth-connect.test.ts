// Authentication through the file-auth hooks: CONNACK codes for v3.1, v3.1.1 and v5, anonymous
// clients with and without allowAnonymous, reloads, and packets pipelined behind a CONNECT.
import assert from 'node:assert/strict'
import {describe, test, type TestContext} from 'node:test'
import {ReasonCode, type ProtocolVersion} from '../../src/codec/index.js'
import {disconnectClients, type AuthDenial} from '../../src/broker/auth/file-auth.js'
import {PasswordFile} from '../../src/passwd/index.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {createFileAuth, testPasswords, type FileAuthOptions} from '../helpers/auth.js'
import {ALL_VERSIONS, connackCode, startBroker, versionName, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const passwords = await testPasswords()

/** The expected refusal: v5 reason code, or the v3 return code. */
const code = (v: ProtocolVersion, v5: number, v3: number) => (v === 5 ? v5 : v3)

for (const v of ALL_VERSIONS) {
  describe(`password authentication ${versionName(v)}`, () => {
    const setup = (t: TestContext, options: FileAuthOptions = {passwords}) => {
      const denials: AuthDenial[] = []
      const auth = createFileAuth({onDenied: (d) => denials.push(d), ...options})
      const broker = startBroker(t, {auth})
      return {broker, auth, denials, wire: () => new Wire(broker, v)}
    }

    test('the right password is accepted, and the client is known by its user name', async (t) => {
      const {broker, wire} = setup(t)
      const connected = new Promise((resolve) => broker.events.once('clientConnected', resolve))
      const w = wire()
      assert.equal(connackCode(await w.connect({username: 'alice', password: Buffer.from('secret')})), 0)
      assert.equal(((await connected) as {username?: string}).username, 'alice')
      await w.quiet()
    })

    test('a Mosquitto $7$ (pbkdf2) entry is accepted', async (t) => {
      const w = setup(t).wire()
      assert.equal(connackCode(await w.connect({username: 'bob', password: Buffer.from('hunter2')})), 0)
    })

    test('a non-ASCII password is compared as UTF-8 bytes', async (t) => {
      const w = setup(t).wire()
      assert.equal(connackCode(await w.connect({username: 'carol', password: Buffer.from('pässwörd', 'utf8')})), 0)
    })

    test('a wrong password gets "bad user name or password" and the connection is closed', async (t) => {
      const {wire, denials} = setup(t)
      const w = wire()
      assert.equal(connackCode(await w.connect({username: 'alice', password: Buffer.from('Secret')})), code(v, 0x86, 4))
      await w.closed()
      assert.deepEqual(denials.map((d) => [d.action, d.username, d.reason]), [['connect', 'alice', 'bad user name or password']])
    })

    test('an unknown user gets the same answer as a wrong password (no user enumeration)', async (t) => {
      const w = setup(t).wire()
      assert.equal(connackCode(await w.connect({username: 'mallory', password: Buffer.from('secret')})), code(v, 0x86, 4))
      await w.closed()
    })

    test('a user name without a password is refused like a wrong password', async (t) => {
      const w = setup(t).wire()
      assert.equal(connackCode(await w.connect({username: 'alice'})), code(v, 0x86, 4))
      await w.closed()
    })

    test('no user name: "not authorized" while a password file is in force', async (t) => {
      const {wire, denials} = setup(t)
      const w = wire()
      assert.equal(connackCode(await w.connect()), code(v, 0x87, 5))
      await w.closed()
      assert.equal(denials[0].reason, 'no user name (anonymous clients are not allowed)')
    })

    test('no user name is accepted with allowAnonymous, and users still need their password', async (t) => {
      const {wire} = setup(t, {passwords, allowAnonymous: true})
      assert.equal(connackCode(await wire().connect({clientId: 'anon'})), 0)
      assert.equal(connackCode(await wire().connect({clientId: 'c2', username: 'alice', password: Buffer.from('nope')})), code(v, 0x86, 4))
    })

    test('without a password file any client is accepted, with or without a user name', async (t) => {
      const {wire} = setup(t, {})
      assert.equal(connackCode(await wire().connect({clientId: 'a'})), 0)
      assert.equal(connackCode(await wire().connect({clientId: 'b', username: 'whoever', password: Buffer.from('x')})), 0)
    })

    test('packets sent right behind the CONNECT wait for the verification and are handled in order', async (t) => {
      const w = setup(t).wire()
      w.send({cmd: 'connect', protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v, clientId: 'c1', clean: true, keepalive: 0,
        username: 'alice', password: Buffer.from('secret')})
      w.send({cmd: 'subscribe', messageId: 7, subscriptions: [{topic: 'a/b', qos: 1}]})
      w.publish('a/b', 'hello', 1, {messageId: 8})
      assert.equal(connackCode(await w.expect('connack')), 0)
      assert.equal((await w.expect('suback')).messageId, 7)
      const [first, second] = await w.take(2)
      const publish = first.cmd === 'publish' ? first : second
      assert.equal(publish.cmd === 'publish' && publish.payload.toString(), 'hello')
      assert.ok([first.cmd, second.cmd].includes('puback'))
    })

    test('packets behind a refused CONNECT are never handled', async (t) => {
      const {broker, wire} = setup(t)
      const watcher = wire()
      await watcher.connect({clientId: 'watcher', username: 'alice', password: Buffer.from('secret')})
      await watcher.subscribe('#')
      const w = wire()
      w.send({cmd: 'connect', protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v, clientId: 'c1', clean: true, keepalive: 0,
        username: 'alice', password: Buffer.from('wrong')})
      w.publish('a/b', 'sneaky')
      assert.equal(connackCode(await w.expect('connack')), code(v, 0x86, 4))
      await w.closed()
      await watcher.quiet()
      assert.equal(engineOf(broker).metrics.authFailures, 1)
    })

    test('update() puts a new password file in force for the next CONNECT', async (t) => {
      const {auth, wire} = setup(t)
      const next = PasswordFile.empty()
      await next.setPassword('alice', 'changed', {memory: 64, iterations: 1})
      auth.update({passwords: next})
      assert.equal(connackCode(await wire().connect({clientId: 'x', username: 'alice', password: Buffer.from('secret')})), code(v, 0x86, 4))
      assert.equal(connackCode(await wire().connect({clientId: 'y', username: 'alice', password: Buffer.from('changed')})), 0)
      assert.equal(connackCode(await wire().connect({clientId: 'z', username: 'bob', password: Buffer.from('hunter2')})), code(v, 0x86, 4))
    })

    test('after update(), clients whose user was removed or whose password changed can be disconnected; the others stay', async (t) => {
      const {broker, auth, wire} = setup(t)
      const login = async (user: string, password: string) => {
        const w = wire()
        assert.equal(connackCode(await w.connect({clientId: user, username: user, password: Buffer.from(password)})), 0)
        return w
      }
      const alice = await login('alice', 'secret')
      const bob = await login('bob', 'hunter2')
      const carol = await login('carol', 'pässwörd')
      const next = PasswordFile.parse(passwords.serialize())
      await next.setPassword('alice', 'changed', {memory: 64, iterations: 1})
      next.delete('carol')
      const lockedOut = auth.update({passwords: next})
      assert.equal(disconnectClients(broker, lockedOut, 'user removed or password changed'), 2)
      for (const w of [alice, carol]) {
        if (v === 5) {
          const d = await w.expect('disconnect')
          assert.deepEqual([d.reasonCode, d.properties?.reasonString], [0x87, 'user removed or password changed'])
        }
        await w.closed()
      }
      await bob.quiet()
    })

    test('after update() from no password file to one, anonymous clients are locked out unless allowed', async (t) => {
      const {broker, auth, wire} = setup(t, {})
      const anon = wire()
      assert.equal(connackCode(await anon.connect({clientId: 'anon'})), 0)
      assert.equal(disconnectClients(broker, auth.update({passwords}), 'anonymous clients are no longer allowed'), 1)
      await anon.closed()
    })

    test('a verifier that fails refuses the client with "server unavailable" rather than letting it in', async (t) => {
      const w = setup(t, {passwords: {verify: () => Promise.reject(new Error('boom'))}}).wire()
      assert.equal(connackCode(await w.connect({username: 'alice', password: Buffer.from('secret')})), code(v, ReasonCode.ServerUnavailable, 3))
      await w.closed()
    })
  })
}

describe('password verification concurrency', () => {
  test('at most maxConcurrentVerifications run at once; the others wait their turn', async (t) => {
    let active = 0
    let peak = 0
    const release: Array<() => void> = []
    const verify = async () => {
      active++
      peak = Math.max(peak, active)
      await new Promise<void>((resolve) => release.push(resolve))
      active--
      return true
    }
    const auth = createFileAuth({passwords: {verify}, maxConcurrentVerifications: 2})
    const broker = startBroker(t, {auth})
    const wires = Array.from({length: 5}, () => new Wire(broker, 4))
    const acks = wires.map((w, i) => w.connect({clientId: `c${i}`, username: 'u', password: Buffer.from('p')}))
    while (release.length < 2) await new Promise((r) => setImmediate(r))
    assert.deepEqual([auth.verifications.active, auth.verifications.queued], [2, 3])
    const pump = setInterval(() => release.shift()?.(), 1)
    t.after(() => clearInterval(pump))
    for (const ack of acks) assert.equal(connackCode(await ack), 0)
    assert.equal(peak, 2)
    assert.deepEqual([auth.verifications.active, auth.verifications.queued], [0, 0])
  })

  /** A verifier whose verifications finish when the test says so. */
  const manual = () => {
    const calls: string[] = []
    const release: Array<(ok: boolean) => void> = []
    const verify = (user: string) => {
      calls.push(user)
      return new Promise<boolean>((resolve) => release.push(resolve))
    }
    const until = async (n: number) => { while (release.length < n) await new Promise((r) => setImmediate(r)) }
    return {calls, release, verify, until}
  }
  const login = (w: Wire, user: string) => w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: user, clean: true,
    keepalive: 0, username: user, password: Buffer.from('p')})

  test('a verification that outlasts the connect timeout still completes: the client sent its CONNECT in time', async (t) => {
    const timers = new FakeTimers()
    const m = manual()
    const broker = startBroker(t, {timers, connectTimeoutMs: 10_000, auth: createFileAuth({passwords: {verify: m.verify}})})
    const w = new Wire(broker, 4)
    login(w, 'u')
    await m.until(1)
    timers.advance(60_000)
    m.release[0](true)
    assert.equal(connackCode(await w.expect('connack')), 0)
  })

  test('a client that leaves while waiting for its turn costs no verification', async (t) => {
    const m = manual()
    const broker = startBroker(t, {auth: createFileAuth({passwords: {verify: m.verify}, maxConcurrentVerifications: 1})})
    const first = new Wire(broker, 4)
    const leaver = new Wire(broker, 4)
    const third = new Wire(broker, 4)
    login(first, 'first')
    await m.until(1)
    login(leaver, 'leaver')
    login(third, 'third')
    await new Promise((r) => setImmediate(r))
    leaver.end()
    await leaver.closed()
    m.release[0](true)
    await m.until(2)
    m.release[1](true)
    assert.equal(connackCode(await first.expect('connack')), 0)
    assert.equal(connackCode(await third.expect('connack')), 0)
    assert.deepEqual(m.calls, ['first', 'third'])
  })

  test('beyond maxQueuedVerifications a client is told "server busy" at once', async (t) => {
    const m = manual()
    const broker = startBroker(t, {auth: createFileAuth({passwords: {verify: m.verify}, maxConcurrentVerifications: 1, maxQueuedVerifications: 1})})
    const wires = [4, 4, 4, 5].map((v) => new Wire(broker, v as ProtocolVersion))
    login(wires[0], 'a')
    await m.until(1)
    login(wires[1], 'b')
    await new Promise((r) => setImmediate(r))
    login(wires[2], 'c')
    wires[3].send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'd', clean: true, keepalive: 0, username: 'd', password: Buffer.from('p')})
    assert.equal(connackCode(await wires[2].expect('connack')), 3)
    assert.equal(connackCode(await wires[3].expect('connack')), ReasonCode.ServerBusy)
    m.release[0](true)
    await m.until(2)
    m.release[1](true)
    assert.equal(connackCode(await wires[0].expect('connack')), 0)
    assert.equal(connackCode(await wires[1].expect('connack')), 0)
  })
})
