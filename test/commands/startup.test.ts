// The fast start of the built CLI (scripts/bundle.mjs, src/cli/common/compile-cache.ts): a command loads the
// one bundled file and nothing of what it does not use, V8's code cache is written, used, and replaced
// when it is not valid, and every command under src/commands is in the bundle.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {createRequire} from 'node:module'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative, sep} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {connect, type Message, type MqttClient} from '../../src/client/index.js'
import {createBroker, type Broker} from '../../src/index.js'
import {BIN, ROOT, runMidge} from '../helpers/cli.js'
import {startMidgeBroker} from '../helpers/midge-broker.js'
import {freePort} from '../helpers/mosquitto.js'

// prints every ES module resolved and, at exit, every CommonJS module loaded (its file: the loader registers
// client.cjs under midge.cjs's name too)
const hook = `data:text/javascript,${encodeURIComponent(`import {register, createRequire} from 'node:module'
register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("LOADED " + r.url + "\\\\n"); return r }'))
const require = createRequire(process.cwd() + '/')
process.on('exit', () => { for (const m of Object.values(require.cache)) process.stderr.write("LOADED " + m.filename + "\\n"); for (const m of process.moduleLoadList) process.stderr.write("BUILTIN " + m + "\\n") })`)}`

describe('fast start', () => {
  for (const command of ['pub', 'sub']) {
    it(`${command} loads the bundle and none of the packages it does not use`, async () => {
      const port = String(await freePort()) // a real run up to the refused connection
      const args = [command, '-h', '127.0.0.1', '-p', port, '-t', 't', ...(command === 'pub' ? ['-m', 'x'] : [])]
      const r = spawnSync(process.execPath, ['--import', hook, BIN, ...args], {encoding: 'utf8'})
      assert.equal(r.status, 11, r.stderr)
      const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7).replace(/^file:\/\//, ''))
      const code = loaded.filter((f) => !f.startsWith('node:') && !f.startsWith('data:') && !f.endsWith('.json'))
      assert.ok(code.includes(join(ROOT, 'dist', 'bundle', 'client.cjs')), 'the client tools\' bundle was loaded')
      assert.deepEqual(code.filter((f) => f.includes(`${sep}node_modules${sep}`)), [], 'nothing from node_modules')
      assert.deepEqual([...new Set(code.map((f) => relative(ROOT, f)))].sort(), ['bin/run.js', 'dist/bundle/client.cjs', 'dist/bundle/load.cjs'])
      // Node built-ins that cost milliseconds to compile and that these commands do not use (oclif's are
      // loaded on first use, see scripts/bundle.mjs; a client id is made up without node:crypto)
      const builtins = r.stderr.split('\n').filter((l) => l.startsWith('BUILTIN NativeModule ')).map((l) => l.slice('BUILTIN NativeModule '.length))
      assert.ok(builtins.includes('net'), 'the list of built-ins is read')
      assert.deepEqual(builtins.filter((m) => ['child_process', 'readline', 'perf_hooks', 'crypto', 'dgram', 'timers/promises'].includes(m)), [])
    })
  }

  // what an idle broker holds (#23): the bundle, and no package loaded from node_modules on the way (pino
  // is in the bundle: resolving and reading its thirty files woke V8's optimizing compiler at start-up);
  // ws and better-sqlite3 load only where a listener or database needs them
  it('broker start loads its own bundle and nothing from node_modules, and logs', async () => {
    const broker = await startMidgeBroker(['--log-level', 'info'], {NODE_OPTIONS: `--import=${hook}`})
    const client = await connect({host: '127.0.0.1', port: broker.port, clientId: 'startup-check'})
    await client.disconnect()
    const r = await broker.stop()
    assert.equal(r.code, 0, r.stderr)
    const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7).replace(/^file:\/\//, ''))
    const code = loaded.filter((f) => !f.startsWith('node:') && !f.startsWith('data:') && !f.endsWith('.json'))
    assert.deepEqual(code.filter((f) => f.includes(`${sep}node_modules${sep}`)), [], 'nothing from node_modules')
    assert.deepEqual([...new Set(code.map((f) => relative(ROOT, f)))].sort(), ['bin/run.js', 'dist/bundle/broker.cjs', 'dist/bundle/load.cjs'])
    // pino, bundled, still writes its JSON lines to stderr
    const logs = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as {level: number; msg: string})
    assert.ok(logs.some((l) => l.level === 30 && /startup-check/.test(JSON.stringify(l))), r.stderr)
  })

  // A run naming one of midge's commands skips oclif's plugins (src/cli/common/main.ts); every other argv
  // goes through oclif with plugin-help, as before: its help, version, topics and errors.
  it('help, version, topics and unknown commands behave as oclif with its plugins', async () => {
    const cases: Array<{args: string[]; code: number; stdout?: RegExp; stderr?: RegExp; notStdout?: RegExp}> = [
      {args: ['pub', '-t', 'x', '--help'], code: 0, stdout: /\$ midge pub -t TOPIC/},
      {args: ['help', 'pub'], code: 0, stdout: /\$ midge pub -t TOPIC/},
      {args: ['broker', 'start', '--help'], code: 0, stdout: /\$ midge broker start/},
      {args: ['--help'], code: 0, stdout: /\n {2}help {4}Display help for midge\./},
      {args: [], code: 0, stdout: /\n {2}help {4}Display help for midge\./},
      {args: ['--version'], code: 0, stdout: /^midge\/\d+\.\d+\.\d+ /},
      {args: ['broker'], code: 0, stdout: /\$ midge broker COMMAND/},
      {args: ['pubx'], code: 2, stderr: /command pubx not found/},
      // after `--`, --help is an argument (pub takes none), not a request for help
      {args: ['pub', '-t', 'x', '-m', 'y', '--', '--help'], code: 2, stderr: /Unexpected argument: --help/, notStdout: /USAGE/},
      {args: ['pub', '-t', 'x', '--nope'], code: 2, stderr: /Nonexistent flag: --nope/},
    ]
    for (const c of cases) {
      const res = await runMidge(c.args)
      const what = `midge ${c.args.join(' ')}: ${res.stdout}${res.stderr}`
      assert.equal(res.code, c.code, what)
      if (c.stdout) assert.match(res.stdout, c.stdout, what)
      if (c.stderr) assert.match(res.stderr, c.stderr, what)
      if (c.notStdout) assert.doesNotMatch(res.stdout, c.notStdout, what)
    }
  })

  it('client.cjs has the client commands, broker.cjs broker start, midge.cjs every command, and the loader picks one', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    const require = createRequire(import.meta.url)
    const {BROKER_COMMANDS, CLIENT_COMMANDS} = require(join(ROOT, 'dist', 'bundle', 'load.cjs')) as {BROKER_COMMANDS: string[]; CLIENT_COMMANDS: string[]}
    const ids = (file: string) => Object.keys((require(join(ROOT, 'dist', 'bundle', file)) as {COMMANDS: object}).COMMANDS).sort()
    assert.deepEqual(ids('client.cjs'), [...CLIENT_COMMANDS].sort())
    assert.deepEqual(ids('broker.cjs'), ['broker:start'])
    assert.deepEqual([...BROKER_COMMANDS], ['broker:start'])
    assert.deepEqual(ids('midge.cjs'), Object.keys(manifest.commands).sort())
    // a client command runs from client.cjs, `broker start` from broker.cjs (its --help too), each
    // registered as oclif's command target (midge.cjs) too; anything else loads midge.cjs
    const port = String(await freePort())
    const runs = [[['pub', '-p', port, '-t', 't', '-m', 'x'], 'client.cjs'], [['broker', 'start', '--help'], 'broker.cjs'],
      [['broker', '--help'], 'midge.cjs'], [['bench', '--help'], 'midge.cjs']] as const
    for (const [args, bundle] of runs) {
      const r = spawnSync(process.execPath, ['--import', hook, BIN, ...args], {encoding: 'utf8'})
      const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ') && l.includes(`${sep}dist${sep}bundle${sep}`)).map((l) => l.slice(l.lastIndexOf(sep) + 1))
      assert.deepEqual([...new Set(loaded)].sort(), [bundle, 'load.cjs'].sort(), `${args.join(' ')}: ${r.stderr}`)
    }
  })

  it('every command under src/commands is in the bundle and answers --help', async () => {
    const walk = (dir: string): string[] => readdirSync(dir, {withFileTypes: true})
      .flatMap((e) => e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
    const commandsDir = join(ROOT, 'src', 'commands')
    const ids = walk(commandsDir).map((f) => relative(commandsDir, f).replace(/\.ts$/, '').split(sep).filter((p, i, a) => !(p === 'index' && i === a.length - 1)).join(':'))
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    assert.deepEqual(Object.keys(manifest.commands).sort(), [...ids].sort())
    for (const id of ids) {
      const res = await runMidge([...id.split(':'), '--help'])
      assert.equal(res.code, 0, `${id}: ${res.stderr}`)
      assert.match(res.stdout, /USAGE/)
      assert.equal(res.stderr, '', `${id} --help printed on stderr`)
    }
  })
})

