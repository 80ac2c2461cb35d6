// The $CONTROL/dynamic-security/v1 handler on its own: the plugin's answers to malformed and hostile
// requests, command by command, and no partial change when a command is refused.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {emptyState, handleControl, newPassword, type DynsecState} from '../../src/broker/dynsec/index.js'

function run(state: DynsecState, payload: unknown) {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload)
  const outcome = handleControl({state, hashPassword: newPassword, log: () => {}}, Buffer.from(text))
  return {...outcome, responses: JSON.parse(outcome.response).responses as Array<Record<string, unknown>>}
}
const commands = (...list: unknown[]) => ({commands: list})

describe('dynsec control: malformed requests', () => {
  const cases: Array<[string, unknown, Record<string, unknown>]> = [
    ['not JSON', '{"commands": [', {command: 'Unknown command', error: 'Payload not valid JSON'}],
    ['empty payload', '', {command: 'Unknown command', error: 'Payload not valid JSON'}],
    ['deeply nested', '['.repeat(200_000), {command: 'Unknown command', error: 'Payload not valid JSON'}],
    ['no commands', {}, {command: 'Unknown command', error: 'Invalid/missing commands'}],
    ['commands not an array', {commands: {command: 'listClients'}}, {command: 'Unknown command', error: 'Invalid/missing commands'}],
    ['a JSON string', '"commands"', {command: 'Unknown command', error: 'Invalid/missing commands'}],
    ['a command that is not an object', commands(42), {command: 'Unknown command', error: 'Command not an object'}],
    ['no command name', commands({username: 'x'}), {command: 'Unknown command', error: 'Missing command'}],
    ['a command name that is not a string', commands({command: 7}), {command: 'Unknown command', error: 'Missing command'}],
    ['an unknown command', commands({command: 'rm -rf', correlationData: 'c1'}), {command: 'rm -rf', error: 'Unknown command', correlationData: 'c1'}],
  ]
  for (const [name, payload, expected] of cases) {
    it(name, () => {
      const r = run(emptyState(), payload)
      assert.deepEqual(r.responses, [expected])
      assert.equal(r.changed, false)
    })
  }

  it('a correlationData that is not a string stops the request there, as in the plugin', () => {
    const state = emptyState()
    const r = run(state, commands({command: 'createRole', rolename: 'a'}, {command: 'createRole', rolename: 'b', correlationData: 5}, {command: 'createRole', rolename: 'c'}))
    assert.deepEqual(r.responses, [{command: 'createRole'}, {command: 'createRole', error: 'Invalid correlationData data type.'}])
    assert.deepEqual([...state.roles.keys()], ['a'])
  })

  it('command names and keys match without regard to case; answers use the canonical name', () => {
    const state = emptyState()
    const r = run(state, commands({COMMAND: 'CREATEROLE', RoleName: 'r'}))
    assert.deepEqual(r.responses, [{command: 'createRole'}])
    assert.ok(state.roles.has('r'))
  })
})

