// A password file written by Debian's real `mosquitto_passwd` ($7$ at its default and a chosen
// iteration count, and the old $6$) read by `midge broker start`, with the real mosquitto_pub and
// mosquitto_sub logging in (v3.1.1 and v5), and an ACL enforced on them.
import assert from 'node:assert/strict'
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {collect, type RunResult} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'

const installed = (command: string) => spawnSync(command, ['--help'], {stdio: 'ignore'}).error === undefined
const skip = ['mosquitto_passwd', 'mosquitto_pub', 'mosquitto_sub'].every(installed) ? false : 'Debian mosquitto clients are not installed'

const USERS = {alice: 'correct horse', bob: 'hunter2', carol: 'ünïcode pw'}
const ACL = 'user alice\ntopic readwrite sensors/#\nuser bob\ntopic read sensors/public/#\nuser carol\ntopic write sensors/public/#\n'

describe('mosquitto_passwd files and mosquitto clients with midge broker start', {skip}, () => {
  let dir: string
  let broker: MidgeBroker

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-auth-interop-'))
    const file = join(dir, 'passwd')
    execFileSync('mosquitto_passwd', ['-c', '-b', file, 'alice', USERS.alice])
    execFileSync('mosquitto_passwd', ['-H', 'sha512', '-b', file, 'bob', USERS.bob])
    execFileSync('mosquitto_passwd', ['-I', '2000', '-b', file, 'carol', USERS.carol])
    writeFileSync(join(dir, 'acl'), ACL)
    broker = await startMidgeBroker(['--password-file', file, '--acl-file', join(dir, 'acl'), '--log-level', 'debug'])
  })

  after(async () => {
    await broker?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  const run = (command: string, args: string[]): Promise<RunResult> =>
    collect(spawn(command, ['-h', '127.0.0.1', '-p', String(broker.port), ...args]), 15_000)
  const as = (user: keyof typeof USERS) => ['-u', user, '-P', USERS[user]]

  it('the file holds what mosquitto_passwd writes: $7$ (default and -I) and $6$', () => {
    const text = readFileSync(join(dir, 'passwd'), 'utf8')
    assert.match(text, /^alice:\$7\$101\$/m)
    assert.match(text, /^bob:\$6\$/m)
    assert.match(text, /^carol:\$7\$2000\$/m)
  })

  for (const version of ['mqttv311', 'mqttv5']) {
    it(`mosquitto_pub (${version}) logs in with each entry; wrong, unknown and anonymous clients are refused`, async () => {
      for (const user of Object.keys(USERS) as Array<keyof typeof USERS>) {
        const r = await run('mosquitto_pub', ['-V', version, ...as(user), '-t', 'sensors/public/x', '-m', 'hi'])
        assert.equal(r.code, 0, `${user}: ${r.stderr}`)
      }
      const v5 = version === 'mqttv5'
      const wrong = await run('mosquitto_pub', ['-V', version, '-u', 'alice', '-P', 'Correct horse', '-t', 't', '-m', 'x'])
      assert.equal(wrong.code, v5 ? 0x86 : 4, wrong.stderr)
      assert.match(wrong.stderr, /bad user name or password/i)
      const unknown = await run('mosquitto_pub', ['-V', version, '-u', 'mallory', '-P', USERS.alice, '-t', 't', '-m', 'x'])
      assert.equal(unknown.code, v5 ? 0x86 : 4, unknown.stderr)
      const anonymous = await run('mosquitto_pub', ['-V', version, '-t', 't', '-m', 'x'])
      assert.equal(anonymous.code, v5 ? 0x87 : 5, anonymous.stderr)
      assert.match(anonymous.stderr, /not authori[sz]ed/i)
    })

    it(`mosquitto_sub (${version}) receives only what the ACL lets it read`, async () => {
      // bob subscribes to everything under sensors/ but may read sensors/public/# only
      const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-V', version, ...as('bob'),
        '-t', 'sensors/#', '-q', '1', '-v', '-C', '1', '-W', '10'])
      const subscribed = waitForSubscription(broker)
      const result = collect(sub, 15_000)
      await subscribed
      assert.equal((await run('mosquitto_pub', ['-V', version, ...as('alice'), '-q', '1', '-t', 'sensors/private/y', '-m', 'secret'])).code, 0)
      assert.equal((await run('mosquitto_pub', ['-V', version, ...as('carol'), '-q', '1', '-t', 'sensors/public/y', '-m', 'open'])).code, 0)
      const r = await result
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'sensors/public/y open\n')
    })
  }

  for (const version of ['mqttv311', 'mqttv5']) {
    it(`a subscription the user can never read is refused (${version}: mosquitto_sub reports it)`, async () => {
      const r = await run('mosquitto_sub', ['-V', version, ...as('carol'), '-t', 'sensors/public/#', '-C', '1', '-W', '5'])
      assert.match(r.stderr, /All subscription requests were denied/)
      assert.equal(r.stdout, '')
    })
  }
})

/** Waits for the broker's debug log to show a SUBSCRIBE handled (it is logged after the SUBACK is sent). */
function waitForSubscription(broker: MidgeBroker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seen = ''
    const timer = setTimeout(() => reject(new Error('the subscriber did not subscribe')), 10_000)
    const onData = (d: Buffer) => {
      seen += d.toString()
      if (!/"msg":"subscribe"/.test(seen)) return
      clearTimeout(timer)
      broker.child.stderr!.off('data', onData)
      resolve()
    }
    broker.child.stderr!.on('data', onData)
  })
}
