// `midge broker start --plugin MODULE` and `plugin` lines: real plugin files written here, the real
// binary, mqtt.js as the client. The three-line plugin of the README, options from flags and from the
// configuration file, a plugin that throws or never answers (refused, logged once with its name),
// plugins that fail to load (exit 17, one line naming them), native .so plugins, reload and stop.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import type mqtt from 'mqtt'
import type {IClientOptions} from 'mqtt'
import {watchLog} from '../helpers/broker-log.js'
import {runMidge} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {login as loginAs} from '../helpers/mqtt-login.js'

const login = (broker: MidgeBroker, options: IClientOptions) => loginAs(broker, {protocolVersion: 5, ...options})

const dir = mkdtempSync(join(tmpdir(), 'midge-plugins-'))
after(() => rmSync(dir, {recursive: true, force: true}))

const plugin = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const ONLY_OK = plugin('only-ok.mjs', "export default () => ({ authenticate: ({username}) => username === 'ok' })\n")
const THROWS = plugin('throws.mjs', "export default () => ({ authenticate: () => { throw new Error('ldap is down') } })\n")
const SILENT = plugin('silent.mjs', 'export default () => ({ authenticate: () => new Promise(() => {}) })\n')
const OPTIONS = plugin('options.mjs', `export default (options, context) => {
  context.logger.info({options}, 'set up')
  return {
    authenticate: ({username}) => username === options.user,
    authorizePublish: ({topic}) => topic.startsWith(options.prefix),
    reload: () => context.logger.info({}, 'reloaded'),
    stop: () => context.logger.info({}, 'stopped'),
  }
}
`)


async function start(args: string[]): Promise<MidgeBroker> {
  const broker = await startMidgeBroker(args)
  after(() => broker.stop())
  return broker
}

