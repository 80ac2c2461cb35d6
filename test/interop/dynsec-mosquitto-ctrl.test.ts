// Debian's mosquitto_ctrl drives midge and Debian's Mosquitto (with its dynamic security plugin) through
// the same provisioning script, every command family and its error cases: each step must print the
// same thing on both, and both brokers must end up with the same configuration file.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {ADMIN, dynsecSkip, initFile, mosquittoCtrl, startMosquittoDynsec} from '../helpers/dynsec.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import type {Mosquitto} from '../helpers/mosquitto.js'

const skip = dynsecSkip()

/** The script: [arguments, what the output must contain (checked on both brokers)]. */
const SCRIPT: Array<[string[], RegExp?]> = [
  [['createClient', 'alice', '-p', 'alice-pw', '-c', 'alice-id']],
  [['createClient', 'alice', '-p', 'x'], /createClient: Error: Client already exists/],
  [['createClient', 'bob', '-p', 'bob-pw']],
  [['createRole', 'sensors']],
  [['createRole', 'sensors'], /Role already exists/],
  [['addRoleACL', 'sensors', 'publishClientSend', 'sensors/#', 'allow', '5']],
  [['addRoleACL', 'sensors', 'subscribePattern', 'sensors/#', 'allow']],
  [['addRoleACL', 'sensors', 'publishClientReceive', 'sensors/#', 'allow', '2']],
  [['addRoleACL', 'sensors', 'unsubscribeLiteral', 'sensors/x', 'deny', '1']],
  [['addRoleACL', 'sensors', 'subscribeLiteral', 'sensors/secret', 'deny', '9']],
  [['addRoleACL', 'sensors', 'publishClientSend', 'sensors/+/raw', 'deny', '5']],
  [['addRoleACL', 'sensors', 'publishClientSend', 'sensors/#', 'allow'], /ACL with this topic already exists/],
  [['addRoleACL', 'nosuch', 'publishClientSend', 'a', 'allow'], /Role not found/],
  [['addRoleACL', 'sensors', 'publishClientSend', 'a/#/b', 'allow'], /Invalid ACL topic/],
  [['getRole', 'sensors'], /ACLs: {5}publishClientSend {4}: allow : sensors\/# \(priority: 5\)/],
  [['createRole', 'readers']],
  [['addClientRole', 'alice', 'sensors', '3']],
  [['addClientRole', 'alice', 'readers', '7']],
  [['addClientRole', 'alice', 'sensors'], /addClientRole: Error: Internal error/],
  [['addClientRole', 'nobody', 'sensors'], /Client not found/],
  [['addClientRole', 'alice', 'nosuch'], /Role not found/],
  [['createGroup', 'g1']],
  [['createGroup', 'g2']],
  [['createGroup', 'g1'], /Group already exists/],
  [['addGroupClient', 'g1', 'alice', '4']],
  [['addGroupClient', 'g2', 'alice']],
  [['addGroupClient', 'g2', 'bob', '1']],
  [['addGroupClient', 'g1', 'alice'], /Client is already in this group/],
  [['addGroupClient', 'g1', 'nobody'], /Client not found/],
  [['addGroupClient', 'nosuch', 'alice'], /Group not found/],
  [['addGroupRole', 'g1', 'readers', '2']],
  [['addGroupRole', 'g1', 'readers'], /Group is already in this role/],
  [['addGroupRole', 'g1', 'nosuch'], /Role not found/],
  [['getGroup', 'g1'], /Groupname: g1\nRoles: {5}readers \(priority: 2\)\nClients: {3}alice/],
  [['getClient', 'alice'], /Username: alice\nClientid: alice-id\nRoles: {4}readers \(priority: 7\)\n {10}sensors \(priority: 3\)\nGroups: {3}g1 \(priority: 4\)\n {10}g2 \(priority: -1\)/],
  [['listClients'], /^admin\nalice\nbob\n$/],
  [['listClients', '1'], /^admin\n$/],
  [['listClients', '1', '1'], /^alice\n$/],
  [['listGroups'], /^g1\ng2\n$/],
  [['listRoles'], /^admin\nreaders\nsensors\n$/],
  [['setAnonymousGroup', 'g2']],
  [['getAnonymousGroup'], /^g2\n$/],
  [['setAnonymousGroup', 'nosuch'], /Group not found/],
  [['setClientId', 'alice', 'other-id']],
  [['getClient', 'alice'], /Clientid: other-id/],
  [['setClientId', 'alice']],
  [['getClient', 'alice'], /Clientid:\n/],
  [['setClientId', 'nobody', 'x'], /Client not found/],
  [['setClientPassword', 'bob', 'bob-pw-2']],
  [['setClientPassword', 'nobody', 'x'], /Client not found/],
  [['disableClient', 'bob']],
  [['getClient', 'bob'], /Disabled: true/],
  [['enableClient', 'bob']],
  [['getClient', 'bob'], /^Username: bob\nClientid:\nGroups: {3}g2 \(priority: 1\)\n$/],
  [['disableClient', 'nobody'], /Client not found/],
  [['removeClientRole', 'alice', 'readers']],
  [['removeClientRole', 'alice', 'nosuch'], /Role not found/],
  [['removeGroupRole', 'g1', 'readers']],
  [['removeGroupRole', 'nosuch', 'readers'], /Group not found/],
  [['removeGroupClient', 'g1', 'alice']],
  [['removeGroupClient', 'g1', 'nobody'], /Client not found/],
  [['removeRoleACL', 'sensors', 'subscribeLiteral', 'sensors/secret']],
  [['removeRoleACL', 'sensors', 'subscribeLiteral', 'nothing'], /ACL not found/],
  [['getDefaultACLAccess'], /publishClientSend {4}: deny\npublishClientReceive : allow\nsubscribe {12}: deny\nunsubscribe {10}: allow/],
  // mosquitto_ctrl 2.0 sends "access" where the plugin reads "allow": both brokers answer success and change nothing
  [['setDefaultACLAccess', 'publishClientSend', 'allow']],
  [['getDefaultACLAccess'], /publishClientSend {4}: deny/],
  [['deleteGroup', 'g1']],
  [['deleteGroup', 'g1'], /Group not found/],
  [['deleteRole', 'readers']],
  [['deleteRole', 'readers'], /Role not found/],
  [['deleteClient', 'carol'], /Client not found/],
  [['deleteClient', 'bob']],
  [['listClients'], /^admin\nalice\n$/],
  [['getClient', 'nobody'], /Client not found/],
  [['getGroup', 'nosuch'], /Group not found/],
  [['getRole', 'nosuch'], /Role not found/],
]

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
