// The dynamic-security.json format: what Mosquitto's plugin loads (case-insensitive keys, skipped
// entries), what it refuses, and a round trip through midge's writer.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {DynsecFileError, newPassword, parseDynsecFile, serializeDynsec} from '../../src/broker/dynsec/index.js'

const pw = newPassword('pw')
const record = {password: pw.hash.toString('base64'), salt: pw.salt.toString('base64'), iterations: pw.iterations}

describe('dynamic-security.json', () => {
  it('keys are matched without regard to case (mosquitto_ctrl init writes "textName")', () => {
    const {state} = parseDynsecFile(JSON.stringify({clients: [{Username: 'admin', textName: 'Dynsec admin user', ...record}]}))
    assert.equal(state.clients.get('admin')?.textname, 'Dynsec admin user')
    assert.ok(state.clients.get('admin')?.password)
  })

  it('entries the plugin would skip are skipped, with a warning each', () => {
    const {state, warnings} = parseDynsecFile(JSON.stringify({
      clients: [{username: 'short-salt', password: record.password, salt: 'AAAA', iterations: 101}, {username: 'zero', ...record, iterations: 0},
        {textname: 'no user name'}, {username: 'ok', roles: [{rolename: 'ghost'}]}],
      groups: [{groupname: 'g', clients: [{username: 'ghost'}, {username: 'ok', priority: 3}]}],
      roles: [{acls: []}],
      anonymousGroup: 'ghost',
    }))
    assert.deepEqual([...state.clients.keys()], ['ok'])
    assert.deepEqual(state.clients.get('ok')!.roles, []) // an unknown role is dropped
    assert.deepEqual(state.clients.get('ok')!.groups, [{name: 'g', priority: 3}])
    assert.equal(state.anonymousGroup, undefined)
    assert.equal(warnings.length, 4)
  })

  it('an empty file is an empty configuration; unusable ones are refused', () => {
    assert.equal(parseDynsecFile('').state.clients.size, 0)
    for (const text of ['{', 'null', '[]', '{"roles": 1}', '{"groups": "g"}']) assert.throws(() => parseDynsecFile(text), DynsecFileError, text)
    assert.throws(() => parseDynsecFile('{\n"a": 1,\n}'), /not valid JSON: .* at line 3/)
  })

  it('what midge writes reads back the same, ACL order within a priority included', () => {
    const text = JSON.stringify({
      defaultACLAccess: {publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true},
      clients: [{username: 'b', clientid: 'bid', disabled: true, roles: [{rolename: 'r', priority: 2}], ...record}, {username: 'a', roles: []}],
      groups: [{groupname: 'g', textname: 'G', roles: [{rolename: 'r'}], clients: [{username: 'b', priority: 1}]}],
      anonymousGroup: 'g',
      roles: [{rolename: 'r', acls: [{acltype: 'publishClientSend', topic: 'z', priority: 0, allow: true}, {acltype: 'publishClientSend', topic: 'a', priority: 0, allow: false},
        {acltype: 'subscribePattern', topic: 'p/#', priority: 4, allow: true}]}],
    })
    const once = serializeDynsec(parseDynsecFile(text).state)
    assert.equal(serializeDynsec(parseDynsecFile(once).state), once)
    const tree = JSON.parse(once)
    assert.deepEqual(tree.clients.map((c: {username: string}) => c.username), ['a', 'b'])
    assert.deepEqual(tree.roles[0].acls.map((a: {topic: string}) => a.topic), ['z', 'a', 'p/#'])
    assert.deepEqual(tree.groups[0].clients, [{username: 'b', priority: 1}])
    assert.equal(tree.anonymousGroup, 'g')
    assert.equal(tree.clients[1].disabled, true)
  })
})
