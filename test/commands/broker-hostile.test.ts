// `midge broker start` against hostile clients, end to end: the real binary, Debian's mosquitto
// clients and raw sockets.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {connect, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {collect} from '../helpers/cli.js'
import {startMidgeBroker} from '../helpers/midge-broker.js'
import {frame, str} from '../helpers/wire.js'

let dir: string
before(() => { dir = mkdtempSync(join(tmpdir(), 'midge-hostile-')) })
after(() => rmSync(dir, {recursive: true, force: true}))

function run(cmd: string, args: string[]) {
  return collect(spawn(cmd, args, {stdio: 'pipe'}), 60_000)
}

/** A raw v3.1.1 client: connected (CONNACK read) when this resolves. */
async function rawClient(port: number, clientId: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  socket.write(frame(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 2, 0, 0]), str(clientId)])))
  await once(socket, 'data')
  return socket
}

describe('broker start: hostile clients', () => {
  test('the default maximum packet size (2,000,000 bytes) with mosquitto_pub/sub: 3 MB refused, 1.9 MB delivered', async () => {
    const broker = await startMidgeBroker()
    try {
      const big = join(dir, 'big.bin')
      const ok = join(dir, 'ok.bin')
      writeFileSync(big, Buffer.alloc(3_000_000, 0x62))
      writeFileSync(ok, Buffer.alloc(1_900_000, 0x61))
      const port = String(broker.port)
      // a retained probe: the subscriber's first line says it has subscribed
      await run('mosquitto_pub', ['-p', port, '-t', 'probe', '-m', 'x', '-r'])
      const sub = spawn('mosquitto_sub', ['-p', port, '-V', 'mqttv311', '-t', 'probe', '-t', 'big', '-C', '2', '-F', '%t %l', '-W', '60'], {stdio: 'pipe'})
      const subResult = collect(sub, 60_000)
      await once(sub.stdout!, 'data')
      const refused = await run('mosquitto_pub', ['-p', port, '-V', 'mqttv311', '-q', '1', '-t', 'big', '-f', big])
      assert.equal(refused.code, 7, `mosquitto_pub: connection lost (${refused.stderr.trim()})`)
      const accepted = await run('mosquitto_pub', ['-p', port, '-V', 'mqttv311', '-q', '1', '-t', 'big', '-f', ok])
      assert.equal(accepted.code, 0, accepted.stderr)
      const got = await subResult
      assert.deepEqual(got.stdout.trim().split('\n'), ['probe 1', 'big 1900000'], 'the only message on big the subscriber got is the 1.9 MB one')
      const result = await broker.stop()
      assert.match(result.stderr, /packet of 3000012 bytes exceeds the maximum of 2000000/)
    } finally {
      await broker.stop()
    }
  })

  test('a non-reading subscriber flooded with thousands of drops: a bounded number of log lines, every drop counted', async () => {
    const broker = await startMidgeBroker()
    const started = Date.now()
    try {
      const sub = await rawClient(broker.port, 'sleeper')
      sub.write(frame(0x82, Buffer.concat([Buffer.from([0, 1]), str('#'), Buffer.from([0])])))
      await once(sub, 'data') // SUBACK
      sub.pause() // and never read again
      const pub = await rawClient(broker.port, 'flooder')
      const message = frame(0x30, Buffer.concat([str('flood'), Buffer.alloc(10_000, 0x61)]))
      const batch = Buffer.concat(Array.from({length: 100}, () => message))
      for (let i = 0; i < 200; i++) if (!pub.write(batch)) await once(pub, 'drain')
      pub.write(Buffer.from([0xc0, 0x00])) // PINGREQ: its PINGRESP comes once every PUBLISH before it was routed
      await once(pub, 'data')
      pub.destroy()
      sub.destroy()
    } finally {
      await broker.stop()
    }
    const {stderr} = await broker.stop()
    const intervals = Math.ceil((Date.now() - started) / 10_000)
    const drops = stderr.trim().split('\n').map((l) => JSON.parse(l) as {msg: string; counts?: Record<string, number>})
      .filter((l) => l.msg.startsWith('message dropped'))
    assert.ok(drops.length >= 2 && drops.length <= 1 + intervals, `${drops.length} drop lines in ${intervals} interval(s)`)
    const counted = drops.reduce((n, l) => n + (l.counts === undefined ? 1 : Object.values(l.counts).reduce((a, b) => a + b, 0)), 0)
    assert.ok(counted > 10_000, `of 20,000 messages of 10 kB, ${counted} dropped for the subscriber that does not read`)
  })
})
