// `midge broker start` with several listeners (mqtt, mqtts with mutual TLS, ws), a mosquitto.conf
// (-c, --test-config), the HTTP endpoint, $SYS, SIGHUP certificate reloads and SIGTERM: the real
// binary, with mqtt.js as the client and openssl certificates.
import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {connect as tlsConnect} from 'node:tls'
import {after, before, describe, test} from 'node:test'
import type {MqttClient} from 'mqtt'
import {brokerFlags} from '../../src/cli/broker/flags.js'
import {bridgeFlags} from '../../src/cli/broker/bridge-flags.js'
import {PasswordFile} from '../../src/passwd/index.js'
import {makeTestPki, type TestPki} from '../helpers/certs.js'
import {collect, runMidge, spawnMidge, type RunResult} from '../helpers/cli.js'
import {next, tryConnect} from '../helpers/listeners.js'
import {parsePrometheus, sample} from '../helpers/prometheus.js'

const dir = mkdtempSync(join(tmpdir(), 'midge-listeners-'))
let pki: TestPki
before(() => { pki = makeTestPki() })
after(() => {
  pki.remove()
  rmSync(dir, {recursive: true, force: true})
})

let n = 0
function file(text: string, name = `f${++n}`): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

interface Running {
  child: ChildProcess
  /** The JSON lines printed on stdout: one per listener, then the HTTP endpoint. */
  lines: Array<{protocol: string; host: string; port: number; url: string}>
  result: Promise<RunResult>
  stop(signal?: NodeJS.Signals): Promise<RunResult>
}

/** Starts `midge broker start --json ARGS` and waits for `count` listening lines. */
async function start(args: string[], count: number): Promise<Running> {
  const child = spawnMidge(['broker', 'start', '--json', ...args])
  const result = collect(child, 60_000)
  const lines = await new Promise<Running['lines']>((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString()
      const got = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
      if (got.length >= count) {
        child.stdout!.off('data', onData)
        resolve(got)
      }
    }
    child.stdout!.on('data', onData)
    child.once('exit', async () => reject(new Error(`broker exited before listening: ${(await result).stderr}`)))
  })
  return {
    child, lines, result,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return result
    },
  }
}

/** Resolves with the first JSON log line on stderr, printed from now on, whose msg matches. */
function logLine(child: ChildProcess, msg: RegExp): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => reject(new Error(`no log line matching ${msg}`)), 10_000)
    const onData = (d: Buffer) => {
      buffer += d.toString()
      for (const line of buffer.split('\n').slice(0, -1)) {
        const entry = JSON.parse(line) as {msg: string}
        if (msg.test(entry.msg)) {
          clearTimeout(timer)
          child.stderr!.off('data', onData)
          resolve(entry)
          return
        }
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1)
    }
    child.stderr!.on('data', onData)
  })
}

async function serial(port: number): Promise<string> {
  const s = tlsConnect({port, host: '127.0.0.1', ca: pki.ca.cert, servername: 'localhost', cert: pki.client.cert, key: pki.client.key})
  await once(s, 'secureConnect')
  const sn = s.getPeerCertificate().serialNumber
  s.destroy()
  return sn
}

