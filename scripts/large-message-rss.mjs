#!/usr/bin/env node
// The broker's resident memory around large messages: starts `midge broker start` (the built dist/),
// connects a subscriber to `big` and a publisher over TCP, publishes --count messages of --size bytes
// one after the other (each waits until the subscriber has all of it), and prints the broker's RSS
// (/proc/PID/status, Linux) before, after each message and after --idle-ms of quiet. Numbers only.
//
//   npm run build && node scripts/large-message-rss.mjs [--size 209715200] [--count 4] [--idle-ms 3000]
//     [-- extra broker flags, e.g. --max-packet-size 0]
import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {connect} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const {values, positionals} = parseArgs({allowPositionals: true, options: {
  size: {type: 'string', default: String(200 * 1024 * 1024)}, count: {type: 'string', default: '4'}, 'idle-ms': {type: 'string', default: '3000'},
}})
const size = Number(values.size)
const runJs = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const nodeArgs = process.env.RSS_NODE_ARGS ? process.env.RSS_NODE_ARGS.split(' ') : []
const broker = spawn(process.execPath, [...nodeArgs, runJs, 'broker', 'start', '--port', '0', '--json', '--log-level', 'warn', ...positionals], {stdio: ['ignore', 'pipe', 'inherit']})
const port = await new Promise((resolve, reject) => {
  let out = ''
  broker.stdout.on('data', (d) => {
    out += d
    const line = out.split('\n').find((l) => l.startsWith('{'))
    if (line) resolve(JSON.parse(line).port)
  })
  broker.once('exit', (code) => reject(new Error(`broker exited ${code}`)))
})
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${broker.pid}/status`, 'utf8'))[1]) * 1024
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`

function varint(n) {
  const out = []
  do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b) } while (n > 0)
  return Buffer.from(out)
}
const str = (s) => { const b = Buffer.from(s); return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]) }
const packet = (first, body) => Buffer.concat([Buffer.from([first]), varint(body.length), body])
const connectPacket = (id) => packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 2, 0, 60]), str(id)]))

async function client(id) {
  const socket = connect(port, '127.0.0.1')
  socket.write(connectPacket(id))
  await new Promise((resolve) => socket.once('data', resolve)) // CONNACK
  return socket
}

const sub = await client('rss-sub')
sub.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), str('big'), Buffer.from([0])])))
await new Promise((resolve) => sub.once('data', resolve)) // SUBACK
let received = 0
sub.on('data', (d) => { received += d.length })
const pub = await client('rss-pub')
let closed = false
pub.on('close', () => { closed = true })
pub.on('error', () => undefined)

console.log(`message size ${mb(size)}, broker flags: ${positionals.join(' ') || '(defaults)'}`)
console.log(`RSS before: ${mb(rss())}`)
const payload = Buffer.alloc(size, 0x61)
const body = Buffer.concat([str('big'), payload])
const frame = Buffer.concat([Buffer.from([0x30]), varint(body.length), body])
for (let i = 1; i <= Number(values.count) && !closed; i++) {
  const target = received + frame.length
  pub.write(frame)
  while (received < target && !closed) await sleep(20)
  if (closed) { console.log(`message ${i}: the broker closed the publisher (packet too large)`); break }
  console.log(`after message ${i}: ${mb(rss())}`)
}
await sleep(Number(values['idle-ms']))
console.log(`after ${values['idle-ms']} ms idle: ${mb(rss())}`)
pub.destroy()
sub.destroy()
broker.kill('SIGTERM')
