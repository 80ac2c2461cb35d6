// Issue #14 over real sockets: a publisher that sends MQTT 5 properties a PUBLISH may not carry is
// disconnected (0x81) and nothing of it reaches other clients, which are clients we did not write
// (the `mqtt` package and Debian's mosquitto_sub -V 5, which fail on such properties); with
// --persistence a poisoned retained message is not stored, so a restart brings nothing back.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {connect as tcp, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import mqtt from 'mqtt'
import {encodePacket, PacketDecoder, type Packet} from '../../src/codec/index.js'
import {collect, orphanSafe} from '../helpers/cli.js'
import {startMidgeBroker} from '../helpers/midge-broker.js'
import {hasMosquitto} from '../helpers/mosquitto.js'
import {frame, hex, str} from '../helpers/wire.js'

/** A raw v5 client on a real socket: send bytes, read packets until one matches. */
async function rawClient(port: number, clientId: string): Promise<{socket: Socket; until(cmd: string): Promise<Packet[]>; closed: Promise<void>}> {
  const socket = tcp(port, '127.0.0.1')
  const decoder = new PacketDecoder({maxPacketSize: 1 << 28, protocolVersion: 5})
  const got: Packet[] = []
  let wake = () => {}
  socket.on('data', (d) => { decoder.push(d, (p) => got.push(p)); wake() })
  const closed = new Promise<void>((resolve) => socket.on('close', () => { wake(); resolve() }))
  socket.on('error', () => undefined)
  const until = async (cmd: string) => {
    for (;;) {
      const at = got.findIndex((p) => p.cmd === cmd)
      if (at >= 0) return got.splice(0, at + 1)
      if (socket.destroyed) throw new Error(`closed before ${cmd}; got ${JSON.stringify(got)}`)
      await new Promise<void>((resolve) => { wake = resolve })
    }
  }
  socket.write(encodePacket({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId, clean: true, keepalive: 0}, 5))
  await until('connack')
  return {socket, until, closed}
}

/** A v5 PUBLISH (QoS 1, packet id 1) with raw property bytes. */
function publishWith(topic: string, props: string, payload: string, retain = false): Buffer {
  const p = hex(props)
  return frame(retain ? 0x33 : 0x32, Buffer.concat([str(topic), hex('0001'), Buffer.from([p.length]), p, Buffer.from(payload)]))
}

test('disallowed properties never reach the mqtt package or mosquitto_sub -V 5; nothing poisoned survives a restart', {skip: hasMosquitto() ? false : 'mosquitto-clients is not installed'}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'midge-hostile-'))
  t.after(() => rm(dir, {recursive: true, force: true}))
  let broker = await startMidgeBroker(['--persistence', dir, '--log-level', 'warn'])
  t.after(() => broker.stop())

  const errors: Error[] = []
  const received: string[] = []
  const js = await mqtt.connectAsync(broker.url, {protocolVersion: 5, clientId: 'js-sub', reconnectPeriod: 0})
  js.on('error', (e) => errors.push(e))
  js.on('message', (_topic, payload) => received.push(payload.toString()))
  await js.subscribeAsync('x/#', {qos: 1})
  const mosq = spawn(...orphanSafe('stdbuf', ['-oL', 'mosquitto_sub', '-p', String(broker.port), '-V', '5', '-q', '1', '-t', 'x/#', '-C', '1', '-d']), {stdio: ['ignore', 'pipe', 'pipe']})
  const mosqDone = collect(mosq, 30_000)
  await new Promise<void>((resolve) => {
    let seen = ''
    mosq.stdout!.on('data', (d: Buffer) => { seen += d.toString(); if (seen.includes('received SUBACK')) resolve() })
  })

  // each bad publisher is told 0x81 and closed
  for (const [name, props, retain] of [['cut-off', '1a03', false], ['session-expiry', '1100000001', true], ['reason-string', '1f000162', true]] as const) {
    const bad = await rawClient(broker.port, `bad-${name}`)
    bad.socket.write(publishWith('x/poison', props, `poison-${name}`, retain))
    const [answer] = (await bad.until('disconnect')).slice(-1)
    assert.equal((answer as {reasonCode?: number}).reasonCode, 0x81, name)
    await bad.closed
  }

  // then an ordinary message reaches both, and it is the only one they got
  const pub = await mqtt.connectAsync(broker.url, {protocolVersion: 5, clientId: 'js-pub', reconnectPeriod: 0})
  await pub.publishAsync('x/good', 'good', {qos: 1, retain: true})
  const r = await mosqDone
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^good$/m)
  assert.doesNotMatch(r.stdout + r.stderr, /poison|Malformed|protocol error/i)
  await new Promise<void>((resolve) => { const check = () => (received.length > 0 ? resolve() : setTimeout(check, 20)); check() })
  assert.deepEqual(received, ['good'])
  assert.deepEqual(errors, [])
  await pub.endAsync()
  await js.endAsync()

  // restart on the same storage: the only retained message is the good one
  const stopped = await broker.stop()
  assert.equal(stopped.code, 0, stopped.stderr)
  broker = await startMidgeBroker(['--persistence', dir, '--log-level', 'warn'])
  const check = await rawClient(broker.port, 'check')
  check.socket.write(encodePacket({cmd: 'subscribe', messageId: 1, subscriptions: [{topic: 'x/#', qos: 0}]}, 5))
  const before = await check.until('suback') // with persistence the SUBACK waits for a commit: retained messages may come first
  check.socket.write(encodePacket({cmd: 'pingreq'}, 5)) // the rest are written before the PINGRESP
  const retained = [...before, ...await check.until('pingresp')].filter((p) => p.cmd === 'publish')
  assert.deepEqual(retained.map((p) => (p as {payload: Buffer}).payload.toString()), ['good'])
  check.socket.destroy()
})
