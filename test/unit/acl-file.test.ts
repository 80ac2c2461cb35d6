// Mosquitto's ACL file: parsing (with line numbers) and matching, rule type by rule type.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {AclFileError, parseAclFile} from '../../src/broker/auth/acl-file.js'

const ANON = undefined

describe('ACL parsing', () => {
  it('skips comments and blank lines, accepts CRLF, tabs and a BOM', () => {
    const acl = parseAclFile('\uFEFF# comment\r\n\r\n  # indented comment\ntopic\tread\ta/b\r\n')
    assert.equal(acl.canRead('c', ANON, 'a/b'), true)
  })

  it('takes the rest of the line as the filter, so filters may hold spaces', () => {
    const acl = parseAclFile('topic read room 1/temp\n')
    assert.equal(acl.canRead('c', ANON, 'room 1/temp'), true)
  })

  const bad: Array<[string, string, number, RegExp]> = [
    ['an unknown keyword', '# ok\ntopics read a\n', 2, /line 2: unknown keyword "topics"/],
    ['an unknown access', 'user bob\ntopic readonly a/b\n', 2, /line 2: unknown access "readonly"/],
    ['a topic line without a filter', '\n\ntopic\n', 3, /line 3: missing topic filter after "topic"/],
    ['a pattern line without a filter', 'pattern   \n', 1, /line 1: missing topic filter after "pattern"/],
    ['a user line without a name', 'topic a\nuser\n', 2, /line 2: missing user name/],
    ['"#" not last', 'topic read a/#/b\n', 1, /line 1: invalid topic filter "a\/#\/b"/],
    ['"+" inside a level', 'pattern write a/%c+\n', 1, /line 1: invalid topic filter/],
  ]
  for (const [name, text, line, message] of bad) {
    it(`reports ${name} with its line number`, () => {
      assert.throws(() => parseAclFile(text), (error: unknown) => {
        assert.ok(error instanceof AclFileError)
        assert.equal(error.line, line)
        assert.match(error.message, message)
        return true
      })
    })
  }

  it('names the source file in messages', () => {
    assert.throws(() => parseAclFile('oops\n', {source: 'acl.conf'}), /^AclFileError: acl.conf:1: unknown keyword/)
  })
})

describe('topic rules', () => {
  const acl = parseAclFile(`
# anonymous clients
topic read public/#
topic write inbox/anon

user alice
topic read sensors/+/temp
topic write actuators/#
topic readwrite chat/#
topic chat2/#
topic deny chat/secret/#

user bob
topic read public/#

user alice
topic read more/alice
`)

  it('gives lines before any user block to anonymous clients only', () => {
    assert.equal(acl.canRead('c', ANON, 'public/news'), true)
    assert.equal(acl.canWrite('c', ANON, 'public/news'), false)
    assert.equal(acl.canWrite('c', ANON, 'inbox/anon'), true)
    assert.equal(acl.canRead('c', ANON, 'inbox/anon'), false)
    assert.equal(acl.canRead('c', 'alice', 'public/news'), false, 'named users do not get the anonymous rules')
  })

  it('applies read, write, readwrite and the readwrite default', () => {
    assert.equal(acl.canRead('c', 'alice', 'sensors/k/temp'), true)
    assert.equal(acl.canWrite('c', 'alice', 'sensors/k/temp'), false)
    assert.equal(acl.canRead('c', 'alice', 'sensors/k/humidity'), false)
    assert.equal(acl.canWrite('c', 'alice', 'actuators/x/y'), true)
    assert.equal(acl.canRead('c', 'alice', 'actuators/x/y'), false)
    assert.equal(acl.canRead('c', 'alice', 'chat/room'), true)
    assert.equal(acl.canWrite('c', 'alice', 'chat/room'), true)
    assert.equal(acl.canRead('c', 'alice', 'chat2/x'), true)
    assert.equal(acl.canWrite('c', 'alice', 'chat2/x'), true)
  })

  it('checks deny before any grant, wherever it sits in the block', () => {
    assert.equal(acl.canRead('c', 'alice', 'chat/secret'), false, "'#' includes the parent level")
    assert.equal(acl.canWrite('c', 'alice', 'chat/secret/x'), false)
    assert.equal(acl.canRead('c', 'alice', 'chat/open'), true)
  })

  it('keeps users apart and merges a repeated user block', () => {
    assert.equal(acl.canRead('c', 'bob', 'public/news'), true)
    assert.equal(acl.canRead('c', 'bob', 'chat/room'), false)
    assert.equal(acl.canRead('c', 'alice', 'more/alice'), true)
  })

  it('denies users without a block, and everyone when nothing matches', () => {
    assert.equal(acl.canRead('c', 'mallory', 'public/news'), false)
    assert.equal(acl.canWrite('c', 'alice', 'elsewhere'), false)
    assert.equal(parseAclFile('').canRead('c', ANON, 'a'), false)
  })

  it('treats an empty user name as a user, not as anonymous', () => {
    assert.equal(acl.canRead('c', '', 'public/news'), false)
  })

  it('never lets a wildcard-led rule match $ topics', () => {
    const all = parseAclFile('topic read #\ntopic read +/broker/x\ntopic read $SYS/broker/load/#\n')
    assert.equal(all.canRead('c', ANON, 'anything/at/all'), true)
    assert.equal(all.canRead('c', ANON, '$SYS/broker/x'), false)
    assert.equal(all.canRead('c', ANON, '$SYS/broker/load/1min'), true)
  })
})

