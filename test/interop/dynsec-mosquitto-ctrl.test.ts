// Debian's mosquitto_ctrl drives midge and Debian's Mosquitto (with its dynamic security plugin) through
// the same provisioning script, every command family and its error cases: each step must print the
// same thing on both, and both brokers must end up with the same configuration file.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {ADMIN, dynsecSkip, initFile, mosquittoCtrl, startMosquittoDynsec} from '../helpers/dynsec.js'
import {SCRIPT} from '../helpers/dynsec-script.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import type {Mosquitto} from '../helpers/mosquitto.js'

const skip = dynsecSkip()

describe('mosquitto_ctrl dynsec: the same script against midge and Mosquitto', {skip}, () => {
  let dir: string
  let midge: MidgeBroker
  let mosquitto: Mosquitto

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-dynsec-ctrl-'))
    initFile(join(dir, 'midge.json'))
    initFile(join(dir, 'mosquitto.json'))
    midge = await startMidgeBroker(['--dynsec', join(dir, 'midge.json'), '--allow-anonymous'])
    mosquitto = await startMosquittoDynsec(join(dir, 'mosquitto.json'))
  })

  after(async () => {
    await midge?.stop()
    await mosquitto?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('every step prints the same on both brokers, as expected', async () => {
    for (const [args, expected] of SCRIPT) {
      const [a, b] = await Promise.all([mosquittoCtrl(midge.port, args), mosquittoCtrl(mosquitto.port, args)])
      const step = `mosquitto_ctrl dynsec ${args.join(' ')}`
      assert.equal(a.stdout + a.stderr, b.stdout + b.stderr, `${step}: midge vs Mosquitto`)
      assert.equal(a.code, b.code, step)
      if (expected) assert.match(a.stdout + a.stderr, expected, step)
      else assert.equal(a.stdout + a.stderr, '', `${step} succeeds silently`)
    }
  })

  it('both brokers saved the same configuration (passwords aside)', () => {
    const strip = (path: string) => {
      const tree = JSON.parse(readFileSync(path, 'utf8'))
      for (const c of tree.clients) { delete c.password; delete c.salt }
      return tree
    }
    const ours = strip(join(dir, 'midge.json'))
    assert.deepEqual(ours, strip(join(dir, 'mosquitto.json')))
    assert.deepEqual(ours.clients.map((c: {username: string}) => c.username), [ADMIN.username, 'alice'])
  })

  it('a non-admin client gets no answer from either broker: its request is refused by the ACL', async () => {
    for (const port of [midge.port, mosquitto.port]) {
      const r = await mosquittoCtrl(port, ['listClients'], ['-u', 'alice', '-P', 'alice-pw', '-i', 'alice-id'])
      assert.match(r.stderr, /Subscribe error: Not authorized|Publish error: Not authorized/, `port ${port}: ${r.stdout}${r.stderr}`)
      assert.doesNotMatch(r.stdout, /admin/)
    }
  })
})
