// Interop (mqtt npm package, v5): enhanced authentication with the built-in SCRAM-SHA-256 method,
// through mqtt.js's AUTH support (its handleAuth hook).
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {describe, test} from 'node:test'
import type {MqttClient} from 'mqtt'
import {ReasonCode, scramClientProof, scramSha256, SCRAM_SHA_256} from '../../src/index.js'
import {connack, fixture, inbox} from './mqtt5-helpers.js'

/** The client half of SCRAM for mqtt.js: CONNECT properties, its handleAuth, and the server-final it must get. */
function scram(user: string, password: string) {
  const bare = `n=${user},r=${randomBytes(12).toString('base64')}`
  const expected: {serverFinal?: string} = {}
  const handleAuth: MqttClient['handleAuth'] = (packet, callback) => {
    if ((packet.reasonCode ?? 0) === ReasonCode.Success) return callback() // the end of a re-authentication
    const serverFirst = packet.properties!.authenticationData!.toString()
    const withoutProof = `c=biws,r=${/r=([^,]+)/.exec(serverFirst)![1]}`
    const {proof, serverSignature} = scramClientProof(password, bare, serverFirst, withoutProof)
    expected.serverFinal = `v=${serverSignature.toString('base64')}`
    callback(undefined, {cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication,
      properties: {authenticationMethod: SCRAM_SHA_256, authenticationData: Buffer.from(`${withoutProof},p=${proof.toString('base64')}`)}})
  }
  const properties = {authenticationMethod: SCRAM_SHA_256, authenticationData: Buffer.from(`n,,${bare}`)}
  return {expected, properties, install: (c: MqttClient) => { c.handleAuth = handleAuth }}
}

describe('mqtt.js v5: enhanced authentication (SCRAM-SHA-256)', () => {
  test('mqtt.js authenticates with SCRAM; the CONNACK carries the server signature it expects', async (t) => {
    const f = await fixture(t, {authenticators: [scramSha256({users: {alice: 'secret'}})]})
    const s = scram('alice', 'secret')
    const c = await f.client({clientId: 'alice-client', properties: s.properties}, s.install)
    assert.equal(connack(c).reasonCode, ReasonCode.Success)
    assert.equal(connack(c).properties?.authenticationMethod, SCRAM_SHA_256)
    assert.equal(connack(c).properties?.authenticationData?.toString(), s.expected.serverFinal)
    await c.subscribeAsync('auth/t', {qos: 1})
    await c.publishAsync('auth/t', 'hello', {qos: 1})
    assert.equal((await inbox(c).next()).payload.toString(), 'hello')
  })

  test('a wrong password is refused with CONNACK 0x86', async (t) => {
    const f = await fixture(t, {authenticators: [scramSha256({users: {alice: 'secret'}})]})
    const s = scram('alice', 'guess')
    await assert.rejects(f.client({clientId: 'c', properties: s.properties}, s.install),
      (e: Error & {code?: number}) => e.code === ReasonCode.BadUserNameOrPassword)
  })

  test('an unknown method is refused with CONNACK 0x8C', async (t) => {
    const f = await fixture(t, {authenticators: [scramSha256({users: {alice: 'secret'}})]})
    await assert.rejects(f.client({clientId: 'c', properties: {authenticationMethod: 'GS2-KRB5'}}),
      (e: Error & {code?: number}) => e.code === ReasonCode.BadAuthenticationMethod)
  })

  test('re-authentication from mqtt.js (AUTH 0x19) ends with AUTH 0x00', async (t) => {
    const f = await fixture(t, {authenticators: [scramSha256({users: {alice: 'secret'}})]})
    const s = scram('alice', 'secret')
    const c = await f.client({clientId: 'c', properties: s.properties}, s.install)
    const again = scram('alice', 'secret')
    again.install(c)
    const done = new Promise<{reasonCode?: number; properties?: {authenticationData?: Buffer}}>((resolve) => {
      c.on('packetreceive', (p) => { if (p.cmd === 'auth' && (p.reasonCode ?? 0) === 0) resolve(p) })
    })
    // mqtt.js has no re-authentication call; the AUTH 0x19 goes out through its packet writer
    ;(c as unknown as {_sendPacket(p: object): void})._sendPacket({cmd: 'auth', reasonCode: ReasonCode.ReAuthenticate, properties: again.properties})
    const final = await done
    assert.equal(final.properties?.authenticationData?.toString(), again.expected.serverFinal)
    await c.publishAsync('still/connected', 'x', {qos: 1})
  })
})
