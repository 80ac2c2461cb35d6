// midge pub and sub with clients we did not write: mosquitto_pub/mosquitto_sub and the `mqtt` package,
// through Debian's mosquitto, for every protocol version.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {after, before, describe, it} from 'node:test'
import mqtt from 'mqtt'
import {runMidge, spawnMidge, collect, orphanSafe} from '../helpers/cli.js'
import {hasMosquitto, startMosquitto, type Mosquitto} from '../helpers/mosquitto.js'

function run(cmd: string, args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  const child = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'pipe']})
  return collect(child, 20_000)
}

/** Starts `midge sub -d`, waits for its SUBACK, and returns its result (trace lines removed from stderr). */
async function subscribed(args: string[]): Promise<{result: Promise<{code: number | null; stdout: string; stderr: string}>}> {
  const child = spawnMidge([...args, '-d'])
  child.stdin!.end()
  const result = collect(child, 20_000)
  let seen = ''
  await new Promise<void>((resolve) => child.stderr!.on('data', (d: Buffer | string) => { seen += d.toString(); if (seen.includes('received SUBACK')) resolve() }))
  return {result: result.then((r) => ({...r, stderr: r.stderr.split('\n').filter((l) => !/^(sending|received) /.test(l)).join('\n')}))}
}

describe('pub/sub interop with mosquitto clients and mqtt.js', {skip: !hasMosquitto()}, () => {
  let m: Mosquitto
  let conn: string[]
  before(async () => {
    m = await startMosquitto()
    conn = ['-h', m.host, '-p', String(m.port)]
  })
  after(async () => { await m.stop() })

  for (const [ours, theirs] of [['5', 'mqttv5'], ['311', 'mqttv311'], ['31', 'mqttv31']]) {
    it(`midge pub -V ${ours} -> mosquitto_sub -V ${theirs}`, async () => {
      // -d and line-buffered stdout (stdbuf) show its SUBACK: publishing starts once it is subscribed
      const sub = spawn(...orphanSafe('stdbuf', ['-oL', 'mosquitto_sub', ...conn, '-d', '-V', theirs, '-t', `i/${ours}`, '-q', '2', '-C', '3', '-v', '-W', '30']), {stdio: ['ignore', 'pipe', 'pipe']})
      const done = collect(sub, 40_000)
      let seen = ''
      await new Promise<void>((resolve, reject) => {
        sub.stdout!.on('data', (d: Buffer) => { seen += d.toString(); if (seen.includes('received SUBACK')) resolve() })
        void done.then((r) => reject(new Error(`mosquitto_sub exited before subscribing: ${r.stdout}${r.stderr}`)))
      })
      for (const qos of ['0', '1', '2']) assert.equal((await runMidge(['pub', ...conn, '-V', ours, '-t', `i/${ours}`, '-m', `q${qos}`, '-q', qos])).code, 0)
      const r = await done
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.split('\n').filter((l) => l !== '' && !/^(Client |Subscribed )/.test(l))
      assert.deepEqual(lines, [`i/${ours} q0`, `i/${ours} q1`, `i/${ours} q2`])
    })

    it(`mosquitto_pub -V ${theirs} -> midge sub -V ${ours}`, async () => {
      const {result: done} = await subscribed(['sub', ...conn, '-V', ours, '-t', `j/${ours}`, '-q', '2', '-C', '3', '-v', '-W', '10'])
      for (const qos of ['0', '1', '2']) assert.equal((await run('mosquitto_pub', [...conn, '-V', theirs, '-t', `j/${ours}`, '-m', `q${qos}`, '-q', qos])).code, 0)
      const r = await done
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `j/${ours} q0\nj/${ours} q1\nj/${ours} q2\n`)
    })
  }

  it('v5 properties from midge pub reach an mqtt.js subscriber', async () => {
    const client = await mqtt.connectAsync(`mqtt://${m.host}:${m.port}`, {protocolVersion: 5})
    const got = new Promise<{topic: string; payload: Buffer; packet: mqtt.IPublishPacket}>((resolve) =>
      client.on('message', (topic, payload, packet) => resolve({topic, payload, packet})))
    await client.subscribeAsync('props/x', {qos: 1})
    const res = await runMidge(['pub', ...conn, '-t', 'props/x', '-m', 'hi', '-q', '1', '-D', 'publish', 'content-type', 'text/plain',
      '-D', 'publish', 'user-property', 'a', 'b', '-D', 'publish', 'message-expiry-interval', '60'])
    assert.equal(res.code, 0, res.stderr)
    const {payload, packet} = await got
    assert.equal(payload.toString(), 'hi')
    assert.equal(packet.properties?.contentType, 'text/plain')
    assert.deepEqual({...packet.properties?.userProperties}, {a: 'b'})
    await client.endAsync()
  })

  it('midge sub --json reads what mqtt.js publishes', async () => {
    const {result: done} = await subscribed(['sub', ...conn, '-t', 'js/#', '-q', '1', '--json', '-C', '1', '-W', '10'])
    const client = await mqtt.connectAsync(`mqtt://${m.host}:${m.port}`, {protocolVersion: 5})
    await client.publishAsync('js/a', Buffer.from([1, 2, 3]), {qos: 1, properties: {correlationData: Buffer.from('c')}})
    await client.endAsync()
    const r = await done
    assert.equal(r.code, 0, r.stderr)
    const o = JSON.parse(r.stdout)
    assert.deepEqual([o.topic, o.payload, o.qos, o.properties.correlationData], ['js/a', '\u0001\u0002\u0003', 1, 'c'])
  })
})
