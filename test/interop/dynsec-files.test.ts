// dynamic-security.json both ways: a file Mosquitto's plugin saved after mosquitto_ctrl changes is
// loaded by midge, and a file midge saved is loaded by Mosquitto; on each, the passwords in the file
// log in (mosquitto_pub) and wrong ones are refused. A file midge cannot use stops the start (exit 17).
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {collect, runMidge} from '../helpers/cli.js'
import {ADMIN, dynsecSkip, initFile, mosquittoCtrl, startMosquittoDynsec} from '../helpers/dynsec.js'
import {startMidgeBroker} from '../helpers/midge-broker.js'

const skip = dynsecSkip()

const PROVISION: string[][] = [
  ['createClient', 'dave', '-p', 'dave-pw'],
  ['createRole', 'writers'],
  ['addRoleACL', 'writers', 'publishClientSend', 'data/#', 'allow'],
  ['addClientRole', 'dave', 'writers'],
  ['createClient', 'erin', '-p', 'first-pw'],
  ['setClientPassword', 'erin', 'erin-pw'],
  ['addClientRole', 'erin', 'writers'],
]

async function provision(port: number): Promise<void> {
  for (const args of PROVISION) {
    const r = await mosquittoCtrl(port, args)
    assert.equal(r.stdout + r.stderr, '', args.join(' '))
  }
}

/** mosquitto_pub QoS 1 as a user: its exit code (0, or the CONNACK's). */
async function pub(port: number, user: string, password: string): Promise<number | null> {
  const r = await collect(spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-t', 'data/x', '-m', 'hi', '-q', '1']), 15_000)
  return r.code
}

async function checkLogins(port: number): Promise<void> {
  assert.equal(await pub(port, 'dave', 'dave-pw'), 0)
  assert.equal(await pub(port, 'erin', 'erin-pw'), 0)
  assert.notEqual(await pub(port, 'erin', 'first-pw'), 0)
  assert.notEqual(await pub(port, 'dave', 'Dave-pw'), 0)
  const r = await mosquittoCtrl(port, ['listClients'])
  assert.equal(r.stdout, 'admin\ndave\nerin\n', r.stderr)
}

describe('dynamic-security.json written by one broker, read by the other', {skip}, () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'midge-dynsec-files-')) })
  after(() => { if (dir) rmSync(dir, {recursive: true, force: true}) })

  it('Mosquitto saves it, midge loads it: its passwords log in, wrong ones do not', async () => {
    const file = join(dir, 'from-mosquitto.json')
    initFile(file)
    const mosquitto = await startMosquittoDynsec(file)
    try {
      await provision(mosquitto.port)
    } finally {
      await mosquitto.stop()
    }
    assert.match(readFileSync(file, 'utf8'), /"username":\s*"erin"/)
    const midge = await startMidgeBroker(['--dynsec', file])
    try {
      await checkLogins(midge.port)
    } finally {
      await midge.stop()
    }
  })

  it('midge saves it, Mosquitto loads it: its passwords log in, wrong ones do not', async () => {
    const file = join(dir, 'from-midge.json')
    initFile(file)
    const midge = await startMidgeBroker(['--dynsec', file])
    try {
      await provision(midge.port)
    } finally {
      await midge.stop()
    }
    const saved = JSON.parse(readFileSync(file, 'utf8'))
    const erin = saved.clients.find((c: {username: string}) => c.username === 'erin')
    assert.equal(Buffer.from(erin.salt, 'base64').length, 12)
    assert.equal(Buffer.from(erin.password, 'base64').length, 64)
    assert.equal(erin.iterations, 101)
    const mosquitto = await startMosquittoDynsec(file)
    try {
      await checkLogins(mosquitto.port)
    } finally {
      await mosquitto.stop()
    }
  })

  it('a Mosquitto configuration with the plugin line runs unchanged on midge', async () => {
    const file = join(dir, 'conf.json')
    initFile(file)
    const conf = join(dir, 'mosquitto.conf')
    writeFileSync(conf, `listener 0 127.0.0.1\nallow_anonymous false\nplugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so\nplugin_opt_config_file ${file}\n`)
    const midge = await startMidgeBroker(['-c', conf])
    try {
      await provision(midge.port)
      await checkLogins(midge.port)
    } finally {
      await midge.stop()
    }
  })

  it('midge replaces the file whole, keeping its mode (no temp file left beside it)', async () => {
    const sub = join(dir, 'atomic')
    mkdirSync(sub)
    const file = join(sub, 'dynsec.json')
    initFile(file)
    chmodSync(file, 0o640)
    const midge = await startMidgeBroker(['--dynsec', file])
    try {
      await provision(midge.port)
    } finally {
      await midge.stop()
    }
    assert.deepEqual(readdirSync(sub), ['dynsec.json'])
    assert.equal(statSync(file).mode & 0o777, 0o640)
    assert.match(readFileSync(file, 'utf8'), /"username": "erin"/)
  })
})

describe('a dynamic security file midge cannot use stops the start with one line (exit 17)', () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'midge-dynsec-bad-')) })
  after(() => { if (dir) rmSync(dir, {recursive: true, force: true}) })

  const cases: Array<[string, string | undefined, RegExp]> = [
    ['truncated.json', '{"clients": [{"username": "a"', /invalid dynamic security file .*truncated\.json: not valid JSON/],
    ['clients-object.json', '{"clients": {"username": "a"}}', /invalid dynamic security file .*: "clients" is not an array/],
    ['array.json', '[1, 2]', /invalid dynamic security file .*: not a JSON object/],
    ['missing.json', undefined, /cannot read dynamic security file .*missing\.json: no such file/],
  ]
  for (const [name, text, expected] of cases) {
    it(name, async () => {
      const file = join(dir, name)
      if (text !== undefined) writeFileSync(file, text)
      const r = await runMidge(['broker', 'start', '--port', '0', '--dynsec', file])
      assert.equal(r.code, 17, r.stderr)
      assert.match(r.stderr, expected)
      assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('{')).length, 1, r.stderr)
      if (text !== undefined) assert.equal(readFileSync(file, 'utf8'), text, 'the file is left as it was')
    })
  }
})
