// A `$7$` file written by `midge passwd --hash pbkdf2` is accepted by Debian's real mosquitto broker.
import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {collect, orphanSafe, runMidge} from '../helpers/cli.js'
import {freePort} from '../helpers/mosquitto.js'

const installed = (command: string) => spawnSync(command, ['--help'], {stdio: 'ignore'}).error === undefined
const skip = installed('mosquitto') && installed('mosquitto_pub') ? false : 'Debian mosquitto and mosquitto_pub are not installed'

describe('midge passwd --hash pbkdf2 with the real mosquitto broker', {skip}, () => {
  let dir: string
  let port: number
  let broker: ChildProcess | undefined
  let log = ''

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-passwd-interop-'))
    const file = join(dir, 'passwd')
    for (const args of [['-c', '-b', file, 'alice', 'correct horse'], ['-I', '1000', '-b', file, 'bob', 'ünïcode pw']]) {
      const result = await runMidge(['passwd', '--hash', 'pbkdf2', ...args])
      assert.equal(result.code, 0, result.stderr)
    }
    port = await freePort()
    // run as ourselves: as root, mosquitto would switch to a user that cannot read the temp folder
    const config = ['per_listener_settings false', `user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${file}`]
    writeFileSync(join(dir, 'mosquitto.conf'), `${config.join('\n')}\n`)
    broker = spawn(...orphanSafe('mosquitto', ['-c', join(dir, 'mosquitto.conf')]), {stdio: ['ignore', 'pipe', 'pipe']})
    broker.stdout!.setEncoding('utf8').on('data', (d: string) => { log += d })
    broker.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d })
    await listening(port, broker, () => log)
  })

  after(async () => {
    if (broker && broker.exitCode === null && broker.signalCode === null) {
      broker.kill('SIGTERM')
      await once(broker, 'exit')
    }
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  const publish = (args: string[]) => collect(spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'midge/test', '-m', 'hi', ...args]), 10_000)

  it('loads the file without dropping any entry', () => {
    assert.doesNotMatch(log, /Error|Warning: Invalid|removing entry/i, log)
  })

  it('accepts the right passwords (MQTT 3.1.1 and 5)', async () => {
    for (const version of ['mqttv311', 'mqttv5']) {
      const alice = await publish(['-V', version, '-u', 'alice', '-P', 'correct horse'])
      assert.equal(alice.code, 0, alice.stderr)
      const bob = await publish(['-V', version, '-u', 'bob', '-P', 'ünïcode pw'])
      assert.equal(bob.code, 0, bob.stderr)
    }
  })

  it('refuses a wrong password, an unknown user and no credentials', async () => {
    const wrong = await publish(['-u', 'alice', '-P', 'correct horse!'])
    assert.equal(wrong.code, 5, 'CONNACK 5: not authorised')
    const unknown = await publish(['-u', 'carol', '-P', 'correct horse'])
    assert.equal(unknown.code, 5)
    const anonymous = await publish([])
    assert.equal(anonymous.code, 5)
  })
})

async function listening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${log()}`)
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({host: '127.0.0.1', port}, () => { socket.destroy(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (up) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`mosquitto did not start listening: ${log()}`)
}
