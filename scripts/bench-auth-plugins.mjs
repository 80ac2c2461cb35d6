#!/usr/bin/env node
// Logins per second and QoS 1 publish throughput of `midge broker start` with each authentication
// backend: none, the password file (argon2id as `midge passwd` writes it, and Mosquitto's $7$ pbkdf2),
// the HTTP backend (cache cold and warm) and the JWT backend (HS256, and RS256 from a PEM key).
// Numbers only: nothing here asserts. Writes its section of docs/benchmarks.md (between markers).
//
//   npm run build && node scripts/bench-auth-plugins.mjs [--logins 300] [--messages 20000] [--rounds 3] [--no-write]
//
// Processes: each broker (the real binary), the HTTP auth service (a child: Node's http server that
// allows everything), and this one, which runs the clients (midge's own lean client from dist/).
// Logins: --logins connections, 16 at a time, each CONNECT then DISCONNECT. "cold" uses client ids
// the backend has not seen; "warm" repeats the same ids, so the HTTP backend answers from its cache.
// Publishes: one client, QoS 1, 64 in flight; "cold" sends each message to a new topic (the HTTP
// backend asks the service for each), "warm" to one topic.
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {createServer} from 'node:http'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = new URL('../dist/', import.meta.url)
const BEGIN = '<!-- bench-auth-plugins: begin -->'
const END = '<!-- bench-auth-plugins: end -->'

if (process.argv[2] === '--serve-http') {
  const server = createServer((req, res) => { req.resume().on('end', () => res.writeHead(200).end()) })
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`))
} else {
  await main()
}

async function main() {
  const {values: o} = parseArgs({options: {logins: {type: 'string', default: '300'}, messages: {type: 'string', default: '20000'},
    rounds: {type: 'string', default: '3'}, 'no-write': {type: 'boolean', default: false}}})
  const {connect} = await import(new URL('client/index.js', DIST).href)
  const {PasswordFile} = await import(new URL('index.js', DIST).href)
  const jose = await import('jose')
  const dir = mkdtempSync(join(tmpdir(), 'midge-bench-auth-'))
  const http = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-http'], {stdio: ['ignore', 'pipe', 'inherit']})
  const httpPort = Number((await once(createInterface({input: http.stdout}), 'line'))[0])
  try {
    const SECRET = 'bench-secret-of-at-least-thirty-two-bytes'
    const hs = (sub) => new jose.SignJWT({sub, acl: {pub: ['bench/#']}}).setProtectedHeader({alg: 'HS256'}).setExpirationTime('2h').sign(new TextEncoder().encode(SECRET))
    const rsa = await jose.generateKeyPair('RS256', {extractable: true})
    writeFileSync(join(dir, 'rsa.pub'), await jose.exportSPKI(rsa.publicKey))
    const rs = (sub) => new jose.SignJWT({sub, acl: {pub: ['bench/#']}}).setProtectedHeader({alg: 'RS256'}).setExpirationTime('2h').sign(rsa.privateKey)
    const argon = PasswordFile.empty()
    await argon.setPassword('bench', 'bench-password')
    writeFileSync(join(dir, 'argon2'), argon.serialize())
    for (const iterations of [50_000, 101]) {
      const pbkdf2 = PasswordFile.empty()
      await pbkdf2.setPassword('bench', 'bench-password', {algorithm: 'pbkdf2', iterations})
      writeFileSync(join(dir, `pbkdf2-${iterations}`), pbkdf2.serialize())
    }
    writeFileSync(join(dir, 'acl'), 'user bench\ntopic write bench/#\n')

    const logins = Number(o.logins)
    const backends = [
      {name: 'none', args: [], login: async () => ({})},
      {name: 'password file, argon2id (midge passwd default)', args: ['--password-file', join(dir, 'argon2'), '--acl-file', join(dir, 'acl')], login: async () => ({username: 'bench', password: 'bench-password'}), logins: Math.min(logins, 100)},
      {name: 'password file, $7$ pbkdf2 50,000 (midge passwd -a pbkdf2)', args: ['--password-file', join(dir, 'pbkdf2-50000'), '--acl-file', join(dir, 'acl')], login: async () => ({username: 'bench', password: 'bench-password'}), logins: Math.min(logins, 100)},
      {name: 'password file, $7$ pbkdf2 101 (mosquitto_passwd 2.0)', args: ['--password-file', join(dir, 'pbkdf2-101'), '--acl-file', join(dir, 'acl')], login: async () => ({username: 'bench', password: 'bench-password'}), base: true},
      {name: 'HTTP (--auth-http)', args: ['--auth-http', `http://127.0.0.1:${httpPort}/auth`], login: async () => ({username: 'bench', password: 'bench-password'}), cached: true},
      {name: 'JWT HS256 (--auth-jwt-secret)', args: [], env: {MIDGE_AUTH_JWT_SECRET: SECRET}, login: async () => ({username: 'bench', password: await hs('bench')})},
      {name: 'JWT RS256 (--auth-jwt-key)', args: ['--auth-jwt-key', join(dir, 'rsa.pub')], login: async () => ({username: 'bench', password: await rs('bench')})},
    ]
    const results = backends.map(() => ({loginCold: [], loginWarm: [], pubCold: [], pubWarm: []}))
    // a warm-up run (JIT, connection set-up) that is not counted, then the rounds, backends interleaved
    await measure(backends[0], -1, {loginCold: [], loginWarm: [], pubCold: [], pubWarm: []})
    for (let r = 0; r < Number(o.rounds); r++) {
      for (const [i, b] of backends.entries()) await measure(b, r, results[i])
    }
    const rows = backends.map((b, i) => ({name: b.name, base: b.base === true, ...Object.fromEntries(Object.entries(results[i]).map(([k, v]) => [k, median(v)]))}))
    for (const row of rows) process.stderr.write(`${JSON.stringify(row)}\n`)

    async function measure(b, r, into) {
      const broker = await startBroker(b.args, b.env)
      try {
        const creds = await b.login()
        const ids = Array.from({length: b.logins ?? logins}, (_, i) => `bench-${r}-${i}`)
        into.loginCold.push(await loginRate(connect, broker.port, creds, ids))
        into.loginWarm.push(await loginRate(connect, broker.port, creds, ids))
        const messages = Number(o.messages)
        into.pubCold.push(await publishRate(connect, broker.port, creds, messages, (i) => `bench/cold/${r}/${i}`))
        into.pubWarm.push(await publishRate(connect, broker.port, creds, messages, () => 'bench/warm'))
      } finally {
        broker.child.kill('SIGTERM')
        await once(broker.child, 'close')
      }
    }
    const section = report(rows, o)
    process.stdout.write(section)
    if (!o['no-write']) writeSection(join(ROOT, 'docs', 'benchmarks.md'), section)
  } finally {
    http.kill()
    rmSync(dir, {recursive: true, force: true})
  }
}