describe('authentication plugins', () => {
  test('the README\'s three-line plugin lets in the user ok and nobody else', async () => {
    const broker = await start(['--plugin', ONLY_OK])
    assert.equal(typeof (await login(broker, {username: 'ok', password: 'x'})), 'object')
    assert.equal(await login(broker, {username: 'nope', password: 'x'}), 0x86)
    assert.equal(await login(broker, {}), 0x86)
  })

  test('a plugin that throws refuses every client (0x88), logged once with its name', async () => {
    const broker = await start(['--plugin', THROWS])
    const log = watchLog(broker)
    assert.equal(await login(broker, {username: 'a', password: 'x'}), 0x88)
    assert.equal(await login(broker, {username: 'b', password: 'x'}), 0x88)
    const line = await log.line(/authenticate failed/)
    assert.equal(line.plugin, THROWS)
    assert.match(String(line.msg), /ldap is down; refusing until it answers again \(fail closed\)/)
    assert.equal(log.lines.filter((l) => /authenticate failed/.test(String(l.msg))).length, 1)
  })

  test('a plugin that never answers runs out of --plugin-timeout and refuses; the next plugin is not asked', async () => {
    const broker = await start(['--plugin', SILENT, '--plugin', ONLY_OK, '--plugin-timeout', '200'])
    assert.equal(await login(broker, {username: 'ok', password: 'x'}), 0x88)
  })

  test('options come from --plugin-opt and from plugin_opt_ lines; SIGHUP reloads and SIGTERM stops the plugin', async () => {
    const fromFlags = await start(['--plugin', OPTIONS, '--plugin-opt', 'user=dev', '--plugin-opt', 'prefix=dev/'])
    const client = await login(fromFlags, {username: 'dev', password: 'x'})
    assert.equal(typeof client, 'object')
    const code = (topic: string) => (client as mqtt.MqttClient).publishAsync(topic, 'x', {qos: 1})
      .then((p) => (p as {reasonCode?: number} | undefined)?.reasonCode ?? 0, (e: {code?: number}) => e.code)
    assert.equal(await code('dev/a'), 0)
    assert.equal(await code('prod/a'), 0x87)

    const conf = plugin('options.conf', `plugin ${OPTIONS}\nplugin_opt_user ops\nplugin_opt_prefix ops/\n`)
    const fromFile = await start(['-c', conf])
    const log = watchLog(fromFile)
    assert.equal(typeof (await login(fromFile, {username: 'ops', password: 'x'})), 'object')
    assert.equal(await login(fromFile, {username: 'dev', password: 'x'}), 0x86)
    const reloaded = log.line(/^reloaded$/)
    fromFile.child.kill('SIGHUP')
    assert.equal((await reloaded).plugin, OPTIONS)
    const result = await fromFile.stop()
    assert.equal(result.code, 0)
    assert.match(result.stderr, /"plugin":"[^"]*options\.mjs".*"msg":"stopped"/)
  })

  const refused: Array<[string, string, RegExp]> = [
    ['a missing module', join(dir, 'missing.mjs'), /plugin .*missing\.mjs: cannot be loaded: no such module/],
    ['a syntax error', plugin('syntax.mjs', 'export default (\n'), /plugin .*syntax\.mjs: cannot be loaded: syntax error/],
    ['a module that throws on import', plugin('import-throws.mjs', "throw new Error('no config')\n"), /plugin .*import-throws\.mjs: cannot be loaded: no config/],
    ['no default function', plugin('no-default.mjs', 'export const x = 1\n'), /plugin .*no-default\.mjs: its default export is not a function/],
    ['a set-up that fails', plugin('setup-fails.mjs', "export default async () => { throw new Error('bad key') }\n"), /plugin .*setup-fails\.mjs: set-up failed: bad key/],
    ['a hook that is not a function', plugin('bad-hook.mjs', 'export default () => ({authenticate: 1})\n'), /plugin .*bad-hook\.mjs: hook authenticate is not a function/],
    ['midge:http without a URL', 'midge:http', /plugin midge:http: set-up failed: needs the option url/],
  ]
  for (const [what, module, message] of refused) {
    test(`${what} stops the start: exit 17, one line naming the plugin`, async () => {
      const r = await runMidge(['broker', 'start', '--port', '0', '--plugin', module])
      assert.equal(r.code, 17, r.stderr)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.equal(r.stdout, '', 'no listener was opened')
    })
  }

  test('--test-config loads the plugins too', async () => {
    assert.equal((await runMidge(['broker', 'start', '--test-config', '--plugin', ONLY_OK])).code, 0)
    assert.equal((await runMidge(['broker', 'start', '--test-config', '--plugin', THROWS.replace('throws', 'nope')])).code, 17)
  })

  test('a configuration file: a native .so plugin, or plugin_opt_ before any plugin, is exit 17 with the line; a failing plugin names its line', async () => {
    const native = await runMidge(['broker', 'start', '--port', '0', '-c', plugin('native.conf', 'sys_interval 10\nplugin /usr/lib/mosquitto_go_auth.so\n')])
    assert.equal(native.code, 17)
    assert.match(native.stderr, /native\.conf:2: plugin: \/usr\/lib\/mosquitto_go_auth\.so is a native Mosquitto plugin, which midge cannot load/)
    const orphan = await runMidge(['broker', 'start', '--port', '0', '-c', plugin('orphan.conf', 'plugin_opt_user x\n')])
    assert.equal(orphan.code, 17)
    assert.match(orphan.stderr, /orphan\.conf:1: plugin_opt_user: a plugin_opt_ line must follow the plugin line/)
    const failing = await runMidge(['broker', 'start', '--port', '0', '-c', plugin('failing.conf', `\nplugin ${join(dir, 'gone.mjs')}\n`)])
    assert.equal(failing.code, 17)
    assert.match(failing.stderr, /failing\.conf:2: plugin .*gone\.mjs: cannot be loaded: no such module/)
  })

  test('a plugin counts as authentication for listening beyond loopback', async () => {
    const exposed = await runMidge(['broker', 'start', '--test-config', '--host', '0.0.0.0', '--port', '0'])
    assert.equal(exposed.code, 17)
    assert.match(exposed.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/)
    assert.equal((await runMidge(['broker', 'start', '--test-config', '--host', '0.0.0.0', '--port', '0', '--auth-http', 'http://127.0.0.1:9/auth'])).code, 0)
  })

  test('--auth-jwt-audience without a key source is a usage error', async () => {
    const r = await runMidge(['broker', 'start', '--port', '0', '--auth-jwt-audience', 'mqtt'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /--auth-jwt-audience and --auth-jwt-issuer need --auth-jwt-secret, --auth-jwt-key or --auth-jwt-jwks/)
  })
})
