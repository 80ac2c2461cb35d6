// `midge passwd`: every mode, every error (exit code and one stderr line), file modes and atomic
// replacement. Most cases run the command in this process (cli-in-process.ts); those marked "(binary)"
// run the built binary, as users do: creating and verifying, stdin, an error's exit code, --help.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {BIN, ROOT, collect, runMidge, type RunResult} from '../helpers/cli.js'
import {runMidgeInProcess} from '../helpers/cli-in-process.js'

const SEVEN = '$7$101$SD4cFl0FZ60/uI1/$z6CilNVX6ITjYrEyf8K8ulWipjsk0nByEeRLDsi7Hw0nott8a7IM+aHnsTT34ZgE9+GUyoWcjQgkRM7h2uZOow==' // "secret"
const ExitCode = {Failure: 1, Usage: 2, InputFile: 10, PasswordMismatch: 16}

let dir: string
before(() => { dir = mkdtempSync(join(tmpdir(), 'midge-passwd-cmd-')) })
after(() => rmSync(dir, {recursive: true, force: true}))

let counter = 0
const fresh = (content?: string, mode?: number): string => {
  const path = join(dir, `f${++counter}.pw`)
  if (content !== undefined) writeFileSync(path, content)
  if (mode !== undefined) chmodSync(path, mode)
  return path
}
const passwd = (args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}) => runMidgeInProcess(['passwd', ...args], {cwd: dir, ...options})
const binary = (args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}) => runMidge(['passwd', ...args], {cwd: dir, ...options})
const verify = async (file: string, user: string, password: string) => (await passwd(['--verify', '-b', file, user, password])).code

function ok(result: RunResult): void {
  assert.equal(result.stderr, '', result.stderr)
  assert.equal(result.code, 0)
}

/** The command failed with `code` and exactly one line on stderr matching `message`. */
function failed(result: RunResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`)
  assert.match(result.stderr, /^midge passwd: [^\n]+\n$/, 'one line on stderr')
  assert.match(result.stderr, message)
}

describe('setting passwords', () => {
  it('-c -b creates a 0600 file with an argon2id line that verifies (binary)', async () => {
    const file = fresh()
    ok(await binary(['-c', '-b', file, 'alice', 's3cret']))
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.match(readFileSync(file, 'utf8'), /^alice:\$argon2id\$v=19\$m=19456,t=2,p=1\$[^\n]+\n$/)
    assert.equal((await binary(['--verify', '-b', file, 'alice', 's3cret'])).code, 0)
    failed(await binary(['--verify', '-b', file, 'alice', 'wrong']), ExitCode.PasswordMismatch, /password does not match for user "alice"/)
  })

  it('-c overwrites an existing file', async () => {
    const file = fresh(`old:${SEVEN}\n`)
    ok(await passwd(['-c', '-b', file, 'new', 'pw']))
    assert.match(readFileSync(file, 'utf8'), /^new:/)
    assert.doesNotMatch(readFileSync(file, 'utf8'), /old:/)
  })

  it('-b adds and updates in place, keeping the other lines and the file mode', async () => {
    const file = fresh(`# team\nalice:${SEVEN}\nbob:${SEVEN}\n`, 0o640)
    ok(await passwd(['-b', file, 'carol', 'c-pw']))
    ok(await passwd(['-b', file, 'alice', 'a-pw']))
    const lines = readFileSync(file, 'utf8').split('\n')
    assert.equal(lines[0], '# team')
    assert.match(lines[1], /^alice:\$argon2id\$/)
    assert.equal(lines[2], `bob:${SEVEN}`)
    assert.match(lines[3], /^carol:\$argon2id\$/)
    assert.equal(statSync(file).mode & 0o777, 0o640)
    assert.equal(await verify(file, 'alice', 'a-pw'), 0)
    assert.equal(await verify(file, 'bob', 'secret'), 0)
  })

  it('reads one line of stdin when stdin is not a terminal (binary)', async () => {
    const file = fresh()
    ok(await binary(['-c', file, 'alice'], {input: 'from stdin\nignored second line\n'}))
    assert.equal(await verify(file, 'alice', 'from stdin'), 0)
    ok(await binary([file, 'bob'], {input: 'crlf\r\n'}))
    assert.equal(await verify(file, 'bob', 'crlf'), 0)
  })

  it('takes MIDGE_PASSWORD, and --password-file over it', async () => {
    const file = fresh()
    ok(await passwd(['-c', file, 'alice'], {env: {MIDGE_PASSWORD: 'from env'}}))
    assert.equal(await verify(file, 'alice', 'from env'), 0)
    const secret = join(dir, 'secret.txt')
    writeFileSync(secret, 'from file\nsecond line\n')
    ok(await passwd(['--password-file', secret, file, 'bob'], {env: {MIDGE_PASSWORD: 'from env'}}))
    assert.equal(await verify(file, 'bob', 'from file'), 0)
  })

  it('--hash pbkdf2 (and -H sha512-pbkdf2) writes $7$ with a 12-byte salt; -I sets the iterations', async () => {
    const file = fresh()
    ok(await passwd(['-c', '--hash', 'pbkdf2', '-b', file, 'alice', 'pw']))
    ok(await passwd(['-H', 'sha512-pbkdf2', '-I', '1234', '-b', file, 'bob', 'pw']))
    const [alice, bob] = readFileSync(file, 'utf8').trim().split('\n')
    assert.match(alice, /^alice:\$7\$50000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/)
    assert.match(bob, /^bob:\$7\$1234\$[A-Za-z0-9+/]{16}\$/)
    assert.equal(await verify(file, 'bob', 'pw'), 0)
  })

  it('--memory, --iterations and --parallelism shape the argon2id line', async () => {
    const file = fresh()
    ok(await passwd(['-c', '--memory', '1024', '--iterations', '3', '--parallelism', '2', '-b', file, 'alice', 'pw']))
    assert.match(readFileSync(file, 'utf8'), /^alice:\$argon2id\$v=19\$m=1024,t=3,p=2\$/)
    assert.equal(await verify(file, 'alice', 'pw'), 0)
  })

  it('-c - writes the file to stdout and nothing to disk (binary)', async () => {
    const result = await binary(['-c', '-b', '-', 'alice', 'pw'])
    assert.equal(result.code, 0)
    assert.match(result.stdout, /^alice:\$argon2id\$[^\n]+\n$/)
    assert.equal(existsSync(join(dir, '-')), false)
  })
})

