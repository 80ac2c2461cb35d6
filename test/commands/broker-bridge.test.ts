// `midge broker start` with bridges as a user writes them: a mosquitto.conf `connection` section
// (credentials, TLS with a CA made by openssl, the state topic and its will on the remote when midge
// dies), the short form --bridge with the password from the environment, and bad configurations
// (exit 17 with the file and line).
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import mqtt from 'mqtt'
import {runMidge} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {hasMosquitto, startMosquitto, type Mosquitto} from '../helpers/mosquitto.js'
import {runMosquitto} from '../helpers/mosquitto-process.js'

const skip = hasMosquitto() ? false : 'Debian mosquitto is not installed'

/** The payloads `url` receives on `filter`, and a way to wait for one. */
async function watch(url: string, filter: string, options: mqtt.IClientOptions = {}) {
  const c = await mqtt.connectAsync(url, {reconnectPeriod: 0, ...options})
  const got: Array<{topic: string; payload: string; retain: boolean}> = []
  c.on('message', (topic, p, packet) => got.push({topic, payload: p.toString(), retain: packet.retain}))
  await c.subscribeAsync(filter, {qos: 1})
  const until = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(got)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {c, got, until}
}

/** Fails (instead of hanging the file) when `p` does not settle in 30 s. */
async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 30_000) })
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
  }
}

describe('broker start with bridges', {skip}, () => {
  let dir: string
  let mosq: Mosquitto
  const stops: Array<() => Promise<unknown>> = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-bridge-cmd-'))
    mosq = await startMosquitto({users: {edge: 'edge pw'}, tls: true})
  })
  after(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined)
    await mosq?.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  it('a connection section over TLS with credentials: messages flow, the state is 1 on the remote, and 0 when midge is killed', async () => {
    const conf = join(dir, 'tls.conf')
    writeFileSync(conf, [
      'listener 0 127.0.0.1',
      'connection cloud',
      `address 127.0.0.1:${mosq.tlsPort}`,
      'remote_clientid edge-1',
      'remote_username edge',
      'remote_password edge pw',
      `bridge_cafile ${mosq.caFile}`,
      'restart_timeout 1',
      'topic up/# out 1 "" site1/',
      'topic down/# in 1 "" site1/',
    ].join('\n') + '\n')
    const auth = {username: 'edge', password: 'edge pw'}
    const remote = await watch(mosq.url, '#', auth)
    stops.push(() => remote.c.endAsync(true))
    const state = await watch(mosq.url, '$SYS/broker/connection/edge-1/state', auth)
    stops.push(() => state.c.endAsync(true))
    const midge: MidgeBroker = await startMidgeBroker(['-c', conf])
    stops.push(() => midge.stop())
    await state.until(() => state.got.at(-1)?.payload === '1', 'state 1 on the remote')
    const local = await watch(midge.url, 'down/#')
    stops.push(() => local.c.endAsync(true))
    await local.c.publishAsync('up/temp', '21.5', {qos: 1})
    await remote.until(() => remote.got.some((m) => m.topic === 'site1/up/temp' && m.payload === '21.5'), 'the message on the remote')
    await remote.c.publishAsync('site1/down/cmd', 'reboot', {qos: 1})
    await local.until(() => local.got.some((m) => m.topic === 'down/cmd' && m.payload === 'reboot'), 'the command locally')
    const result = await midge.stop('SIGKILL')
    await state.until(() => state.got.at(-1)?.payload === '0', 'the will: state 0 on the remote')
    assert.match(result.stderr, /bridge connected/)
  })

  it('--bridge URL --bridge-topic, the password from MIDGE_BRIDGE_PASSWORD; a wrong one is logged and retried', async () => {
    const remote = await watch(mosq.url, 'short/#', {username: 'edge', password: 'edge pw'})
    stops.push(() => remote.c.endAsync(true))
    const midge = await startMidgeBroker(['--bridge', `mqtt://edge@127.0.0.1:${mosq.port}`, '--bridge-topic', 'short/# out 1', '--bridge-name', 'short'],
      {MIDGE_BRIDGE_PASSWORD: 'edge pw'})
    stops.push(() => midge.stop())
    const pub = await mqtt.connectAsync(midge.url, {reconnectPeriod: 0})
    stops.push(() => pub.endAsync(true))
    // the bridge may still be connecting: a QoS 1 message waits for it
    await pub.publishAsync('short/a', 'via flags', {qos: 1})
    await remote.until(() => remote.got.some((m) => m.payload === 'via flags'), 'the message on the remote')

    // mqtts:// with --bridge-cafile (the CA the tests made with openssl)
    const tls = await startMidgeBroker(['--bridge', `mqtts://edge@127.0.0.1:${mosq.tlsPort}`, '--bridge-cafile', mosq.caFile!,
      '--bridge-topic', 'short/# out 1 tls/ ""', '--bridge-name', 'short-tls', '--bridge-protocol-version', 'mqttv50'], {MIDGE_BRIDGE_PASSWORD: 'edge pw'})
    stops.push(() => tls.stop())
    const tlsPub = await mqtt.connectAsync(tls.url, {reconnectPeriod: 0})
    stops.push(() => tlsPub.endAsync(true))
    await tlsPub.publishAsync('tls/short/b', 'via mqtts', {qos: 1})
    await remote.until(() => remote.got.some((m) => m.topic === 'short/b' && m.payload === 'via mqtts'), 'the message over TLS')

    const wrong = await startMidgeBroker(['--bridge', `mqtt://edge@127.0.0.1:${mosq.port}`, '--bridge-topic', 'x/#', '--bridge-name', 'wrong'],
      {MIDGE_BRIDGE_PASSWORD: 'nope'})
    let stderr = ''
    wrong.child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    const deadline = Date.now() + 30_000
    while (!/bridge connection failed.*(not authori[sz]ed|bad user name or password)/i.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const r = await wrong.stop()
    assert.match(stderr + r.stderr, /bridge connection failed/)
    assert.equal(r.code, 0, 'a refused bridge does not stop the broker')
  })

  it('bad bridge sections: one line each with the file and line number, exit 17', async () => {
    const conf = join(dir, 'bad.conf')
    writeFileSync(conf, [
      'listener 0 127.0.0.1',
      'connection no-topic',
      'address 127.0.0.1',
      'connection bad-direction',
      'address 127.0.0.1',
      'topic a/# sideways',
      'connection bad-address',
      'address 127.0.0.1:70000',
      'topic a/#',
    ].join('\n') + '\n')
    const r = await runMidge(['broker', 'start', '-c', conf, '--test-config'])
    assert.equal(r.code, 17, r.stderr)
    assert.match(r.stderr, new RegExp(`${conf}:6: topic: invalid direction 'sideways'`))
    assert.match(r.stderr, new RegExp(`${conf}:8: address: invalid port in address '127.0.0.1:70000'`))
    assert.match(r.stderr, new RegExp(`${conf}:2: bridge no-topic: no topic`))
    const ok = join(dir, 'ok.conf')
    writeFileSync(ok, `listener 0 127.0.0.1\nconnection fine\naddress 127.0.0.1:${mosq.port}\ntopic a/# both 2\n`)
    const good = await runMidge(['broker', 'start', '-c', ok, '--test-config'])
    assert.equal(good.code, 0, good.stderr)
    assert.match(good.stdout, /configuration OK: 1 listener \(.*\), 1 bridge \(fine\)/)
    const unreadable = join(dir, 'ca-missing.conf')
    writeFileSync(unreadable, `listener 0 127.0.0.1\nconnection c\naddress 127.0.0.1\ntopic a/#\nbridge_cafile ${join(dir, 'nope.crt')}\n`)
    const missing = await runMidge(['broker', 'start', '-c', unreadable, '--test-config'])
    assert.equal(missing.code, 17)
    assert.match(missing.stderr, /ca-missing\.conf:2: bridge c: cannot read the bridge_cafile .*nope\.crt: no such file/)
  })
})

