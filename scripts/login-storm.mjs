#!/usr/bin/env node
// A password guesser's storm against `midge broker start --password-file`: N wrong-password CONNECTs
// at once from 127.0.0.1, then one correct CONNECT from 127.0.0.2 (another address on loopback);
// prints how long the correct one waited for its CONNACK and how the storm was answered. Numbers only.
//
//   npm run build && node scripts/login-storm.mjs [--storm 1000] [-- extra broker flags]
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const {values, positionals} = parseArgs({allowPositionals: true, options: {storm: {type: 'string', default: '1000'}}})
const runJs = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'midge-storm-'))
const pwfile = join(dir, 'passwd')
await new Promise((resolve, reject) => spawn(process.execPath, [runJs, 'passwd', '-c', '-b', pwfile, 'alice', 'correct horse'], {stdio: 'inherit'})
  .once('exit', (c) => c === 0 ? resolve() : reject(new Error(`passwd exited ${c}`))))
const broker = spawn(process.execPath, [runJs, 'broker', 'start', '--port', '0', '--host', '0.0.0.0', '--json', '--log-level', 'warn', '--password-file', pwfile, ...positionals],
  {stdio: ['ignore', 'pipe', 'ignore']})
const port = await new Promise((resolve, reject) => {
  let out = ''
  broker.stdout.on('data', (d) => {
    out += d
    const line = out.split('\n').find((l) => l.startsWith('{'))
    if (line) resolve(JSON.parse(line).port)
  })
  broker.once('exit', (code) => reject(new Error(`broker exited ${code}`)))
})

const str = (s) => { const b = Buffer.from(s); return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]) }
function connectPacket(id, user, password) {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(id), str(user), str(password)])
  return Buffer.concat([Buffer.from([0x10, (body.length & 127) | 128, body.length >> 7]), body])
}
/** Resolves with the CONNACK return code. */
function attempt(localAddress, id, user, password) {
  return new Promise((resolve) => {
    const s = connect({port, host: '127.0.0.1', localAddress})
    s.on('connect', () => s.write(connectPacket(id, user, password)))
    s.once('data', (d) => { resolve(d[3]); s.destroy() })
    s.on('error', () => resolve('error'))
  })
}

const n = Number(values.storm)
const start = performance.now()
const storm = Array.from({length: n}, (_, i) => attempt('127.0.0.1', `guess${i}`, 'alice', `guess ${i}`).then((code) => ({code, ms: performance.now() - start})))
await new Promise((resolve) => setTimeout(resolve, 200)) // the storm is in
const goodStart = performance.now()
const good = await attempt('127.0.0.2', 'alice', 'alice', 'correct horse')
const goodMs = performance.now() - goodStart
const answers = await Promise.all(storm)
const byCode = {}
for (const a of answers) byCode[a.code] = (byCode[a.code] ?? 0) + 1
const last = Math.max(...answers.map((a) => a.ms))
console.log(`storm of ${n} wrong passwords from 127.0.0.1: return codes ${JSON.stringify(byCode)}, last answered after ${(last / 1000).toFixed(2)} s`)
console.log(`correct login from 127.0.0.2: return code ${good}, CONNACK after ${goodMs.toFixed(0)} ms`)
broker.kill('SIGTERM')
rmSync(dir, {recursive: true, force: true})