describe('-D, -U, --verify, --list', () => {
  it('-D deletes a user; an unknown user is an error and leaves the file alone', async () => {
    const file = fresh(`alice:${SEVEN}\nbob:${SEVEN}\n`)
    ok(await passwd(['-D', file, 'alice']))
    assert.equal(readFileSync(file, 'utf8'), `bob:${SEVEN}\n`)
    failed(await passwd(['-D', file, 'alice']), ExitCode.Failure, /user "alice" not found/)
    assert.equal(readFileSync(file, 'utf8'), `bob:${SEVEN}\n`)
  })

  it('-U hashes plaintext lines, leaves hashed ones alone, and is idempotent', async () => {
    const file = fresh(`alice:${SEVEN}\nbob:hunter2\n# keep\ncarol:with:colons\n`, 0o644)
    ok(await passwd(['-U', file]))
    const once = readFileSync(file, 'utf8')
    assert.ok(once.startsWith(`alice:${SEVEN}\nbob:$argon2id$`))
    assert.match(once, /\n# keep\ncarol:\$argon2id\$/)
    assert.equal(statSync(file).mode & 0o777, 0o644)
    ok(await passwd(['-U', file]))
    assert.equal(readFileSync(file, 'utf8'), once)
    assert.equal(await verify(file, 'bob', 'hunter2'), 0)
    assert.equal(await verify(file, 'carol', 'with:colons'), 0)
  })

  it('--verify exits 0 on a match and 16 otherwise, the same for an unknown user', async () => {
    const file = fresh(`alice:${SEVEN}\n`)
    ok(await passwd(['--verify', file, 'alice'], {input: 'secret\n'}))
    failed(await passwd(['--verify', file, 'alice'], {input: 'wrong\n'}), ExitCode.PasswordMismatch, /password does not match for user "alice"/)
    failed(await passwd(['--verify', file, 'nobody'], {input: 'wrong\n'}), ExitCode.PasswordMismatch, /password does not match for user "nobody"/)
  })

  it('--verify reads Mosquitto-written files', async () => {
    const file = fresh(readFileSync(new URL('../fixtures/passwd/mosquitto-2.0.pw', import.meta.url), 'utf8'))
    assert.equal(await verify(file, 'alice', 'secret'), 0)
    assert.equal(await verify(file, 'bob', 'hunter2'), 0)
    assert.equal(await verify(file, 'carol', 'p@ss:wörd'), 0)
  })

  it('--list prints the users one per line', async () => {
    const file = fresh(`# c\nalice:${SEVEN}\n\nbob:${SEVEN}\n`)
    const result = await passwd(['--list', file])
    ok(result)
    assert.equal(result.stdout, 'alice\nbob\n')
  })
})

describe('errors: one line, the documented code, the file untouched', () => {
  const original = `alice:${SEVEN}\n`
  const cases: Array<[string, string[], {input?: string}, number, RegExp]> = [
    ['a user name with ":"', ['-b', 'FILE', 'a:b', 'pw'], {}, ExitCode.Usage, /user name "a:b" contains ':'/],
    ['a user name with a control character', ['-b', 'FILE', 'a\u0007b', 'pw'], {}, ExitCode.Usage, /control character/],
    ['an empty password (-b)', ['-b', 'FILE', 'bob', ''], {}, ExitCode.Usage, /password is empty/],
    ['an empty password (stdin)', ['FILE', 'bob'], {input: ''}, ExitCode.Usage, /password is empty/],
    ['a missing USER', ['FILE'], {}, ExitCode.Usage, /missing USER/],
    ['a PASSWORD without -b', ['FILE', 'bob', 'pw'], {}, ExitCode.Usage, /needs -b/],
    ['-b without PASSWORD', ['-b', 'FILE', 'bob'], {}, ExitCode.Usage, /missing PASSWORD/],
    ['-U with a USER', ['-U', 'FILE', 'bob'], {}, ExitCode.Usage, /unexpected argument "bob"/],
    ['-c with -D', ['-c', '-D', 'FILE', 'bob'], {}, ExitCode.Usage, /--create=true cannot also be provided when using --delete/],
    ['--hash sha512', ['-H', 'sha512', '-b', 'FILE', 'bob', 'pw'], {}, ExitCode.Usage, /--hash=sha512 to be one of: argon2id, pbkdf2/],
    ['--memory with pbkdf2', ['--hash', 'pbkdf2', '--memory', '1024', '-b', 'FILE', 'bob', 'pw'], {}, ExitCode.Usage, /argon2id only/],
    ['--memory too small', ['--memory', '4', '-b', 'FILE', 'bob', 'pw'], {}, ExitCode.Usage, /memory must be/],
    ['-h (it is not help here)', ['-h', 'FILE'], {}, ExitCode.Usage, /Nonexistent flag: -h/],
    ['a missing --password-file', ['--password-file', 'nope.txt', 'FILE', 'bob'], {}, ExitCode.InputFile, /cannot open nope.txt: no such file or directory/],
  ]
  for (const [name, args, options, code, message] of cases) {
    it(name, async () => {
      const file = fresh(original, 0o640)
      failed(await passwd(args.map((a) => (a === 'FILE' ? file : a)), options), code, message)
      assert.equal(readFileSync(file, 'utf8'), original)
      assert.equal(statSync(file).mode & 0o777, 0o640)
    })
  }

  it('"-" without -c', async () => {
    failed(await passwd(['-b', '-', 'bob', 'pw']), ExitCode.Usage, /needs -c/)
  })

  it('a missing file without -c (binary)', async () => {
    const file = join(dir, 'missing.pw')
    failed(await binary(['-b', file, 'bob', 'pw']), ExitCode.InputFile, /cannot open .*missing\.pw: no such file or directory/)
    assert.equal(existsSync(file), false)
  })

  it('-c into a missing folder names the file, not the temp file', async () => {
    const file = join(dir, 'no-such-folder', 'x.pw')
    failed(await passwd(['-c', '-b', file, 'bob', 'pw']), ExitCode.InputFile, /cannot open .*no-such-folder\/x\.pw: no such file or directory/)
  })

  it('an unreadable file (a directory)', async () => {
    const folder = join(dir, 'a-folder')
    mkdirSync(folder)
    failed(await passwd(['--list', folder]), ExitCode.InputFile, /cannot open .*a-folder: illegal operation on a directory/)
  })

  for (const mode of [['-b', 'FILE', 'bob', 'pw'], ['-D', 'FILE', 'alice'], ['-U', 'FILE'], ['--verify', '-b', 'FILE', 'alice', 'secret'], ['--list', 'FILE']]) {
    it(`a malformed line, reported with its number (${mode[0]})`, async () => {
      const broken = `alice:${SEVEN}\n# fine\nbob\n`
      const file = fresh(broken)
      failed(await passwd(mode.map((a) => (a === 'FILE' ? file : a))), ExitCode.InputFile, /f\d+\.pw:3: malformed line \(expected user:hash\)/)
      assert.equal(readFileSync(file, 'utf8'), broken)
    })
  }

  it('a failed write (file size limit) leaves the old file intact and no temp file', {skip: process.platform === 'win32' ? 'needs ulimit' : false}, async () => {
    const users = Array.from({length: 12}, (_, i) => `user${i}:${SEVEN}\n`).join('') // > 1 KiB
    const folder = join(dir, 'limited')
    mkdirSync(folder)
    const file = join(folder, 'big.pw')
    writeFileSync(file, users)
    // `ulimit -f 1`: writes past 1 KiB fail with EFBIG (node ignores SIGXFSZ)
    const child = spawn('bash', ['-c', `ulimit -f 1; exec "${process.execPath}" "${BIN}" passwd -b "${file}" newuser pw`], {cwd: ROOT, env: {...process.env, NO_COLOR: '1'}})
    const result = await collect(child)
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /^midge passwd: [^\n]+\n$/)
    assert.equal(readFileSync(file, 'utf8'), users)
    assert.deepEqual(readdirSync(folder), ['big.pw'])
  })
})

describe('--help', () => {
  it('shows Mosquitto\'s usage lines, the defaults, the exit codes and examples (binary)', async () => {
    const result = await runMidge(['passwd', '--help'])
    assert.equal(result.code, 0)
    for (const text of ['passwd [-c] -b FILE USER PASSWORD', 'passwd -D FILE USER', 'passwd -U FILE', 'passwd --verify FILE USER',
      'm=19456 KiB, t=2, p=1', '16 --verify did not match', 'EXAMPLES', '$ midge passwd -c users.pw alice', 'MIDGE_PASSWORD']) {
      assert.ok(result.stdout.replace(/\s+/g, ' ').includes(text), `help mentions ${text}`)
    }
  })
})
