// `midge ctrl dynsec` driving Debian's Mosquitto (with its dynamic security plugin) side by side with
// mosquitto_ctrl: every dynsec command once, with error cases, must print what mosquitto_ctrl prints;
// where mosquitto_ctrl reports the broker's error, midge ctrl exits 18 with the same error string.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runMidge, type RunResult} from '../helpers/cli.js'
import {ADMIN, dynsecSkip, initFile, mosquittoCtrl, startMosquittoDynsec} from '../helpers/dynsec.js'
import type {Mosquitto} from '../helpers/mosquitto.js'

const skip = dynsecSkip()

const ctrl = (port: number, args: string[]): Promise<RunResult> =>
  runMidge(['ctrl', '-h', '127.0.0.1', '-p', String(port), '-u', ADMIN.username, 'dynsec', ...args], {env: {MIDGE_PASSWORD: ADMIN.password}})

/** Each command once (every printed layout), with some refusals; a shorter run than the interop script, as each midge ctrl is a process start. */
const SCRIPT: string[][] = [
  ['createClient', 'alice', '-p', 'alice-pw', '-c', 'alice-id'], ['createClient', 'alice', '-p', 'x'], ['createClient', 'bob', '-p', 'bob-pw'],
  ['createRole', 'sensors'], ['addRoleACL', 'sensors', 'publishClientSend', 'sensors/#', 'allow', '5'],
  ['addRoleACL', 'sensors', 'subscribeLiteral', 'sensors/secret', 'deny', '9'], ['addRoleACL', 'sensors', 'publishClientSend', 'a/#/b', 'allow'],
  ['createRole', 'readers'], ['addClientRole', 'alice', 'sensors', '3'], ['addClientRole', 'alice', 'readers', '7'],
  ['createGroup', 'g1'], ['createGroup', 'g2'], ['addGroupClient', 'g1', 'alice', '4'], ['addGroupClient', 'g1', 'nobody'], ['addGroupRole', 'g1', 'readers', '2'],
  ['getGroup', 'g1'], ['getClient', 'alice'], ['getRole', 'sensors'], ['listClients'], ['listClients', '1', '1'], ['listGroups'], ['listRoles'],
  ['setAnonymousGroup', 'g1'], ['getAnonymousGroup'], ['setClientId', 'alice', 'other-id'], ['setClientPassword', 'bob', 'bob-pw-2'],
  ['disableClient', 'bob'], ['getClient', 'bob'], ['enableClient', 'bob'], ['removeClientRole', 'alice', 'readers'], ['removeGroupRole', 'g1', 'readers'],
  ['removeGroupClient', 'g1', 'alice'], ['removeRoleACL', 'sensors', 'subscribeLiteral', 'sensors/secret'], ['getDefaultACLAccess'],
  ['setDefaultACLAccess', 'publishClientSend', 'allow'], ['getDefaultACLAccess'], ['deleteGroup', 'g2'], ['deleteRole', 'readers'],
  ['deleteClient', 'bob'], ['getClient', 'bob'],
]

describe('midge ctrl manages Debian\'s Mosquitto as mosquitto_ctrl does', {skip}, () => {
  let dir: string
  let forTheirs: Mosquitto
  let forOurs: Mosquitto

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-ctrl-'))
    initFile(join(dir, 'theirs.json'))
    initFile(join(dir, 'ours.json'))
    forTheirs = await startMosquittoDynsec(join(dir, 'theirs.json'))
    forOurs = await startMosquittoDynsec(join(dir, 'ours.json'))
  })

  after(async () => {
    await forTheirs?.stop()
    await forOurs?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('every step of the script prints what mosquitto_ctrl prints; refusals exit 18 with the broker\'s error', {timeout: 600_000}, async () => {
    let defaultAccessSet = false
    for (const args of SCRIPT) {
      const step = `dynsec ${args.join(' ')}`
      const [theirs, ours] = await Promise.all([mosquittoCtrl(forTheirs.port, args), ctrl(forOurs.port, args)])
      const refused = /^(\w+): Error: (.*)\n$/.exec(theirs.stderr)
      if (refused) {
        assert.equal(ours.code, 18, `${step}: ${ours.stderr}`)
        assert.equal(ours.stderr, `midge ctrl: ${refused[1]}: ${refused[2]}\n`, step)
      } else {
        assert.equal(theirs.stderr, '', step)
        assert.equal(ours.code, 0, `${step}: ${ours.stderr}`)
        assert.equal(ours.stderr, '', step)
      }
      if (defaultAccessSet && args[0] === 'getDefaultACLAccess') {
        // mosquitto_ctrl 2.0's setDefaultACLAccess sends a field the plugin ignores; midge ctrl's takes effect
        assert.match(theirs.stdout, /^publishClientSend {4}: deny$/m)
        assert.equal(ours.stdout, theirs.stdout.replace(/^publishClientSend {4}: deny$/m, 'publishClientSend    : allow'), step)
      } else {
        assert.equal(ours.stdout, theirs.stdout, step)
      }
      if (args[0] === 'setDefaultACLAccess') defaultAccessSet = true
    }
    const strip = (path: string) => {
      const tree = JSON.parse(readFileSync(path, 'utf8'))
      for (const c of tree.clients) { delete c.password; delete c.salt }
      delete tree.defaultACLAccess.publishClientSend
      return tree
    }
    assert.deepEqual(strip(join(dir, 'ours.json')), strip(join(dir, 'theirs.json')))
  })
})

