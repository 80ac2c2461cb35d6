// Dynamic Security's ACL evaluation and topic matching: Mosquitto's sub_acl_check table, the '$' rule,
// Mosquitto 2.1's %c/%u patterns, and the order roles, groups and default access are consulted in.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {checkAccess, emptyState, parseDynsecFile} from '../../src/broker/dynsec/index.js'
import {subscriptionMatches, topicMatches} from '../../src/broker/dynsec/acl.js'

const who = {clientId: 'kitchen', username: 'alice'}

describe('subscribePattern matching (sub_acl_check)', () => {
  // the cases of Mosquitto's plugins/dynamic-security/sub_matches_sub.c
  const table: Array<[string, string, boolean]> = [
    ['foo/+/bar', 'foo/#', false], ['foo/+/ba℞/#', 'foo/baz/ba℞', true], ['foo/+/ba℞/#', 'foo/baz/ba℞/+', true],
    ['foo/+/ba℞/#', 'foo/baz/ba℞/#', true], ['foo/+/ba℞/#', 'foo/baz/+/#', false], ['/+//#', '/foo///#', true],
    ['#', '#', true], ['#', '+', true], ['/#', '+', false], ['/#', '/+', true], ['/+', '#', false], ['/+', '+', false],
    ['+/+', 'topic/topic', true], ['+/+', 'topic/topic/', false], ['+', '#', false], ['+', '+', true],
    ['a/b/c/d/e', 'a/b/c/d/e', true], ['a/b/ /d/e', 'a/b/c/d/e', false],
  ]
  for (const [acl, sub, expected] of table) it(`${acl} covers ${sub}: ${expected}`, () => assert.equal(subscriptionMatches(acl, sub, who), expected))
})

describe('publish ACL matching', () => {
  const table: Array<[string, string, boolean]> = [
    ['t/#', 't', true], ['t/#', 't/a/b', true], ['t/+', 't/a/b', false], ['#', '$SYS/x', false], ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true], ['room/%c/temp', 'room/kitchen/temp', true], ['room/%c/temp', 'room/hall/temp', false],
    ['u/%u/#', 'u/alice/x', true], ['u/%u/#', 'u/bob/x', false], ['room/%count', 'room/%count', true], ['room/%count', 'room/kitchen', false],
  ]
  for (const [acl, topic, expected] of table) it(`${acl} matches ${topic}: ${expected}`, () => assert.equal(topicMatches(acl, topic, who), expected))

  it('%u never matches a client without a user name, %c never one whose id has a wildcard or a slash', () => {
    assert.equal(topicMatches('u/%u', 'u/', {clientId: 'x'}), false)
    assert.equal(subscriptionMatches('room/%c/#', 'room/+/#', {clientId: '+'}), false)
    assert.equal(topicMatches('room/%c', 'room/a/b', {clientId: 'a/b'}), false)
  })
})

describe('the index-based matcher against a plain reference', () => {
  /** The obvious version: split both, compare level by level. */
  function reference(acl: string, topic: string, w: {clientId: string; username?: string}): boolean {
    if ((acl[0] === '$') !== (topic[0] === '$')) return false
    const f = acl.split('/')
    const t = topic.split('/')
    for (let i = 0; i < f.length; i++) {
      if (f[i] === '#') return i === f.length - 1
      if (i >= t.length) return false
      if (f[i] === '+') continue
      const v = f[i] === '%c' ? w.clientId : f[i] === '%u' ? w.username : f[i]
      if (v === undefined || ((f[i] === '%c' || f[i] === '%u') && (v === '' || /[/+#]/.test(v))) || v !== t[i]) return false
    }
    return f.length === t.length
  }
  it('agrees on 20,000 random filters and topics', () => {
    const parts = ['a', 'b', '', '+', '#', '%c', '%u', '$SYS', 'kitchen', 'alice', 'ab']
    let seed = 42
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n }
    const plain = parts.filter((p) => !['+', '#', '%c', '%u'].includes(p))
    const make = (wild: boolean) => Array.from({length: 1 + rnd(4)}, () => wild ? parts[rnd(parts.length)] : plain[rnd(plain.length)]).join('/')
    for (let i = 0; i < 20_000; i++) {
      const acl = make(true)
      const topic = make(false)
      const w = rnd(2) ? who : {clientId: 'a'}
      assert.equal(topicMatches(acl, topic, w), reference(acl, topic, w), `${acl} vs ${topic}`)
    }
  })
})

describe('checkAccess: the order of roles, groups and the default', () => {
  const {state} = parseDynsecFile(JSON.stringify({
    defaultACLAccess: {publishClientSend: true, subscribe: false},
    roles: [
      {rolename: 'deny-x', acls: [{acltype: 'publishClientSend', topic: 'x/#', allow: false}]},
      {rolename: 'allow-x', acls: [{acltype: 'publishClientSend', topic: 'x/#', allow: true}, {acltype: 'subscribeLiteral', topic: 'x/+', allow: true}]},
    ],
    clients: [{username: 'alice', roles: [{rolename: 'allow-x', priority: 1}, {rolename: 'deny-x', priority: 2}]}, {username: 'bob', roles: []}],
    groups: [{groupname: 'g', roles: [{rolename: 'allow-x'}], clients: [{username: 'bob'}]}, {groupname: 'anon', roles: [{rolename: 'deny-x'}]}],
    anonymousGroup: 'anon',
  }))
  const cases: Array<[string, {clientId: string; username?: string}, 'publishClientSend' | 'subscribe', string, string]> = [
    ['the higher-priority role decides', {clientId: 'a', username: 'alice'}, 'publishClientSend', 'x/1', 'deny'],
    ['a group\'s role applies', {clientId: 'b', username: 'bob'}, 'publishClientSend', 'x/1', 'allow'],
    ['the anonymous group applies to clients without a user name', {clientId: 'c'}, 'publishClientSend', 'x/1', 'deny'],
    ['no match: the default access', {clientId: 'b', username: 'bob'}, 'publishClientSend', 'y', 'allow'],
    ['the default never opens $CONTROL', {clientId: 'b', username: 'bob'}, 'publishClientSend', '$CONTROL/dynamic-security/v1', 'defer'],
    ['a default of false defers', {clientId: 'b', username: 'bob'}, 'subscribe', 'y', 'defer'],
    ['a literal subscription ACL matches the filter as written', {clientId: 'b', username: 'bob'}, 'subscribe', 'x/+', 'allow'],
    ['an unknown user is not ours to judge', {clientId: 'm', username: 'mallory'}, 'publishClientSend', 'x/1', 'defer'],
  ]
  for (const [name, client, access, topic, expected] of cases) it(name, () => assert.equal(checkAccess(state, access, client, topic), expected))

  it('an empty configuration defers everything', () => {
    assert.equal(checkAccess(emptyState(), 'publishClientReceive', {clientId: 'a'}, 't'), 'defer')
  })
})
