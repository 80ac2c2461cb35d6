// Hashing: every format round trips, files written by Mosquitto verify, and nothing blocks the event loop.
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {verify as argon2PackageVerify} from 'argon2'
import {ARGON2ID_DEFAULTS, PBKDF2_DEFAULTS, PasswordFile, PasswordFileError, PasswordInputError, hashPassword, parseHash, verifyPassword} from '../../src/passwd/index.js'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/passwd/${name}`, import.meta.url), 'utf8')
const hasMosquittoPasswd = spawnSync('mosquitto_passwd', [], {stdio: 'ignore'}).error === undefined
// cheap argon2id parameters keep the suite fast where the cost itself is not under test
const cheap = {memory: 64, iterations: 1, parallelism: 1}

describe('argon2id', () => {
  it('writes a PHC string with the documented defaults that verifies', async () => {
    const hash = await hashPassword('s3cret')
    assert.equal(hash.kind, 'argon2id')
    const {memory, iterations, parallelism} = ARGON2ID_DEFAULTS
    assert.match(hash.text, new RegExp(`^\\$argon2id\\$v=19\\$m=${memory},t=${iterations},p=${parallelism}\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}$`))
    assert.equal(await verifyPassword(hash, 's3cret'), true)
    assert.equal(await verifyPassword(hash, 's3creT'), false)
    assert.equal(await verifyPassword(parseHash(hash.text), 's3cret'), true)
  })

  it('writes libargon2 order (m,t,p), which the argon2 package verifies too', async () => {
    const hash = await hashPassword('pw', {memory: 256, iterations: 3, parallelism: 2})
    assert.match(hash.text, /^\$argon2id\$v=19\$m=256,t=3,p=2\$/)
    assert.equal(await argon2PackageVerify(hash.text, 'pw'), true)
  })

  it('reads the argon2 package\'s own m,p,t order', async () => {
    const {hash} = await import('argon2')
    const text = await hash('pw', {memoryCost: 64, timeCost: 1, parallelism: 1})
    assert.match(text, /m=64,p=1,t=1/)
    assert.equal(await verifyPassword(parseHash(text), 'pw'), true)
  })

  it('reads a Mosquitto 2.1 line (m=47104,t=1,p=1, 64-byte salt and tag)', async () => {
    const file = PasswordFile.parse(fixture('mosquitto-2.1-style.pw'))
    const hash = file.get('erin')
    assert.equal(hash?.kind, 'argon2id')
    assert.equal(await verifyPassword(hash!, 'correct horse'), true)
    assert.equal(await verifyPassword(hash!, 'correct horse '), false)
  })

  it('verifies a Buffer password (MQTT passwords are binary)', async () => {
    const hash = await hashPassword('pässword', cheap)
    assert.equal(await verifyPassword(hash, Buffer.from('pässword')), true)
  })

  it('verifies off the event loop', async () => {
    const hash = await hashPassword('pw', {memory: 65_536, iterations: 3, parallelism: 1})
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    try {
      assert.equal(await verifyPassword(hash, 'pw'), true)
    } finally {
      clearInterval(timer)
    }
    assert.ok(ticks > 0, 'timers fired while argon2id was verifying')
  })

  it('rejects parameters libargon2 cannot use', async () => {
    await assert.rejects(hashPassword('pw', {memory: 4}), RangeError)
    await assert.rejects(hashPassword('pw', {memory: 64, parallelism: 0}), RangeError)
    await assert.rejects(hashPassword('pw', {iterations: 0}), RangeError)
  })
})

describe('pbkdf2 ($7$)', () => {
  it('writes a 12-byte salt, 64-byte hash and the documented iteration count', async () => {
    const hash = await hashPassword('s3cret', {algorithm: 'pbkdf2'})
    assert.equal(hash.kind, 'pbkdf2-sha512')
    assert.match(hash.text, new RegExp(`^\\$7\\$${PBKDF2_DEFAULTS.iterations}\\$[A-Za-z0-9+/]{16}\\$[A-Za-z0-9+/]{86}==$`))
    assert.notEqual(PBKDF2_DEFAULTS.iterations, 101)
    assert.equal(await verifyPassword(parseHash(hash.text), 's3cret'), true)
    assert.equal(await verifyPassword(parseHash(hash.text), 's3cre'), false)
  })

  it('honours --iterations and refuses argon2id-only options', async () => {
    const hash = await hashPassword('pw', {algorithm: 'pbkdf2', iterations: 7})
    assert.match(hash.text, /^\$7\$7\$/)
    await assert.rejects(hashPassword('pw', {algorithm: 'pbkdf2', memory: 1024}), RangeError)
    await assert.rejects(hashPassword('pw', {algorithm: 'pbkdf2', iterations: 0}), RangeError)
  })

  it('reads the 64-byte salt Mosquitto 2.1 writes', async () => {
    const hash = PasswordFile.parse(fixture('mosquitto-2.1-style.pw')).get('dave')
    assert.equal(hash?.kind, 'pbkdf2-sha512')
    assert.equal(hash.kind === 'pbkdf2-sha512' && hash.salt.length, 64)
    assert.equal(await verifyPassword(hash, 'secret'), true)
  })
})

describe('files written by Mosquitto 2.0 (fixture)', () => {
  const file = PasswordFile.parse(fixture('mosquitto-2.0.pw'))
  for (const [user, password, kind] of [['alice', 'secret', 'pbkdf2-sha512'], ['bob', 'hunter2', 'sha512'], ['carol', 'p@ss:wörd', 'pbkdf2-sha512']] as const) {
    it(`${user}: ${kind}`, async () => {
      assert.equal(file.get(user)?.kind, kind)
      assert.equal(await file.verify(user, password), true)
      assert.equal(await file.verify(user, `${password}x`), false)
    })
  }
})

describe('a file written just now by the real mosquitto_passwd', {skip: hasMosquittoPasswd ? false : 'mosquitto_passwd is not installed'}, () => {
  it('verifies every user it wrote, $7$ and $6$', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'midge-passwd-'))
    try {
      const path = join(dir, 'pw')
      execFileSync('mosquitto_passwd', ['-c', '-b', path, 'ann', 'first password'])
      execFileSync('mosquitto_passwd', ['-b', path, 'ben', 'ünïcode'])
      execFileSync('mosquitto_passwd', ['-H', 'sha512', '-b', path, 'cy', 'legacy'])
      const file = PasswordFile.parse(readFileSync(path, 'utf8'), {source: path})
      assert.deepEqual(file.users(), ['ann', 'ben', 'cy'])
      assert.equal(await file.verify('ann', 'first password'), true)
      assert.equal(await file.verify('ben', 'ünïcode'), true)
      assert.equal(await file.verify('cy', 'legacy'), true)
      assert.equal(await file.verify('cy', 'Legacy'), false)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('parseHash', () => {
  const bad = [
    ['$6$ is read only and needs 12 or 64 salt bytes', '$6$c2FsdA==$' + 'A'.repeat(86) + '=='],
    ['$7$ with a short hash', '$7$101$SD4cFl0FZ60/uI1/$AAAA'],
    ['$7$ with zero iterations', '$7$0$SD4cFl0FZ60/uI1/$' + 'A'.repeat(86) + '=='],
    ['$7$ with a non-number', '$7$x$SD4cFl0FZ60/uI1/$' + 'A'.repeat(86) + '=='],
    ['$7$ with bad base64', '$7$101$SD4cFl0F!60/uI1/$' + 'A'.repeat(86) + '=='],
    ['$argon2id$ without v=19', '$argon2id$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g'],
    ['$argon2id$ with a missing parameter', '$argon2id$v=19$m=64,t=1,x=1$c2FsdHNhbHQ$aGFzaGhhc2g'],
    ['$argon2id$ with memory below 8 x p', '$argon2id$v=19$m=8,t=1,p=2$c2FsdHNhbHQ$aGFzaGhhc2g'],
    ['$argon2i$', '$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g'],
    ['plaintext', 'hunter2'],
  ]
  for (const [name, text] of bad) it(`rejects ${name}`, () => assert.throws(() => parseHash(text), PasswordFileError))

  it('refuses to hash an empty password', async () => {
    await assert.rejects(hashPassword(''), PasswordInputError)
  })

  it('cannot be asked to write sha512', async () => {
    await assert.rejects(hashPassword('pw', {algorithm: 'sha512' as 'pbkdf2'}), RangeError)
  })
})
