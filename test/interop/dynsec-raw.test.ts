// Raw JSON requests, sent with Debian's mosquitto_rr to midge and to Mosquitto with its dynamic
// security plugin: the fields mosquitto_ctrl never sends (roles and groups in create/modify, verbose
// lists, paging, ACL lists), batches with correlationData, key case, and malformed requests must get
// the very same answers from both.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {collect} from '../helpers/cli.js'
import {ADMIN, dynsecSkip, initFile, startMosquittoDynsec} from '../helpers/dynsec.js'
import {serveMidge, type ServedMidge} from '../helpers/served-broker.js'
import type {Mosquitto} from '../helpers/mosquitto.js'

const skip = dynsecSkip()

const c = (...commands: unknown[]) => JSON.stringify({commands})
const REQUESTS: string[] = [
  c({command: 'createRole', rolename: 'r1', textname: 'R1', acls: [{acltype: 'publishClientSend', topic: 'a/#', priority: 3, allow: true},
    {acltype: 'subscribePattern', topic: 'a/#', allow: true}, {acltype: 'bogus', topic: 'x'}, {acltype: 'publishClientReceive'},
    {acltype: 'PUBLISHCLIENTSEND', topic: 'b', priority: 3, allow: false}]}),
  c({command: 'createRole', rolename: 'r2', textdescription: 'second'}),
  c({command: 'createGroup', groupname: 'g1', textdescription: 'G one', roles: [{rolename: 'r1', priority: 2}]}),
  c({command: 'createGroup', groupname: 'g2', roles: [{rolename: 'nope'}]}),
  c({command: 'createGroup', groupname: 'g3', roles: 'x'}),
  c({command: 'createClient', username: 'c1', password: 'pw', clientid: 'id1', textname: 'C1', roles: [{rolename: 'r2', priority: 1}], groups: [{groupname: 'g1', priority: 5}]}),
  c({command: 'createClient', username: 'c2', groups: [{groupname: 'nope'}]}),
  c({command: 'createClient', username: 'c3', roles: [{rolename: 'r1'}, {name: 'r2'}]}),
  c({command: 'getClient', username: 'c1'}),
  c({command: 'modifyClient', username: 'c1', textname: 'C-one', roles: [{rolename: 'r1'}], groups: [], clientid: ''}),
  c({command: 'getClient', username: 'c1'}),
  c({command: 'modifyGroup', groupname: 'g1', clients: [{username: 'c1', priority: 3}, {username: 'nobody'}], roles: [{rolename: 'r2'}]}),
  c({command: 'getGroup', groupname: 'g1'}),
  c({command: 'createGroup', groupname: 'g0'}),
  c({command: 'listGroups', verbose: true}),
  c({command: 'listClients', verbose: true, count: 1, offset: 1}),
  c({command: 'listClients', count: 0}),
  c({command: 'listRoles', verbose: true}),
  c({command: 'modifyRole', rolename: 'r1', textdescription: 'changed', acls: [{acltype: 'unsubscribePattern', topic: '#', allow: true}]}),
  c({command: 'getRole', rolename: 'r1'}),
  c({command: 'modifyRole', rolename: 'nope'}),
  c({command: 'setDefaultACLAccess', acls: [{acltype: 'publishClientSend', allow: true}, {acltype: 'SUBSCRIBE', allow: true}, {acltype: 'unsubscribe', allow: 'yes'}]}),
  c({command: 'getDefaultACLAccess'}),
  c({command: 'setDefaultACLAccess', acls: 'all'}),
  c({command: 'listRoles', correlationData: 'a'}, 42, {nocommand: 1}, {command: 'bogus', correlationData: 'b'}, {command: 'getRole', rolename: 'r1', correlationData: 7}, {command: 'listRoles'}),
  '{"COMMANDS": [{"COMMAND": "getclient", "USERNAME": "c1"}]}',
  'nope',
  '{"commands": [{"command": "listGroups"}]} trailing words',
  '{"commands": {}}',
  '[]',
  c({command: 'createClient', username: 'bad\u0001name'}),
  c({command: 'addRoleACL', rolename: 'r2', acltype: 'subscribeLiteral', topic: 'x/+', priority: 'high', allow: true}),
  c({command: 'addRoleACL', rolename: 'r2', acltype: 'subscribeLiteral', topic: 'x/+'}),
  c({command: 'removeRoleACL', rolename: 'r2', acltype: 'subscribeLiteral'}),
  c({command: 'addClientRole', username: 'c1', rolename: 'r2', priority: '9'}),
  c({command: 'addGroupRole', groupname: 'g1', rolename: 'r1', priority: 4.7}),
  c({command: 'getGroup', groupname: 'g1'}, {command: 'getClient', username: 'c1'}),
  c({command: 'setClientId', username: 'c1', clientid: 5}),
  c({command: 'createClient', username: 'x'.repeat(70_000)}),
  c({command: 'createRole', rolename: 'big', acls: [{acltype: 'publishClientSend', topic: 'p', priority: 1e12, allow: true},
    {acltype: 'publishClientSend', topic: 'q', priority: -5.9, allow: true}, {acltype: 'publishClientSend', topic: 'r', priority: -1e12}]}),
  c({command: 'getRole', rolename: 'big'}),
  c({command: 'listRoles', count: -3, offset: 99}, {command: 'listRoles', count: 2, offset: -4}, {command: 'listGroups', count: 'two'}),
  c({command: 'createGroup', groupname: 'a/b+#'}, {command: 'createGroup', groupname: ''}, {command: 'getGroup', groupname: ''}),
  c({command: 'createClient', username: 'ünï', password: ''}, {command: 'getClient', username: 'ünï'}),
  c({command: 'addGroupClient', groupname: 'g1', username: 'ünï', priority: 2147483648}, {command: 'getGroup', groupname: 'g1'}),
  // (not getGroup after deleteRole of a group's role: Mosquitto 2.0.11 then lists freed memory as a role)
  c({command: 'removeGroupRole', groupname: 'g1', rolename: 'r2'}, {command: 'deleteRole', rolename: 'r2'}, {command: 'getClient', username: 'c1'}),
  c({command: 'deleteClient', username: 'c1'}, {command: 'getGroup', groupname: 'g1'}, {command: 'listClients'}),
]

async function rr(port: number, payload: string): Promise<unknown> {
  const r = await collect(spawn('mosquitto_rr', ['-h', '127.0.0.1', '-p', String(port), '-u', ADMIN.username, '-P', ADMIN.password,
    '-t', '$CONTROL/dynamic-security/v1', '-e', '$CONTROL/dynamic-security/v1/response', '-m', payload, '-W', '10']), 20_000)
  assert.equal(r.code, 0, `mosquitto_rr: ${r.stderr}`)
  return JSON.parse(r.stdout)
}

describe('raw dynsec requests: midge answers as Mosquitto does', {skip}, () => {
  let dir: string
  let midge: ServedMidge
  let mosquitto: Mosquitto

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-dynsec-raw-'))
    initFile(join(dir, 'midge.json'))
    initFile(join(dir, 'mosquitto.json'))
    // configured as `broker start --dynsec FILE` would be, in this process (serveBroker)
    midge = await serveMidge({dynsec: join(dir, 'midge.json')})
    mosquitto = await startMosquittoDynsec(join(dir, 'mosquitto.json'))
  })

  after(async () => {
    await midge?.stop()
    await mosquitto?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('every request gets the same answer', async () => {
    for (const payload of REQUESTS) {
      const [ours, theirs] = await Promise.all([rr(midge.port, payload), rr(mosquitto.port, payload)])
      assert.deepEqual(ours, theirs, payload)
    }
  })
})
