// mosquitto.conf as a drop-in (issue #17): a realistic Mosquitto configuration (two listeners with
// per_listener_settings, a password file and an ACL on one, a mount point on the other, limits and
// persistence) starts `midge broker start -c`, and clients we did not write (mosquitto_pub/sub, the
// `mqtt` package) find each listener's rules.
import assert from 'node:assert/strict'
import {execFile, execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {promisify} from 'node:util'
import mqtt from 'mqtt'
import {collect, runMidge, spawnMidge, type RunResult} from '../helpers/cli.js'
import {freePort, hasMosquitto} from '../helpers/mosquitto.js'

const run = promisify(execFile)
const skip = hasMosquitto() ? false : 'mosquitto-clients is not installed (.ci/run installs it)'

/** Starts `midge broker start -c FILE` and waits for its ready file (every listener accepting). */
async function startWithConf(dir: string, conf: string) {
  const file = join(dir, 'mosquitto.conf')
  const ready = join(dir, 'ready.json')
  await writeFile(file, conf)
  const child = spawnMidge(['broker', 'start', '-c', file, '--ready-file', ready, '--log-level', 'info'])
  const done = collect(child, 120_000)
  let exited: RunResult | undefined
  void done.then((r) => { exited = r })
  while (!existsSync(ready)) {
    if (exited !== undefined) throw new Error(`broker exited (${exited.code}): ${exited.stderr}`)
    await sleep(20)
  }
  return {
    async stop() {
      child.kill('SIGTERM')
      return done
    },
  }
}

describe('a Mosquitto configuration with per_listener_settings, mount_point and limits', {skip}, () => {
  let dir: string
  let broker: Awaited<ReturnType<typeof startWithConf>>
  let open: number
  let secured: number
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'midge-conf-'))
    open = await freePort()
    secured = await freePort()
    const passwords = join(dir, 'passwd')
    await writeFile(passwords, '')
    execFileSync('mosquitto_passwd', ['-b', passwords, 'alice', 'alice-pw'])
    await writeFile(join(dir, 'acl'), 'user alice\ntopic readwrite #\n')
    broker = await startWithConf(dir, [
      'per_listener_settings true',
      'max_inflight_messages 1',
      'persistence true',
      `persistence_location ${dir}`,
      'persistence_file broker.sqlite',
      '',
      `listener ${open} 127.0.0.1`,
      'allow_anonymous true',
      'mount_point site/',
      'maximum_qos 1',
      '',
      `listener ${secured} 127.0.0.1`,
      `password_file ${passwords}`,
      `acl_file ${join(dir, 'acl')}`,
      'allow_anonymous false',
      'auto_id_prefix secured-',
      '',
    ].join('\n'))
  })
  after(async () => {
    await broker?.stop()
    await rm(dir, {recursive: true, force: true})
  })

  test('each listener has its own rules: anonymous on one, a password file and an ACL on the other', async () => {
    await run('mosquitto_pub', ['-p', String(open), '-t', 't', '-m', 'anonymous is fine here'])
    const refused = await run('mosquitto_pub', ['-p', String(secured), '-t', 't', '-m', 'x']).catch((e: {code: number; stderr: string}) => e)
    assert.notEqual((refused as {code?: number}).code ?? 0, 0)
    assert.match((refused as {stderr: string}).stderr, /not authori[sz]ed/i)
    await run('mosquitto_pub', ['-p', String(secured), '-u', 'alice', '-P', 'alice-pw', '-t', 't', '-m', 'alice is fine here'])
  })

  test('mount_point: a client of the mounted listener sees its topics; alice on the other listener sees the prefix', async () => {
    const sub = execFile('mosquitto_sub', ['-p', String(open), '-t', 'news', '-C', '1', '-W', '20'])
    const printed = new Promise<string>((resolve) => {
      let out = ''
      sub.stdout!.on('data', (d: Buffer) => { out += d.toString() })
      sub.on('close', () => resolve(out))
    })
    const alice = await mqtt.connectAsync(`mqtt://127.0.0.1:${secured}`, {username: 'alice', password: 'alice-pw', reconnectPeriod: 0})
    // the subscriber may not be subscribed yet: a retained message reaches it either way
    await alice.publishAsync('site/news', 'mounted', {qos: 1, retain: true})
    assert.equal((await printed).trim(), 'mounted')
    await alice.endAsync()
  })

  test('auto_id_prefix of the listener and max_inflight_messages as the v5 Receive Maximum', async () => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${secured}`, {protocolVersion: 5, clientId: '', username: 'alice', password: 'alice-pw', reconnectPeriod: 0})
    const connack = await new Promise<{properties?: {assignedClientIdentifier?: string; receiveMaximum?: number; maximumQoS?: number}}>((resolve, reject) => {
      client.once('connect', resolve)
      client.once('error', reject)
    })
    assert.match(connack.properties?.assignedClientIdentifier ?? '', /^secured-/)
    assert.equal(connack.properties?.receiveMaximum, 1)
    await client.endAsync()
  })

  test('persistence_file names the database, in persistence_location', async () => {
    assert.equal(existsSync(join(dir, 'broker.sqlite')), true)
    assert.equal(existsSync(join(dir, 'midge.db')), false)
  })

  test('the log says what midge decided', async () => {
    const r = await broker.stop()
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /per_listener_settings .*not supported|mount_point .*ignored/)
  })
})

describe('mosquitto.conf refusals and defaults', {skip}, () => {
  test('per_listener_settings: a password_file before any listener is refused with its line (exit 17)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'midge-conf-'))
    const file = join(dir, 'bad.conf')
    await writeFile(file, 'per_listener_settings true\npassword_file /etc/passwd-x\nlistener 1883\n')
    const r = await runMidge(['broker', 'start', '-c', file, '--test-config'])
    assert.equal(r.code, 17)
    assert.match(r.stderr, /bad\.conf:2: password_file: with per_listener_settings true, password_file belongs to a listener/)
    await rm(dir, {recursive: true, force: true})
  })

  test('the old "port" form without allow_anonymous starts and refuses anonymous clients, as Mosquitto 2 does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'midge-conf-'))
    const port = await freePort()
    const broker = await startWithConf(dir, `port ${port}\n`)
    const refused = await run('mosquitto_pub', ['-p', String(port), '-t', 't', '-m', 'x']).catch((e: {code: number; stderr: string}) => e)
    assert.notEqual((refused as {code?: number}).code ?? 0, 0)
    assert.match((refused as {stderr: string}).stderr, /not authori[sz]ed/i)
    const r = await broker.stop()
    assert.match(r.stderr, /allow_anonymous is not set: as in Mosquitto 2, clients without a user name are refused/)
    assert.equal(await readFile(join(dir, 'ready.json'), 'utf8').then((t) => JSON.parse(t.split('\n')[0]).port), port)
    await rm(dir, {recursive: true, force: true})
  })
})