describe('dynsec control: hostile fields', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a user name that is a number', {command: 'createClient', username: 1}, 'Invalid/missing username'],
    ['a control character', {command: 'createClient', username: 'a\u0001b'}, 'Username not valid UTF-8'],
    ['a lone surrogate', {command: 'createClient', username: 'a\ud800'}, 'Username not valid UTF-8'],
    ['a non-character', {command: 'createClient', username: 'a\ufffe'}, 'Username not valid UTF-8'],
    ['a 100 kB user name', {command: 'createClient', username: 'x'.repeat(100_000)}, 'Username not valid UTF-8'],
    ['a password that is an object', {command: 'createClient', username: 'u', password: {}}, 'Invalid/missing password'],
    ['roles that are not an array', {command: 'createClient', username: 'u', roles: 'admin'}, '\'roles\' not an array or missing/invalid rolename'],
    ['an unknown role', {command: 'createClient', username: 'u', roles: [{rolename: 'nope'}]}, 'Role not found'],
    ['an unknown group', {command: 'createClient', username: 'u', groups: [{groupname: 'nope'}]}, 'Group not found'],
    ['an ACL topic with # inside', {command: 'addRoleACL', rolename: 'r', acltype: 'publishClientSend', topic: 'a/#/b'}, 'Invalid ACL topic'],
    ['an unknown ACL type', {command: 'addRoleACL', rolename: 'r', acltype: 'publishEverything', topic: 'a'}, 'Unknown acltype'],
    ['an empty password', {command: 'setClientPassword', username: 'admin', password: ''}, 'Empty password is not allowed'],
  ]
  for (const [name, command, error] of cases) {
    it(`${name}: "${error}" and nothing changes`, () => {
      const state = emptyState()
      state.roles.set('r', {rolename: 'r', acls: {publishClientSend: [], publishClientReceive: [], subscribeLiteral: [], subscribePattern: [], unsubscribeLiteral: [], unsubscribePattern: []}})
      state.clients.set('admin', {username: 'admin', disabled: false, roles: [], groups: [], password: newPassword('pw')})
      const before = JSON.stringify([...state.clients.entries(), ...state.roles.entries()])
      const r = run(state, commands(command))
      assert.equal(r.responses[0].error, error)
      assert.equal(r.changed, false)
      assert.equal(JSON.stringify([...state.clients.entries(), ...state.roles.entries()]), before)
    })
  }

  it('names are only names: clients called "missing" and "invalid" are clients like any other', () => {
    const state = emptyState()
    const r = run(state, commands({command: 'createClient', username: 'missing'}, {command: 'createClient', username: 'invalid'}, {command: 'getClient', username: 'missing'}))
    assert.deepEqual(r.responses.map((x) => x.error), [undefined, undefined, undefined])
    assert.deepEqual([...state.clients.keys()].sort(), ['invalid', 'missing'])
  })

  it('a refused modifyClient leaves every field as it was', () => {
    const state = emptyState()
    run(state, commands({command: 'createClient', username: 'u', textname: 'before'}))
    const r = run(state, commands({command: 'modifyClient', username: 'u', textname: 'after', clientid: 'x', roles: [{rolename: 'nope'}]}))
    assert.equal(r.responses[0].error, 'Role not found')
    assert.equal(state.clients.get('u')!.textname, 'before')
    assert.equal(state.clients.get('u')!.clientid, undefined)
  })

  it('ten thousand commands in one request are all answered, in order', () => {
    const state = emptyState()
    const list = Array.from({length: 10_000}, (_, i) => ({command: 'createGroup', groupname: `g${i}`, correlationData: String(i)}))
    const r = run(state, commands(...list))
    assert.equal(r.responses.length, 10_000)
    assert.deepEqual(r.responses[9_999], {command: 'createGroup', correlationData: '9999'})
    assert.equal(state.groups.size, 10_000)
    const page = run(state, commands({command: 'listGroups', count: 2, offset: 5}))
    assert.deepEqual(page.responses[0].data, {totalCount: 10_000, groups: ['g1001', 'g1002']}) // byte order: g0, g1, g10, g100, g1000, g1001...
  })

  it('changes ask for the clients they concern to be disconnected', () => {
    const state = emptyState()
    run(state, commands({command: 'createClient', username: 'u'}, {command: 'createGroup', groupname: 'g'}, {command: 'addGroupClient', groupname: 'g', username: 'u'}))
    assert.deepEqual([...run(state, commands({command: 'disableClient', username: 'u'})).kicks], ['u'])
    assert.deepEqual([...run(state, commands({command: 'setAnonymousGroup', groupname: 'g'})).kicks], [null])
    assert.deepEqual([...run(state, commands({command: 'createRole', rolename: 'r'}, {command: 'addGroupRole', groupname: 'g', rolename: 'r'})).kicks].sort(), [null, 'u'].sort())
    assert.deepEqual([...run(state, commands({command: 'getClient', username: 'u'})).kicks], [])
  })
})