describe('pattern rules', () => {
  const acl = parseAclFile(`
pattern readwrite devices/%c/#
pattern read users/%u/inbox
pattern write dev-%c/%u/log
pattern deny devices/%c/private/#
topic read lobby
`)

  it('substitutes %c (client id) and %u (user name)', () => {
    assert.equal(acl.canWrite('d1', 'alice', 'devices/d1/state'), true)
    assert.equal(acl.canWrite('d1', 'alice', 'devices/d2/state'), false)
    assert.equal(acl.canRead('d1', 'alice', 'users/alice/inbox'), true)
    assert.equal(acl.canRead('d1', 'alice', 'users/bob/inbox'), false)
    assert.equal(acl.canWrite('d1', 'alice', 'dev-d1/alice/log'), true, 'Mosquitto substitutes inside a level too')
  })

  it('applies %c patterns to anonymous clients but never %u ones', () => {
    assert.equal(acl.canWrite('d1', ANON, 'devices/d1/state'), true)
    assert.equal(acl.canRead('d1', ANON, 'users/%u/inbox'), false)
    assert.equal(acl.canWrite('d1', ANON, 'dev-d1/%u/log'), false)
    assert.equal(acl.canRead('d1', ANON, 'lobby'), true)
  })

  it('checks deny patterns before granting ones', () => {
    assert.equal(acl.canRead('d1', 'alice', 'devices/d1/private'), false)
    assert.equal(acl.canWrite('d1', 'alice', 'devices/d1/private/key'), false)
  })

  it('ignores patterns for a client id or user name holding a wildcard', () => {
    assert.equal(acl.canWrite('d+', 'alice', 'devices/d+/x'), false)
    assert.equal(acl.canRead('d1', 'al#', 'users/al#/inbox'), false)
    assert.equal(acl.canWrite('d1', 'al#', 'devices/d1/x'), false)
  })

  it('grants nothing through %c to a client id holding "/", but still denies through it', () => {
    assert.equal(acl.canWrite('d1/x', 'alice', 'devices/d1/x/y'), false)
    assert.equal(acl.canRead('d1/x', 'alice', 'users/alice/inbox'), true, 'a %u pattern still applies')
    const denying = parseAclFile('pattern deny a/%c/#\npattern read a/#\n')
    assert.equal(denying.canRead('p/q', ANON, 'a/p/q/z'), false)
    assert.equal(denying.canRead('p/q', ANON, 'a/other'), true)
  })

  it('lets a rule of the user\'s own block win over a deny pattern, as Mosquitto does', () => {
    const mixed = parseAclFile('pattern deny secret/#\nuser alice\ntopic read secret/alice\n')
    assert.equal(mixed.canRead('c', 'alice', 'secret/alice'), true)
    assert.equal(mixed.canRead('c', 'bob', 'secret/alice'), false)
  })

  it('lets a deny in the user\'s own block close what a pattern would open', () => {
    const mixed = parseAclFile('pattern read home/%u/#\nuser alice\ntopic deny home/alice/vault\n')
    assert.equal(mixed.canRead('c', 'alice', 'home/alice/vault'), false)
    assert.equal(mixed.canRead('c', 'alice', 'home/alice/door'), true)
  })
})