describe('broker start --persistence with a bridge whose remote is down', {skip}, () => {
  it('QoS 1 messages acknowledged while the remote is down survive a kill -9 of midge and go out once it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'midge-bridge-persist-'))
    const remote = await runMosquitto()
    await remote.kill('SIGTERM') // down, with a known port
    const conf = join(dir, 'edge.conf')
    writeFileSync(conf, `listener 0 127.0.0.1\nconnection cloud\naddress 127.0.0.1:${remote.port}\nrestart_timeout 1\ntopic q/# out 1\n`)
    const stops: Array<() => Promise<unknown>> = [() => remote.stop(), async () => rmSync(dir, {recursive: true, force: true})]
    try {
      const first = await startMidgeBroker(['-c', conf, '--persistence', join(dir, 'db')])
      stops.push(() => first.stop('SIGKILL'))
      const pub = await mqtt.connectAsync(first.url, {reconnectPeriod: 0})
      for (let i = 0; i < 50; i++) await within(pub.publishAsync('q/x', `p${i}`, {qos: 1}), `the PUBACK of p${i}`)
      pub.end(true)
      await first.stop('SIGKILL')
      await remote.restart()
      const receiver = await watch(remote.url, 'q/#')
      stops.push(() => receiver.c.endAsync(true))
      const second = await startMidgeBroker(['-c', conf, '--persistence', join(dir, 'db')])
      stops.push(() => second.stop())
      await receiver.until(() => new Set(receiver.got.map((m) => m.payload)).size === 50, 'the 50 messages')
      assert.deepEqual([...new Set(receiver.got.map((m) => m.payload))].sort(), Array.from({length: 50}, (_, i) => `p${i}`).sort())
    } finally {
      for (const s of stops.reverse()) await s().catch(() => undefined)
    }
  })
})
