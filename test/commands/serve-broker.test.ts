// serveBroker, `broker start` as a library call, in this process: a broker configured from the command's
// settings (password file, listeners), reloaded as SIGHUP does, shut down by its signal, and a
// start that fails (a port in use) closing what it opened. Clients are the `mqtt` package.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, connect as tcpConnect, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import pino from 'pino'
import {serveBroker} from '../../src/cli/broker/serve-broker.js'
import {resolveBrokerSettings} from '../../src/cli/broker/settings.js'
import {CliError, ExitCode} from '../../src/cli/common/exit-codes.js'
import {PasswordFile} from '../../src/passwd/index.js'
import {login} from '../helpers/mqtt-login.js'
import {serveMidge} from '../helpers/served-broker.js'

const BAD_CREDENTIALS_V3 = 4 // CONNACK return code 4 of MQTT 3.1.1, bad user name or password (mqtt.js speaks 3.1.1)

async function passwords(users: Record<string, string>): Promise<string> {
  const file = PasswordFile.empty()
  for (const [user, password] of Object.entries(users)) await file.setPassword(user, password, {algorithm: 'pbkdf2', iterations: 1000})
  return file.serialize()
}

/** Whether a TCP connection to the port is accepted (true) or refused (false). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({host: '127.0.0.1', port})
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

describe('serveBroker', () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'midge-serve-')) })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('serves the password file it was given, reloads them, and shuts down on its signal', async () => {
    const passwordFile = join(dir, 'passwd')
    writeFileSync(passwordFile, await passwords({alice: 'secret'}))
    const broker = await serveMidge({'password-file': passwordFile, 'allow-anonymous': false})
    try {
      assert.equal(broker.served.announcements.length, 1)
      assert.deepEqual(broker.served.announcements[0], {event: 'listening', protocol: 'mqtt', host: '127.0.0.1', port: broker.port, url: broker.url})
      assert.equal(await login(broker, {username: 'alice', password: 'wrong'}), BAD_CREDENTIALS_V3)
      assert.equal(typeof await login(broker, {username: 'alice', password: 'secret'}), 'object')
      assert.equal(await login(broker, {username: 'bob', password: 'hunter2'}), BAD_CREDENTIALS_V3)
      // what SIGHUP does in `broker start`
      writeFileSync(passwordFile, await passwords({alice: 'secret', bob: 'hunter2'}))
      await broker.served.reload()
      assert.equal(typeof await login(broker, {username: 'bob', password: 'hunter2'}), 'object')
    } finally {
      await broker.stop()
    }
    assert.equal(await accepts(broker.port), false, 'the listener is closed after the signal')
  })

  it('a port in use rejects with exit 17 and leaves nothing open', async () => {
    const squatter: Server = createServer()
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve))
    const taken = (squatter.address() as {port: number}).port
    const free = createServer()
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve))
    const first = (free.address() as {port: number}).port
    await new Promise((resolve) => free.close(resolve))
    try {
      // the first listener opens, the second cannot: the first must be closed again
      const settings = resolveBrokerSettings({listener: [`mqtt://127.0.0.1:${first}`, `mqtt://127.0.0.1:${taken}`]}, {}, undefined)
      const controller = new AbortController()
      await assert.rejects(serveBroker(settings, {signal: controller.signal, logger: pino({level: 'silent'}), process: false}), (error: unknown) => {
        assert.ok(error instanceof CliError)
        assert.equal(error.exitCode, ExitCode.BrokerStartFailed)
        assert.match(error.message, new RegExp(`port ${taken} on 127\\.0\\.0\\.1 is already in use`))
        return true
      })
      assert.equal(await accepts(first), false, 'the listener opened before the failure was closed')
    } finally {
      await new Promise((resolve) => squatter.close(resolve))
    }
  })

  it('close() shuts down as the signal does, and closed settles', async () => {
    const broker = await serveMidge()
    assert.equal(await accepts(broker.port), true)
    await broker.served.close()
    await broker.served.closed
    assert.equal(await accepts(broker.port), false)
  })
})
