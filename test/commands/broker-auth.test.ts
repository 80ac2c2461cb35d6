// `midge broker start --password-file --acl-file`, the real binary over TCP with mqtt.js as the client:
// fail-closed start-up, login and ACL enforcement, and SIGHUP reloads with good and bad files.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import type mqtt from 'mqtt'
import {PasswordFile} from '../../src/passwd/index.js'
import {runMidge} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {connected, login} from '../helpers/mqtt-login.js'

const dir = mkdtempSync(join(tmpdir(), 'midge-broker-auth-'))
after(() => rmSync(dir, {recursive: true, force: true}))

let n = 0
const file = (text: string) => {
  const path = join(dir, `f${++n}`)
  writeFileSync(path, text)
  return path
}

/** A password file text with cheap argon2id hashes. */
async function passwords(users: Record<string, string>): Promise<string> {
  const f = PasswordFile.empty()
  for (const [user, password] of Object.entries(users)) await f.setPassword(user, password, {memory: 64, iterations: 1})
  return f.serialize()
}

const ALICE = await passwords({alice: 'secret', bob: 'hunter2'})
const ACL = 'topic read public/#\nuser alice\ntopic alice/#\nuser bob\ntopic read alice/#\n'



/** The SUBACK's codes (mqtt.js rejects a SUBACK holding any refusal, with the packet attached). */
function subscribe(client: mqtt.MqttClient, filters: string[], qos: 0 | 1 = 0): Promise<number[]> {
  return client.subscribeAsync(filters, {qos}).then((granted) => granted.map((g) => g.qos),
    (error: {packet?: {granted?: number[]}}) => error.packet?.granted ?? Promise.reject(error))
}

/** Resolves with the log line (a JSON object) whose msg matches, printed after this call. */
function logLine(broker: MidgeBroker, msg: RegExp): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => reject(new Error(`no log line matching ${msg}`)), 10_000)
    const onData = (d: Buffer) => {
      buffer += d.toString()
      for (const line of buffer.split('\n').slice(0, -1)) {
        const entry = JSON.parse(line) as Record<string, unknown>
        if (msg.test(String(entry.msg))) {
          clearTimeout(timer)
          broker.child.stderr!.off('data', onData)
          return resolve(entry)
        }
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1)
    }
    broker.child.stderr!.on('data', onData)
  })
}

async function hangup(broker: MidgeBroker, msg: RegExp): Promise<Record<string, unknown>> {
  const line = logLine(broker, msg)
  broker.child.kill('SIGHUP')
  return line
}

describe('fail-closed start-up: one line naming the file, exit 17, no listener', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ['a missing password file', () => ['--password-file', join(dir, 'nope')], /^cannot read password file .*nope: no such file$/],
    ['a password file that is a directory', () => ['--password-file', dir], /^cannot read password file .*: it is a directory$/],
    ['a malformed password file', () => ['--password-file', file(`${ALICE}garbage\n`)], /^invalid password file .*f\d+:3: malformed line \(expected user:hash\)$/],
    ['a plaintext password file', () => ['--password-file', file('alice:secret\n')], /^invalid password file .*:1: user "alice": unrecognised hash .*-U\)$/],
    ['a missing ACL file', () => ['--password-file', file(ALICE), '--acl-file', join(dir, 'nope.acl')], /^cannot read ACL file .*nope\.acl: no such file$/],
    ['a malformed ACL file', () => ['--acl-file', file('user alice\ntopic read alice/#\ntopic readonly x\n')], /^invalid ACL file .*:3: unknown access "readonly"/],
  ]
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const ready = join(dir, `ready-${++n}.json`)
      const r = await runMidge(['broker', 'start', '--port', '0', '--ready-file', ready, ...args()])
      assert.equal(r.code, 17, r.stderr)
      const lines = r.stderr.split('\n')
      assert.equal(lines.length, 2, r.stderr)
      assert.match(lines[0].replace(/^midge broker start: /, ''), message)
      assert.equal(r.stdout, '')
      assert.equal(existsSync(ready), false)
    })
  }
})

