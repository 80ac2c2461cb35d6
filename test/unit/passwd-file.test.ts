// The password-file format (parse, edit, serialize) and the atomic write.
import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {writeFileAtomic} from '../../src/fs/atomic-write.js'
import {PasswordFile, PasswordFileError, PasswordInputError, hashPassword, loadPasswordFile, savePasswordFile} from '../../src/passwd/index.js'

const cheap = {memory: 64, iterations: 1, parallelism: 1}
const SEVEN = '$7$101$SD4cFl0FZ60/uI1/$z6CilNVX6ITjYrEyf8K8ulWipjsk0nByEeRLDsi7Hw0nott8a7IM+aHnsTT34ZgE9+GUyoWcjQgkRM7h2uZOow==' // "secret"

function parseError(text: string, options = {}): PasswordFileError {
  try {
    PasswordFile.parse(text, options)
  } catch (error) {
    assert.ok(error instanceof PasswordFileError, String(error))
    return error
  }
  assert.fail('expected a PasswordFileError')
}

describe('PasswordFile.parse', () => {
  it('keeps comments, blank lines and order, and serializes untouched lines byte for byte', () => {
    const text = `# users\n\nalice:${SEVEN}\n  # indented comment\nbob:${SEVEN}\n`
    const file = PasswordFile.parse(text)
    assert.deepEqual(file.users(), ['alice', 'bob'])
    assert.equal(file.size, 2)
    assert.equal(file.serialize(), text)
  })

  it('accepts CRLF line endings, a BOM, blanks around fields and a missing final newline', async () => {
    const file = PasswordFile.parse(`\uFEFFalice:${SEVEN}\r\n bob : ${SEVEN} `)
    assert.deepEqual(file.users(), ['alice', 'bob'])
    assert.equal(await file.verify('bob', 'secret'), true)
  })

  const cases: Array<[string, string, number, RegExp]> = [
    ['a line without a colon', `alice:${SEVEN}\nbob\n`, 2, /line 2: malformed line/],
    ['an empty user name', `:${SEVEN}\n`, 1, /line 1: user name is empty/],
    ['a control character in a user name', `# c\na\u0001b:${SEVEN}\n`, 2, /line 2: .*control character/],
    ['a duplicate user', `alice:${SEVEN}\n\nalice:${SEVEN}\n`, 3, /line 3: duplicate user "alice" \(first on line 1\)/],
    ['a plaintext password', `alice:${SEVEN}\nbob:hunter2\n`, 2, /line 2: user "bob": unrecognised hash.*-U/],
    ['no hash at all', 'alice:\n', 1, /line 1: user "alice": no password hash/],
    ['a truncated $7$ hash', `alice:${SEVEN.slice(0, 40)}\n`, 1, /line 1: user "alice": bad \$7\$ hash/],
    ['a $7$ salt of the wrong size', 'alice:$7$101$c2FsdA==$' + 'A'.repeat(86) + '==\n', 1, /line 1: user "alice": bad \$7\$ salt/],
  ]
  for (const [name, text, line, message] of cases) {
    it(`reports ${name} with its line number`, () => {
      const error = parseError(text)
      assert.equal(error.line, line)
      assert.match(error.message, message)
      assert.doesNotMatch(error.message, /\n/)
    })
  }

  it('names the source file in messages', () => {
    assert.match(parseError('nonsense\n', {source: '/etc/midge/pw'}).message, /^\/etc\/midge\/pw:1: /)
  })

  it('reads plaintext lines only when asked (for -U), and validates them', () => {
    const file = PasswordFile.parse(`alice:${SEVEN}\nbob:pass:with:colons\n`, {allowPlaintext: true})
    assert.deepEqual(file.plaintextUsers(), ['bob'])
    assert.equal(file.get('bob'), undefined)
    assert.match(parseError('bob:\n', {allowPlaintext: true}).message, /line 1: user "bob": password is empty/)
    // a value that claims to be a hash must be one, even in plaintext mode
    assert.match(parseError('bob:$7$oops\n', {allowPlaintext: true}).message, /line 1: user "bob": malformed \$7\$/)
  })
})

