import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type ProtocolVersion} from '../../src/codec/index.js'
import {PasswordFile} from '../../src/passwd/index.js'
import {createFileAuth} from '../helpers/auth.js'
import {connackCode, startBroker, Wire} from '../helpers/wire.js'

const login = (w: Wire, clientId: string, username: string, password: string) =>
  w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: w.version, clientId, clean: true, keepalive: 0, username, password: Buffer.from(password)})

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('login storms', () => {
  test('a storm of wrong passwords from one address: the excess is refused at once, a login from elsewhere goes ahead of the queue', async (t) => {
    // real argon2id at its default cost, as `midge passwd` writes it
    const passwords = PasswordFile.empty()
    await passwords.setPassword('alice', 'correct horse')
    await passwords.setPassword('mallory', 'unguessable')
    const auth = createFileAuth({passwords, maxConcurrentVerifications: 2})
    const broker = startBroker(t, {auth})
    const verdicts: Array<{who: string; code: number}> = []
    const storm = Array.from({length: 200}, (_, i) => new Wire(broker, (i % 4 === 3 ? 5 : 4) as ProtocolVersion, `10.66.0.1:${30_000 + i}`))
    const stormAcks = storm.map(async (w, i) => {
      login(w, `guess${i}`, 'mallory', `guess ${i}`)
      const code = connackCode(await w.expect('connack', 60_000))
      verdicts.push({who: 'storm', code})
      return code
    })
    await turn()
    const alice = new Wire(broker, 5, '192.0.2.7:40000')
    login(alice, 'alice', 'alice', 'correct horse')
    const aliceCode = connackCode(await alice.expect('connack', 60_000))
    verdicts.push({who: 'alice', code: aliceCode})
    assert.equal(aliceCode, ReasonCode.Success)
    const codes = await Promise.all(stormAcks)

    // 16 (the per-address bound) were verified and refused as wrong; the rest were refused at once,
    // not authorized (v3: 5, v5: 0x87), without a verification
    const verified = codes.filter((c) => c === 4 || c === ReasonCode.BadUserNameOrPassword).length
    const refused = codes.filter((c) => c === 5 || c === ReasonCode.NotAuthorized).length
    assert.equal(verified, 16)
    assert.equal(refused, 184)
    // the order: alice's CONNACK came before most of the storm's verified verdicts (the queue had not drained)
    const aliceAt = verdicts.findIndex((v) => v.who === 'alice')
    const verifiedBefore = verdicts.slice(0, aliceAt).filter((v) => v.code === 4 || v.code === ReasonCode.BadUserNameOrPassword).length
    assert.ok(verifiedBefore < verified / 2, `${verifiedBefore} of the storm's ${verified} verifications finished before alice's`)
    assert.deepEqual([auth.verifications.active, auth.verifications.queued], [0, 0])
  })

  test('addresses take turns for the verification slots; each address has at most maxVerificationsPerAddress', async (t) => {
    const calls: string[] = []
    const release: Array<(ok: boolean) => void> = []
    const verify = (user: string) => {
      calls.push(user)
      return new Promise<boolean>((resolve) => release.push(resolve))
    }
    const auth = createFileAuth({passwords: {verify}, maxConcurrentVerifications: 1, maxVerificationsPerAddress: 3})
    const broker = startBroker(t, {auth})
    const a = Array.from({length: 5}, (_, i) => new Wire(broker, 4, `10.0.0.1:${1000 + i}`))
    a.forEach((w, i) => login(w, `a${i}`, `a${i}`, 'p'))
    const b = [0, 1].map((i) => new Wire(broker, 5, `10.0.0.2:${2000 + i}`))
    b.forEach((w, i) => login(w, `b${i}`, `b${i}`, 'p'))
    // a3 and a4 are past the bound for 10.0.0.1: refused at once (v3.1.1: 5), never verified
    assert.equal(connackCode(await a[3].expect('connack')), 5)
    assert.equal(connackCode(await a[4].expect('connack')), 5)
    for (let i = 0; i < 5; i++) {
      while (release.length <= i) await turn()
      release[i](true)
    }
    for (const w of [...a.slice(0, 3), ...b]) assert.equal(connackCode(await w.expect('connack')), 0)
    assert.deepEqual(calls, ['a0', 'a1', 'b0', 'a2', 'b1'], 'a0 runs; then the addresses alternate')
  })
})
