// The built `midge broker start` loads Node's TLS, HTTP, worker, crypto and fs/promises modules only when a
// feature that needs them is configured or used (scripts/bundle.mjs, LAZY_NODE: #23, an idle broker's
// RSS), and each feature still works when it is: a TLS listener, a WebSockets listener, the HTTP
// endpoint, --persistence (the SQLite worker) and a password file, with mqtt.js as the client.
import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'
import {PasswordFile} from '../../src/passwd/index.js'
import {makeTestPki, type TestPki} from '../helpers/certs.js'
import {collect, spawnMidge} from '../helpers/cli.js'
import {next, tryConnect} from '../helpers/listeners.js'

const dir = mkdtempSync(join(tmpdir(), 'midge-lazy-modules-'))
let pki: TestPki
before(() => { pki = makeTestPki() })
after(() => {
  pki.remove()
  rmSync(dir, {recursive: true, force: true})
})

/** Preloaded into the broker: on SIGUSR2 it writes the built-in modules loaded so far to MODULES_FILE. */
const PRELOAD = join(dir, 'modules.cjs')
writeFileSync(PRELOAD, `process.on('SIGUSR2', () => require('node:fs').writeFileSync(process.env.MODULES_FILE + '.tmp', process.moduleLoadList.join('\\n')) || require('node:fs').renameSync(process.env.MODULES_FILE + '.tmp', process.env.MODULES_FILE))\n`)

/** Built-ins an idle broker without TLS, WebSockets, HTTP, persistence or passwords does not need. */
const LAZY = ['tls', 'http', 'https', 'worker_threads', 'crypto', 'fs/promises']

interface Started { child: ChildProcess; lines: Array<{protocol: string; port: number; url: string}>; modules(): Promise<Set<string>>; stop(): Promise<void> }

async function start(name: string, args: string[], count: number): Promise<Started> {
  const modulesFile = join(dir, `${name}.modules`)
  const child = spawnMidge(['broker', 'start', '--json', ...args], {env: {NODE_OPTIONS: `--require ${PRELOAD}`, MODULES_FILE: modulesFile}})
  const result = collect(child, 60_000)
  const lines = await new Promise<Started['lines']>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const got = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
      if (got.length >= count) resolve(got)
    })
    child.once('exit', async () => reject(new Error(`the broker exited before listening: ${(await result).stderr}`)))
  })
  return {
    child, lines,
    async modules() {
      rmSync(modulesFile, {force: true})
      child.kill('SIGUSR2')
      const deadline = Date.now() + 10_000
      while (!existsSync(modulesFile)) {
        assert.ok(Date.now() < deadline, 'the broker did not write its module list')
        await new Promise((r) => setTimeout(r, 20))
      }
      return new Set(readFileSync(modulesFile, 'utf8').split('\n').filter((l) => l.startsWith('NativeModule ')).map((l) => l.slice('NativeModule '.length)))
    },
    async stop() {
      child.kill('SIGTERM')
      const r = await result
      assert.equal(r.code, 0, r.stderr)
    },
  }
}

test('an idle broker loads none of the built-ins its features load on use', async () => {
  const broker = await start('idle', ['-p', '0'], 1)
  try {
    // a client connects, subscribes and gets its message: the plain MQTT path needs none of them either
    const a = await tryConnect(broker.lines[0]!.url, {protocolVersion: 5, clean: true})
    assert.ok(a.ok)
    await a.client.subscribeAsync('t', {qos: 1})
    const got = next(a.client, 'message')
    await a.client.publishAsync('t', 'x', {qos: 1})
    assert.equal(String((await got)[1]), 'x')
    a.client.end(true)
    const loaded = await broker.modules()
    assert.ok(loaded.has('net'), `the list is read: ${[...loaded].length} modules`)
    assert.deepEqual(LAZY.filter((m) => loaded.has(m)), [])
  } finally {
    await broker.stop()
  }
})

test('configured, each feature loads what it needs and works: TLS, WebSockets, HTTP, persistence, passwords', async () => {
  const pw = PasswordFile.empty()
  await pw.setPassword('roger', 'rogerpw', {memory: 64, iterations: 1})
  const passwd = join(dir, 'passwd')
  writeFileSync(passwd, pw.serialize())
  const broker = await start('features', ['--listener', 'mqtt://127.0.0.1:0', '--listener', 'mqtts://127.0.0.1:0', '--listener', 'ws://127.0.0.1:0',
    '--cert', pki.server.certPath, '--key', pki.server.keyPath, '--http-port', '0', '--persistence', join(dir, 'store'), '--password-file', passwd], 4)
  try {
    assert.deepEqual(broker.lines.map((l) => l.protocol), ['mqtt', 'mqtts', 'ws', 'http'])
    const login = {username: 'roger', password: 'rogerpw', protocolVersion: 5 as const}
    const refused = await tryConnect(broker.lines[0]!.url, {...login, password: 'wrong'})
    assert.equal(refused.ok === false && refused.error?.code, 0x86)
    const tls = await tryConnect(`mqtts://localhost:${broker.lines[1]!.port}`, {...login, ca: pki.ca.cert, clientId: 'tls', clean: false, properties: {sessionExpiryInterval: 300}})
    assert.ok(tls.ok, 'mqtts')
    await tls.client.subscribeAsync('t', {qos: 1})
    const ws = await tryConnect(`ws://127.0.0.1:${broker.lines[2]!.port}/mqtt`, login)
    assert.ok(ws.ok, 'ws')
    const got = next(tls.client, 'message')
    await ws.client.publishAsync('t', 'over ws, to tls', {qos: 1})
    assert.equal(String((await got)[1]), 'over ws, to tls')
    const metrics = await (await fetch(`${broker.lines[3]!.url}/metrics`)).text()
    assert.match(metrics, /^midge_persistence_commits_total [1-9]/m)
    tls.client.end(true)
    ws.client.end(true)
    const loaded = await broker.modules()
    for (const m of ['tls', 'http', 'worker_threads', 'crypto']) assert.ok(loaded.has(m), `${m} loaded`)
  } finally {
    await broker.stop()
  }
})