describe('PasswordFile editing', () => {
  it('adds at the end, updates in place, deletes, and verifies', async () => {
    const file = PasswordFile.parse(`# head\nalice:${SEVEN}\nbob:${SEVEN}\n`)
    assert.equal(await file.setPassword('carol', 'c-pw', cheap), 'added')
    assert.equal(await file.setPassword('alice', 'new', cheap), 'updated')
    assert.deepEqual(file.users(), ['alice', 'bob', 'carol'])
    assert.equal(await file.verify('alice', 'new'), true)
    assert.equal(await file.verify('alice', 'secret'), false)
    assert.equal(file.delete('bob'), true)
    assert.equal(file.delete('bob'), false)
    const lines = file.serialize().split('\n')
    assert.equal(lines[0], '# head')
    assert.match(lines[1], /^alice:\$argon2id\$/)
    assert.match(lines[2], /^carol:\$argon2id\$/)
  })

  it('refuses unusable user names and passwords', async () => {
    const file = PasswordFile.empty()
    const hash = await hashPassword('pw', cheap)
    assert.throws(() => file.set('a:b', hash), PasswordInputError)
    assert.throws(() => file.set('a\nb', hash), PasswordInputError)
    assert.throws(() => file.set('', hash), PasswordInputError)
    assert.throws(() => file.set('x'.repeat(65_536), hash), PasswordInputError)
    await assert.rejects(file.setPassword('alice', ''), PasswordInputError)
    assert.equal(file.size, 0)
  })

  it('answers false for an unknown user after doing the work of a known one', async () => {
    const file = PasswordFile.empty()
    assert.equal(await file.verify('nobody', 'pw'), false)
    await file.setPassword('alice', 'pw', cheap)
    assert.equal(await file.verify('nobody', 'pw'), false)
  })

  it('hashes plaintext lines and leaves hashed ones alone', async () => {
    const file = PasswordFile.parse(`alice:${SEVEN}\nbob:hunter2\n# note\ncarol:x y\n`, {allowPlaintext: true})
    assert.equal(await file.hashPlaintext({algorithm: 'pbkdf2', iterations: 10}), 2)
    assert.equal(await file.hashPlaintext(), 0)
    const text = file.serialize()
    assert.ok(text.startsWith(`alice:${SEVEN}\nbob:$7$10$`))
    assert.match(text, /\n# note\ncarol:\$7\$10\$/)
    const again = PasswordFile.parse(text)
    assert.equal(await again.verify('bob', 'hunter2'), true)
    assert.equal(await again.verify('carol', 'x y'), true)
  })
})

describe('files on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'midge-pwfile-'))
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('creates new files with mode 0600 whatever the umask', async () => {
    const path = join(dir, 'new.pw')
    const old = process.umask(0)
    try {
      await savePasswordFile(path, PasswordFile.parse(`alice:${SEVEN}\n`))
    } finally {
      process.umask(old)
    }
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.deepEqual((await loadPasswordFile(path)).users(), ['alice'])
  })

  it('keeps an existing file\'s mode', async () => {
    const path = join(dir, 'shared.pw')
    writeFileSync(path, `alice:${SEVEN}\n`)
    chmodSync(path, 0o640)
    const file = await loadPasswordFile(path)
    await file.setPassword('bob', 'pw', cheap)
    await savePasswordFile(path, file)
    assert.equal(statSync(path).mode & 0o777, 0o640)
    assert.deepEqual((await loadPasswordFile(path)).users(), ['alice', 'bob'])
  })

  it('replaces a symlink\'s target, not the link', async () => {
    const target = join(dir, 'target.pw')
    const link = join(dir, 'link.pw')
    writeFileSync(target, `alice:${SEVEN}\n`)
    symlinkSync(target, link)
    await writeFileAtomic(link, `bob:${SEVEN}\n`)
    assert.ok(statSync(link).isFile())
    assert.equal(readFileSync(target, 'utf8'), `bob:${SEVEN}\n`)
  })

  it('leaves the old file and no temp file behind when the write fails', async () => {
    const path = join(dir, 'keep.pw')
    writeFileSync(path, `alice:${SEVEN}\n`)
    const before = readdirSync(dir).sort()
    await assert.rejects(writeFileAtomic(path, 42 as unknown as string))
    assert.equal(readFileSync(path, 'utf8'), `alice:${SEVEN}\n`)
    assert.deepEqual(readdirSync(dir).sort(), before)
  })

  it('reports missing files with their errno code and malformed ones with path and line', async () => {
    await assert.rejects(loadPasswordFile(join(dir, 'missing.pw')), {code: 'ENOENT'})
    const path = join(dir, 'bad.pw')
    writeFileSync(path, `alice:${SEVEN}\n\nbroken\n`)
    await assert.rejects(loadPasswordFile(path), {name: 'PasswordFileError', line: 3, message: `${path}:3: malformed line (expected user:hash)`})
  })
})
