// The ACL's allocation-free matcher agrees with topic.ts's matches() on every case of a table, and the
// per-client cache of substituted patterns never lends one client's rules to another.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseAclFile} from '../../src/broker/auth/acl-file.js'
import {matches} from '../../src/codec/topic.js'

const FILTERS = ['#', '+', 'a', 'a/b', 'a/+', 'a/#', '+/b', '+/+', '/+', '+/#', 'a/+/c', 'a/b/#', '/#', 'a//b', 'a/', '$SYS/#', '$SYS/+', '+/x/#', 'sport/tennis/+']
const TOPICS = ['a', 'a/b', 'a/b/c', 'a/', '/a', '/', '//', 'a//b', 'b', 'b/b', 'ab', 'a/bc', 'a/b/', '$SYS', '$SYS/x', '$SYS/x/y', 'x/x/x', 'sport/tennis/player1', 'sport/tennis', 'aa/b']

describe('ACL topic matching', () => {
  it('agrees with matches() for every filter and topic of the table', () => {
    for (const filter of FILTERS) {
      const acl = parseAclFile(`topic read ${filter}\n`)
      for (const topic of TOPICS) {
        assert.equal(acl.canRead('c', undefined, topic), matches(filter, topic), `${filter} vs ${topic}`)
      }
    }
  })

  it('keeps substituted patterns per client id and user name', () => {
    const acl = parseAclFile('pattern read c/%c/#\npattern read u/%u/#\n')
    assert.equal(acl.canRead('one', 'alice', 'c/one/x'), true)
    assert.equal(acl.canRead('two', 'alice', 'c/one/x'), false)
    assert.equal(acl.canRead('one', 'bob', 'u/alice/x'), false)
    assert.equal(acl.canRead('one', undefined, 'u/alice/x'), false)
    assert.equal(acl.canRead('one', 'alice', 'u/alice/x'), true)
    // user name "" is a user name, not anonymous
    assert.equal(acl.canRead('one', '', 'u//x'), true)
    assert.equal(acl.canRead('one', undefined, 'u//x'), false)
  })

  it('stays right when more clients than the cache holds come and go', () => {
    const acl = parseAclFile('pattern readwrite devices/%c/#\n')
    for (let i = 0; i < 10_000; i++) {
      assert.equal(acl.canWrite(`d${i}`, undefined, `devices/d${i}/state`), true)
      assert.equal(acl.canWrite(`d${i}`, undefined, `devices/d${i + 1}/state`), false)
    }
  })
})