describe('compile cache', () => {
  let broker: Broker
  let port: number
  let watcher: MqttClient
  const received: Message[] = []
  let cacheHome: string
  const cacheDir = () => join(cacheHome, 'midge', 'compile-cache')
  const pubCaches = () => readdirSync(cacheDir()).filter((f) => f.endsWith('~pub.cache'))

  before(async () => {
    broker = createBroker()
    port = (await broker.listen({host: '127.0.0.1', port: 0})).port
    watcher = await connect({host: '127.0.0.1', port})
    watcher.onMessage((m) => received.push(m))
    await watcher.subscribe([{topic: 'cc/#', qos: 0}])
    cacheHome = mkdtempSync(join(tmpdir(), 'midge-cache-'))
  })
  after(async () => {
    await watcher.disconnect()
    await broker.close()
    rmSync(cacheHome, {recursive: true, force: true})
  })

  async function publish(payload: string, env: NodeJS.ProcessEnv = {}) {
    const res = await runMidge(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'cc/t', '-m', payload, '-q', '1'], {env: {XDG_CACHE_HOME: cacheHome, ...env}})
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stderr, '')
    // the QoS 1 publish was acknowledged before pub exited; a round trip puts its delivery behind us
    await watcher.unsubscribe(['cc/none'])
    assert.ok(received.some((m) => m.payload.toString() === payload), `${payload} delivered`)
  }

  it('is written after the first run, private to the user, and used by the next', async () => {
    await publish('first')
    const [name] = pubCaches()
    assert.ok(name, 'a cache for pub was written')
    assert.equal(statSync(cacheDir()).mode & 0o777, 0o700)
    assert.equal(statSync(join(cacheDir(), name)).mode & 0o777, 0o600)
    const before = statSync(join(cacheDir(), name)).mtimeMs
    await publish('second')
    assert.deepEqual(pubCaches(), [name])
    assert.equal(statSync(join(cacheDir(), name)).mtimeMs, before, 'an accepted cache is not rewritten')
  })

  it('a cache V8 rejects (corrupt, another build) is ignored and replaced', async () => {
    const [name] = pubCaches()
    writeFileSync(join(cacheDir(), name), Buffer.alloc(4096, 7))
    await publish('after corruption')
    const rewritten = readFileSync(join(cacheDir(), name))
    assert.notDeepEqual(rewritten, Buffer.alloc(4096, 7))
    await publish('with the new cache')
  })

  it('NODE_DISABLE_COMPILE_CACHE turns it off', async () => {
    rmSync(cacheDir(), {recursive: true, force: true})
    await publish('uncached', {NODE_DISABLE_COMPILE_CACHE: '1'})
    assert.throws(() => readdirSync(cacheDir()), /ENOENT/)
  })
})