async function startBroker(args, env = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), 'broker', 'start', '--port', '0', '--json', '--log-level', 'error', ...args],
    {stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, ...env}})
  const line = (await once(createInterface({input: child.stdout}), 'line'))[0]
  return {child, port: JSON.parse(line).port}
}

/** Logins per second: every id connects and disconnects, 16 at a time. */
async function loginRate(connect, port, creds, ids) {
  let next = 0
  let failed = 0
  const start = performance.now()
  await Promise.all(Array.from({length: 16}, async () => {
    while (next < ids.length) {
      const clientId = ids[next++]
      try {
        const c = await connect({host: '127.0.0.1', port, clientId, ...creds})
        await c.disconnect()
      } catch {
        failed++
      }
    }
  }))
  if (failed > 0) throw new Error(`${failed} logins failed`)
  return ids.length / ((performance.now() - start) / 1000)
}

/** QoS 1 messages per second from one client with 64 in flight. */
async function publishRate(connect, port, creds, n, topic) {
  const c = await connect({host: '127.0.0.1', port, clientId: `pub-${Math.random()}`, maxInflight: 64, ...creds})
  let next = 0
  let refused = 0
  const start = performance.now()
  await Promise.all(Array.from({length: 64}, async () => {
    while (next < n) {
      const ack = await c.publish(topic(next++), 'x', {qos: 1})
      if ((ack?.reasonCode ?? 0) >= 0x80) refused++
    }
  }))
  const rate = n / ((performance.now() - start) / 1000)
  await c.disconnect()
  if (refused > 0) throw new Error(`${refused} publishes refused`)
  return rate
}

function median(values) {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function report(rows, o) {
  const f = (x) => Math.round(x).toLocaleString('en-US')
  const base = rows.find((r) => r.base)
  const lines = ['## Authentication backends', '',
    `\`node scripts/bench-auth-plugins.mjs --logins ${o.logins} --messages ${o.messages} --rounds ${o.rounds}\` (${new Date().toISOString().slice(0, 10)},`,
    'Node ' + process.version + ', a shared 2-CPU machine: compare rows, not machines). Medians of the rounds. Logins: CONNECT + DISCONNECT,',
    '16 at a time (argon2id and 50,000 iterations: 100 logins). Publishes: one client, QoS 1, 64 in flight. Cold: client ids and topics the backend has',
    'not seen; warm: the same again (only the HTTP backend caches; the others do the same work both times). The HTTP service is',
    'a local Node server answering 200 at once, so its rows are the broker\'s cost, not a real service\'s latency. The machine is',
    'shared with other test runs: differences under about 2× between rows (and between cold and warm where nothing is cached) are noise.', '',
    '| backend | logins/s cold | logins/s warm | publish msg/s cold | publish msg/s warm | logins (warm) vs the 101-iteration file |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${f(r.loginCold)} | ${f(r.loginWarm)} | ${f(r.pubCold)} | ${f(r.pubWarm)} | ${(r.loginWarm / base.loginWarm).toFixed(2)}× |`),
    '',
    'Reading: the password hash dominates logins (argon2id and 50,000-iteration pbkdf2 are meant to be slow: about 10 logins/s on',
    "this machine); a JWT costs about what Mosquitto 2.0's 101-iteration file does. The HTTP backend pays one request per login and",
    'per distinct topic while its cache is cold (one publisher with 64 in flight: a couple of thousand QoS 1 messages/s against a',
    'service that answers at once), and about nothing once warm. JWT and ACL-file publish checks are in memory either way.',
    '']
  return `${lines.join('\n')}\n`
}

/** Replaces this script's section of the file (or appends it). */
function writeSection(file, section) {
  const text = readFileSync(file, 'utf8')
  const block = `${BEGIN}\n${section}${END}\n`
  const at = text.indexOf(BEGIN)
  const out = at === -1 ? `${text.trimEnd()}\n\n${block}` : text.slice(0, at) + block + text.slice(text.indexOf(END) + END.length + 1)
  writeFileSync(file, out)
}