describe('canEverRead (SUBACK 0x87 for a filter that can never deliver)', () => {
  const acl = parseAclFile(`
user alice
topic read a/#
topic deny a/secret/#
topic write w/#
topic read $SYS/broker/#
pattern read devices/%c/#
pattern read home/%u/+
`)
  const cases: Array<[string, boolean, string]> = [
    ['a/b', true, 'an exact topic inside a grant'],
    ['a/#', true, 'the grant itself'],
    ['#', true, 'a wider filter overlapping a grant'],
    ['+/x', true, 'overlaps a/x'],
    ['b/#', false, 'no grant overlaps'],
    ['a/secret/#', false, 'wholly covered by a deny'],
    ['a/secret/+/z', false, 'inside a deny'],
    ['a/secret', false, "the deny's '#' covers its parent level"],
    ['a/+', true, 'a/secret is denied but a/other is not'],
    ['w/#', false, 'write-only'],
    ['$SYS/#', true, '$SYS/broker/# is granted'],
    ['$SYS/other/#', false, 'outside the $SYS grant'],
    ['devices/c1/state', true, '%c substituted'],
    ['devices/c2/state', false, "another client's space"],
    ['devices/+/state', true, 'includes devices/c1/state'],
    ['home/alice/x', true, '%u substituted'],
    ['home/alice/x/y', false, "'+' is one level"],
    ['$share/g/a/b', true, 'a shared subscription is judged by its filter'],
  ]
  for (const [filter, expected, why] of cases) {
    it(`${filter}: ${expected} (${why})`, () => assert.equal(acl.canEverRead('c1', 'alice', filter), expected))
  }

  it('does not let a wildcard-led grant reach $ topics', () => {
    const all = parseAclFile('topic read #\n')
    assert.equal(all.canEverRead('c', ANON, '$SYS/#'), false)
    assert.equal(all.canEverRead('c', ANON, '+/x'), true)
    assert.equal(parseAclFile('topic read $SYS/#\n').canEverRead('c', ANON, '#'), false)
  })

  it('knows a %u pattern never serves an anonymous client', () => {
    assert.equal(acl.canEverRead('c1', ANON, 'home/+/x'), false)
  })

  it('errs towards true when only several denies together close a filter', () => {
    const split = parseAclFile('topic read a/#\ntopic deny a/+/x\ntopic deny a/+/y\n')
    assert.equal(split.canEverRead('c', ANON, 'a/b/x'), false)
    assert.equal(split.canEverRead('c', ANON, 'a/b/+'), true)
  })

  it('grants every filter to a client no rule applies to (it then receives nothing), as Mosquitto does', () => {
    const only = parseAclFile('user alice\ntopic read a/#\n')
    assert.equal(only.canEverRead('c', 'bob', 'x/#'), true) // bob: no block, no pattern
    assert.equal(only.canRead('c', 'bob', 'x/1'), false)
    assert.equal(only.canEverRead('c', 'alice', 'x/#'), false) // alice has rules: a filter she can never read is refused
    const withPattern = parseAclFile('user alice\ntopic read a/#\npattern read u/%u/#\n')
    assert.equal(withPattern.canEverRead('c', ANON, 'x/#'), true) // a %u pattern never applies to an anonymous client
    assert.equal(withPattern.canEverRead('c', 'bob', 'x/#'), false) // but it does to bob
  })

  it('applies a deny pattern to grants from patterns but not to the user\'s own block', () => {
    const mixed = parseAclFile('pattern deny x/#\npattern read x/%c/#\nuser bob\ntopic read x/bob\n')
    assert.equal(mixed.canEverRead('c', 'alice', 'x/c/#'), false)
    assert.equal(mixed.canEverRead('c', 'bob', 'x/+'), true)
  })
})