describe('broker start -c mosquitto.conf', () => {
  let broker: Running
  let conf: string
  const clients: MqttClient[] = []

  before(async () => {
    // the server certificate lives in files a reload re-reads
    copyFileSync(pki.server.certPath, join(dir, 'server.crt'))
    copyFileSync(pki.server.keyPath, join(dir, 'server.key'))
    const pw = PasswordFile.empty()
    await pw.setPassword('roger', 'rogerpw', {memory: 64, iterations: 1})
    await pw.setPassword('watcher', 'watcherpw', {memory: 64, iterations: 1})
    // aclfile.example, plus a user that may read $SYS
    const acl = readFileSync(new URL('../fixtures/mosquitto/aclfile.example', import.meta.url), 'utf8') + '\nuser watcher\ntopic read $SYS/#\n\nuser alice\ntopic readwrite alice/#\n'
    conf = file([
      '# adapted from mosquitto.conf: three listeners, authentication, $SYS every second',
      'per_listener_settings false',
      'sys_interval 1',
      'allow_anonymous false',
      `password_file ${file(pw.serialize(), 'pwfile')}`,
      `acl_file ${file(acl, 'aclfile')}`,
      'max_queued_messages 100',
      'listener 0 127.0.0.1',
      'listener 0 127.0.0.1',
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      `cafile ${pki.ca.certPath}`,
      'require_certificate true',
      'use_identity_as_username true',
      'listener 0 127.0.0.1',
      'protocol websockets',
      'max_connections 1',
      'autosave_interval 1800',
      'frobnicate 1',
    ].join('\n') + '\n', 'mosquitto.conf')
    broker = await start(['-c', conf, '--http-port', '0'], 4)
  })
  after(async () => {
    for (const c of clients) c.end(true)
    await broker?.stop()
  })

  const [mqttLine, tlsLine, wsLine, httpLine] = [0, 1, 2, 3].map((i) => () => broker.lines[i])

  async function connected(url: string, options: Record<string, unknown>): Promise<MqttClient> {
    const a = await tryConnect(url, options)
    assert.ok(a.ok, `refused: ${!a.ok && a.error?.message}`)
    clients.push(a.client)
    return a.client
  }

  test('one line per listener, in the order of the file, then the HTTP endpoint', () => {
    assert.deepEqual(broker.lines.map((l) => l.protocol), ['mqtt', 'mqtts', 'ws', 'http'])
    assert.match(wsLine().url, /^ws:\/\/127\.0\.0\.1:\d+\/$/)
    assert.equal(httpLine().url, `http://127.0.0.1:${httpLine().port}`)
  })

  test('the password file and the ACL apply on every listener; the certificate identity is the user name on mqtts', async () => {
    const refused = await tryConnect(`mqtt://127.0.0.1:${mqttLine().port}`, {protocolVersion: 5})
    assert.equal(refused.ok === false && refused.error?.code, 0x87)
    const roger = await connected(`mqtt://127.0.0.1:${mqttLine().port}`, {username: 'roger', password: 'rogerpw', protocolVersion: 5})
    const alice = await connected(`mqtts://localhost:${tlsLine().port}`, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, protocolVersion: 5})
    await alice.subscribeAsync('alice/#', {qos: 1})
    await assert.rejects(roger.publishAsync('alice/x', 'no', {qos: 1}), (e: {code?: number}) => e.code === 0x87)
    const got = next(alice, 'message')
    await alice.publishAsync('alice/x', 'mine', {qos: 1})
    assert.equal(String((await got)[1]), 'mine')
    const noCert = await tryConnect(`mqtts://localhost:${tlsLine().port}`, {ca: pki.ca.cert})
    assert.equal(noCert.ok, false)
  })

  test('ws: any path (as Mosquitto); max_connections 1', async () => {
    const ws = await connected(`ws://127.0.0.1:${wsLine().port}/anything`, {username: 'roger', password: 'rogerpw', protocolVersion: 5})
    const second = await tryConnect(`ws://127.0.0.1:${wsLine().port}/mqtt`, {username: 'roger', password: 'rogerpw', protocolVersion: 5})
    assert.equal(second.ok === false && second.error?.code, 0x97)
    ws.end(true)
  })

  test('$SYS every sys_interval, readable where the ACL allows', async () => {
    const watcher = await connected(`mqtt://127.0.0.1:${mqttLine().port}`, {username: 'watcher', password: 'watcherpw'})
    const seen = new Map<string, string>()
    watcher.on('message', (topic, payload) => seen.set(topic, payload.toString()))
    await watcher.subscribeAsync('$SYS/broker/#')
    const uptime = () => Number(seen.get('$SYS/broker/uptime')?.split(' ')[0])
    while (!(uptime() >= 0)) await new Promise((r) => setTimeout(r, 50))
    const first = uptime()
    while (uptime() === first) await new Promise((r) => setTimeout(r, 50))
    assert.match(seen.get('$SYS/broker/version')!, /^midge version \d+\.\d+\.\d+/)
    assert.ok(Number(seen.get('$SYS/broker/clients/connected')) >= 1)
    // roger may read $SYS/# too (aclfile.example's anonymous rule does not apply to him): no
    const roger = await connected(`mqtt://127.0.0.1:${mqttLine().port}`, {username: 'roger', password: 'rogerpw', protocolVersion: 5})
    await assert.rejects(roger.subscribeAsync('$SYS/#'))
  })

  test('/metrics and /healthz', async () => {
    const base = httpLine().url
    const health = await fetch(`${base}/healthz`)
    assert.equal(health.status, 200)
    const m = parsePrometheus(await (await fetch(`${base}/metrics`)).text())
    assert.equal(m.get('midge_listener_up')!.samples.length, 3)
    assert.ok(sample(m, 'midge_auth_failures_total') >= 1)
    assert.ok(sample(m, 'midge_listener_connections_refused_total', {listener: wsLine().url}) >= 1)
  })

  test('SIGHUP: new TLS connections get the new certificate; open connections stay', async () => {
    const port = tlsLine().port
    const before = await serial(port)
    const kept = await connected(`mqtts://localhost:${port}`, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, protocolVersion: 5, clientId: 'kept'})
    copyFileSync(pki.server2.certPath, join(dir, 'server.crt'))
    copyFileSync(pki.server2.keyPath, join(dir, 'server.key'))
    const reloaded = logLine(broker.child, /^certificates reloaded/)
    broker.child.kill('SIGHUP')
    await reloaded
    assert.notEqual(await serial(port), before)
    assert.equal(kept.connected, true)
    await kept.publishAsync('alice/still', 'here', {qos: 1})
    // a bad file is logged and the previous certificate stays
    writeFileSync(join(dir, 'server.crt'), 'not a certificate')
    const failed = logLine(broker.child, /^certificate reload failed/)
    broker.child.kill('SIGHUP')
    await failed
    const after = await tryConnect(`mqtts://localhost:${port}`, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key})
    assert.ok(after.ok)
    clients.push(after.client)
  })

  test('SIGTERM: v5 clients are told 0x8B, exit 0; the file\'s warnings were logged with their lines', async () => {
    const c = await connected(`mqtt://127.0.0.1:${mqttLine().port}`, {username: 'roger', password: 'rogerpw', protocolVersion: 5, clientId: 'last'})
    const disconnect = next(c, 'disconnect')
    const result = await broker.stop('SIGTERM')
    assert.equal((await disconnect)[0].reasonCode, 0x8b)
    assert.equal(result.code, 0)
    const logs = result.stderr.trim().split('\n').map((l) => JSON.parse(l))
    const warning = logs.find((l) => /frobnicate/.test(l.msg))
    assert.equal(warning.line, 19)
    assert.equal(warning.file, conf)
  })
})