describe('broker start --password-file --acl-file', () => {
  test('clients log in with their password; wrong, unknown and anonymous clients are refused (v3.1.1 and v5)', async () => {
    const broker = await startMidgeBroker(['--password-file', file(ALICE)])
    try {
      for (const protocolVersion of [4, 5] as const) {
        const alice = await connected(broker, {protocolVersion, username: 'alice', password: 'secret'})
        await alice.endAsync()
        const refused = protocolVersion === 5 ? {bad: 0x86, anonymous: 0x87} : {bad: 4, anonymous: 5}
        assert.equal(await login(broker, {protocolVersion, username: 'alice', password: 'wrong'}), refused.bad)
        assert.equal(await login(broker, {protocolVersion, username: 'eve', password: 'secret'}), refused.bad)
        assert.equal(await login(broker, {protocolVersion}), refused.anonymous)
      }
    } finally {
      const r = await broker.stop()
      assert.match(r.stderr, /"msg":"connection refused"/)
      assert.match(r.stderr, /"reason":"bad user name or password"/)
      assert.doesNotMatch(r.stderr, /secret|wrong/) // passwords are never logged
    }
  })

  test('--allow-anonymous lets clients without a user name in, with the ACL\'s anonymous rules', async () => {
    const broker = await startMidgeBroker(['--password-file', file(ALICE), '--acl-file', file(ACL), '--allow-anonymous'])
    try {
      const anon = await connected(broker, {protocolVersion: 5})
      assert.deepEqual(await subscribe(anon, ['public/#', 'alice/#']), [0, 0x87])
      await anon.endAsync()
    } finally {
      await broker.stop()
    }
  })

  test('a password file makes a non-loopback address acceptable', async () => {
    const broker = await startMidgeBroker(['--host', '0.0.0.0', '--password-file', file(ALICE)])
    const alice = await connected(broker, {username: 'alice', password: 'secret'})
    await alice.endAsync()
    assert.equal((await broker.stop()).code, 0)
  })

  test('the ACL filters publishing, subscribing and delivery', async () => {
    const broker = await startMidgeBroker(['--password-file', file(ALICE), '--acl-file', file(ACL)])
    try {
      const bob = await connected(broker, {protocolVersion: 5, username: 'bob', password: 'hunter2'})
      const alice = await connected(broker, {protocolVersion: 5, username: 'alice', password: 'secret'})
      assert.deepEqual(await subscribe(bob, ['alice/#', 'bob/#'], 1), [1, 0x87])
      const got = new Promise<string>((resolve) => bob.once('message', (topic, payload) => resolve(`${topic} ${payload}`)))
      await assert.rejects(bob.publishAsync('alice/x', 'forged', {qos: 1}), /Not authorized|135/i)
      await alice.publishAsync('alice/x', 'hello', {qos: 1})
      assert.equal(await got, 'alice/x hello')
      await Promise.all([alice.endAsync(), bob.endAsync()])
    } finally {
      await broker.stop()
    }
  })

  test('SIGHUP re-reads both files: a good change is in force at once', async () => {
    const pw = file(ALICE)
    const acl = file(ACL)
    const broker = await startMidgeBroker(['--password-file', pw, '--acl-file', acl])
    try {
      writeFileSync(pw, await passwords({alice: 'changed'}))
      writeFileSync(acl, 'user alice\ntopic read news/#\n')
      const reloaded = await hangup(broker, /^reloaded/)
      assert.deepEqual([reloaded.users, reloaded.passwordFile, reloaded.aclFile], [1, pw, acl])
      assert.equal(await login(broker, {username: 'alice', password: 'secret'}), 4)
      assert.equal(await login(broker, {username: 'bob', password: 'hunter2'}), 4)
      const alice = await connected(broker, {protocolVersion: 5, username: 'alice', password: 'changed'})
      assert.deepEqual(await subscribe(alice, ['news/#', 'alice/#'], 0), [0, 0x87])
      await alice.endAsync()
    } finally {
      await broker.stop()
    }
  })

  test('SIGHUP logs out connected clients whose user was removed, as Mosquitto does; the others stay', async () => {
    const pw = file(ALICE)
    const broker = await startMidgeBroker(['--password-file', pw])
    try {
      const alice = await connected(broker, {protocolVersion: 5, username: 'alice', password: 'secret'})
      const bob = await connected(broker, {protocolVersion: 5, username: 'bob', password: 'hunter2'})
      const kicked = new Promise<number | undefined>((resolve) => alice.once('disconnect', (packet) => resolve(packet.reasonCode)))
      writeFileSync(pw, ALICE.split('\n').filter((l) => !l.startsWith('alice:')).join('\n'))
      const line = await hangup(broker, /^disconnected 1 client whose user was removed/)
      assert.equal(line.clients, 1)
      assert.equal(await kicked, 0x87)
      assert.equal(bob.connected, true)
      alice.end(true)
      await bob.endAsync()
    } finally {
      await broker.stop()
    }
  })

  test('SIGHUP with a bad file: the error is logged with file and line, and the previous files stay in force', async () => {
    const pw = file(ALICE)
    const acl = file(ACL)
    const broker = await startMidgeBroker(['--password-file', pw, '--acl-file', acl])
    try {
      // a good ACL beside a bad password file is not applied either: the pair stays consistent
      writeFileSync(pw, `${await passwords({alice: 'changed'})}bob\n`)
      writeFileSync(acl, 'user alice\ntopic read news/#\n')
      const failed = await hangup(broker, /^reload failed/)
      assert.equal(failed.level, 50)
      assert.match(String(failed.msg), new RegExp(`invalid password file ${pw}:2: malformed line`))
      const alice = await connected(broker, {protocolVersion: 5, username: 'alice', password: 'secret'})
      assert.deepEqual(await subscribe(alice, ['alice/#'], 0), [0])
      await alice.endAsync()

      writeFileSync(pw, ALICE)
      writeFileSync(acl, 'user alice\npattern readwrite x/%q\ntopic\n')
      const aclFailed = await hangup(broker, /^reload failed/)
      assert.match(String(aclFailed.msg), new RegExp(`invalid ACL file ${acl}:3: missing topic filter`))
      rmSync(pw)
      assert.match(String((await hangup(broker, /^reload failed/)).msg), /cannot read password file .*: no such file/)
      const again = await connected(broker, {username: 'bob', password: 'hunter2'})
      await again.endAsync()
    } finally {
      const r = await broker.stop()
      assert.equal(r.code, 0)
    }
  })

  test('SIGHUP without auth files does not stop the broker', async () => {
    const broker = await startMidgeBroker()
    try {
      await hangup(broker, /^no password or ACL file to reload$/)
      const c = await connected(broker, {})
      await c.endAsync()
    } finally {
      assert.equal((await broker.stop()).code, 0)
    }
  })
})