describe('broker start: listener flags', () => {
  test('--listener mqtts with mutual TLS flags, --ws-port, --port: three listeners', async () => {
    const broker = await start(['--port', '0', '--listener', 'mqtts://127.0.0.1:0', '--cert', pki.server.certPath, '--key', pki.server.keyPath,
      '--cafile', pki.ca.certPath, '--require-certificate', '--use-identity-as-username', '--ws-port', '0', '--sys-interval', '0'], 3)
    try {
      const [plain, tls, ws] = broker.lines
      assert.deepEqual(broker.lines.map((l) => l.protocol), ['mqtt', 'mqtts', 'ws'])
      assert.equal(ws.url, `ws://127.0.0.1:${ws.port}/mqtt`)
      // (mqtt.js turns to TLS whenever it is given a certificate)
      const tlsOptions = {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key}
      for (const [url, options] of [[plain.url, {}], [`mqtts://localhost:${tls.port}`, tlsOptions], [ws.url, {}]] as const) {
        const a = await tryConnect(url, {...options, protocolVersion: 5})
        assert.ok(a.ok, url)
        a.client.end(true)
      }
      const expired = await tryConnect(`mqtts://localhost:${tls.port}`, {ca: pki.ca.cert, cert: pki.expiredClient.cert, key: pki.expiredClient.key})
      assert.equal(expired.ok, false)
    } finally {
      const result = await broker.stop()
      assert.equal(result.code, 0)
      const refusal = result.stderr.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'connection refused before CONNECT')
      assert.match(refusal.error, /CERT_HAS_EXPIRED/)
      assert.equal(refusal.listener, `mqtts://127.0.0.1:${broker.lines[1].port}`)
    }
  })

  test('an mqtts listener without a certificate is a usage error (2); a missing certificate file refuses the start (17)', async () => {
    const r = await runMidge(['broker', 'start', '--listener', 'mqtts://127.0.0.1:0'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /needs --cert and --key/)
    const missing = await runMidge(['broker', 'start', '--listener', 'mqtts://127.0.0.1:0', '--cert', join(dir, 'nope.crt'), '--key', pki.server.keyPath])
    assert.equal(missing.code, 17)
    assert.match(missing.stderr, /cannot read the certificate .*nope\.crt: no such file/)
  })

  test('a non-loopback listener with no allow_anonymous line starts refusing anonymous clients (Mosquitto 2\'s default)', async () => {
    const r = await runMidge(['broker', 'start', '-c', file('listener 0\n'), '--test-config'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /allow_anonymous is not set: as in Mosquitto 2, clients without a user name are refused/)
    // on the command line, midge's own secure default still refuses to start
    const flags = await runMidge(['broker', 'start', '--host', '0.0.0.0', '--port', '0'])
    assert.equal(flags.code, 17)
    assert.match(flags.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/)
  })
})

describe('broker start --test-config', () => {
  test('a good file: "configuration OK", warnings with their lines on stderr, exit 0, nothing opened', async () => {
    const conf = file(`listener 0 127.0.0.1\nlistener 0 127.0.0.1\ncertfile ${pki.server.certPath}\nkeyfile ${pki.server.keyPath}\nmystery_option 1\n`)
    const r = await runMidge(['broker', 'start', '-c', conf, '--test-config'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^configuration OK: 2 listeners \(mqtt:\/\/127\.0\.0\.1:0, mqtts:\/\/127\.0\.0\.1:0\)\n$/)
    const warning = JSON.parse(r.stderr.trim().split('\n')[0])
    assert.equal(warning.line, 5)
    assert.match(warning.msg, /unknown option 'mystery_option'/)
  })

  test('the adapted Mosquitto example with its aclfile.example and pwfile.example: warnings for what midge ignores', async () => {
    const fixtures = new URL('../fixtures/mosquitto/', import.meta.url).pathname
    // its listeners name certificates that do not exist here
    const r = await runMidge(['broker', 'start', '-c', 'mosquitto.conf', '--test-config'], {cwd: fixtures})
    assert.equal(r.code, 17)
    assert.match(r.stderr, /mosquitto\.conf:277: cannot read the certificate \/etc\/midge\/certs\/server\.crt/)
    // with a listener from the command line, the rest of the file (pwfile.example, aclfile.example) is good
    const ok = await runMidge(['broker', 'start', '-c', 'mosquitto.conf', '--test-config', '--listener', 'mqtt://127.0.0.1:0'], {cwd: fixtures})
    assert.equal(ok.code, 0, ok.stderr)
    const warnings = ok.stderr.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.level === 40).map((l) => `${l.line}: ${l.msg}`)
    assert.deepEqual(warnings.filter((w) => /^\d/.test(w)), [
      '194: user is not supported by midge and is ignored: midge does not change user: run it as the user it should run as',
    ])
    assert.match(ok.stdout, /1 bridge \(example-bridge\)/) // the example's connection section is a bridge now
  })

  test('invalid values: exit 17 with every error and its line; an unreadable file: exit 10', async () => {
    const r = await runMidge(['broker', 'start', '-c', file('sys_interval soon\nlistener 1883\nmax_connections many\n'), '--test-config'])
    assert.equal(r.code, 17)
    assert.match(r.stderr, /:1: sys_interval: 'soon' is not an integer/)
    assert.match(r.stderr, /:3: max_connections: 'many' is not an integer/)
    const missing = await runMidge(['broker', 'start', '-c', join(dir, 'missing.conf'), '--test-config'])
    assert.equal(missing.code, 10)
    assert.match(missing.stderr, /cannot read the configuration file .*missing\.conf: no such file/)
  })

  test('a bad password file or ACL fails the test too', async () => {
    const r = await runMidge(['broker', 'start', '--listener', 'mqtt://127.0.0.1:0', '--acl-file', file('topic readwrite\nuser\n'), '--test-config'])
    assert.equal(r.code, 17)
  })
})

test('--help documents every flag with an example', async () => {
  const r = await runMidge(['broker', 'start', '--help'])
  assert.equal(r.code, 0)
  for (const [name, flag] of Object.entries({...brokerFlags(), ...bridgeFlags()})) {
    assert.ok(r.stdout.includes(`--${name}`), `--${name} in --help`)
    assert.match(String((flag as {description?: string}).description), /e\.g\. /, `--${name} has an example`)
  }
})
