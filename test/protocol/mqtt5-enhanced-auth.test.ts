import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {describe, test} from 'node:test'
import {scramClientProof, scramSha256, SCRAM_SHA_256} from '../../src/broker/auth/scram.js'
import type {Authenticator, EnhancedAuthRequest} from '../../src/broker/auth/authenticator.js'
import {ReasonCode} from '../../src/codec/index.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {startBroker, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const USERS = {alice: 'wonderland', 'b,o=b': 'builder'}
const method = SCRAM_SHA_256

/** The client's half of SCRAM over a Wire: returns the AUTH/CONNACK that ends it. */
class ScramClient {
  readonly nonce = randomBytes(12).toString('base64')
  readonly first: string
  serverSignature: Buffer | undefined

  constructor(readonly user: string, readonly password: string) {
    this.first = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.nonce}`
  }

  get clientFirst(): Buffer { return Buffer.from(`n,,${this.first}`) }

  /** The client-final message for a server-first one. */
  final(serverFirst: string): Buffer {
    const nonce = /r=([^,]+)/.exec(serverFirst)![1]
    assert.ok(nonce.startsWith(this.nonce))
    const withoutProof = `c=biws,r=${nonce}`
    const {proof, serverSignature} = scramClientProof(this.password, this.first, serverFirst, withoutProof)
    this.serverSignature = serverSignature
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`)
  }
}

async function scramConnect(w: Wire, user: string, password: string, fields = {}) {
  const client = new ScramClient(user, password)
  w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0, ...fields,
    properties: {authenticationMethod: method, authenticationData: client.clientFirst}})
  const challenge = await w.expect('auth')
  assert.equal(challenge.reasonCode, ReasonCode.ContinueAuthentication)
  assert.equal(challenge.properties?.authenticationMethod, method)
  w.send({cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication,
    properties: {authenticationMethod: method, authenticationData: client.final(challenge.properties!.authenticationData!.toString())}})
  return {ack: await w.expect('connack'), client}
}

describe('v5 enhanced authentication', () => {
  test('[MQTT-4.12.0-?] an unknown Authentication Method is refused with CONNACK 0x8C', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    const w = new Wire(broker, 5)
    const ack = await w.connect({properties: {authenticationMethod: 'KERBEROS'}})
    assert.equal(ack.reasonCode, ReasonCode.BadAuthenticationMethod)
    await w.closed()
  })

  test('SCRAM-SHA-256: CONNECT, AUTH 0x18 both ways, CONNACK with the server signature', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    const users: Array<string | undefined> = []
    broker.events.on('clientConnected', (e) => users.push(e.username))
    const w = new Wire(broker, 5)
    const {ack, client} = await scramConnect(w, 'alice', 'wonderland')
    assert.equal(ack.reasonCode, ReasonCode.Success)
    assert.equal(ack.properties?.authenticationMethod, method)
    assert.equal(ack.properties?.authenticationData?.toString(), `v=${client.serverSignature!.toString('base64')}`)
    assert.deepEqual(users, ['alice'], 'the authenticated user is the client\'s identity')
    await w.subscribe('t', 0)
    w.publish('t', 'in')
    assert.equal((await w.expect('publish')).payload.toString(), 'in')
  })

  test('SCRAM user names with "," and "=" are escaped and understood', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    const w = new Wire(broker, 5)
    assert.equal((await scramConnect(w, 'b,o=b', 'builder')).ack.reasonCode, ReasonCode.Success)
  })

  test('a wrong password or an unknown user: CONNACK 0x86 after a normal-looking challenge', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    for (const [user, password] of [['alice', 'wrong'], ['mallory', 'x']]) {
      const w = new Wire(broker, 5)
      const {ack} = await scramConnect(w, user, password)
      assert.equal(ack.reasonCode, ReasonCode.BadUserNameOrPassword)
      assert.equal(ack.sessionPresent, false)
      await w.closed()
    }
    assert.equal(engineOf(broker).metrics.authFailures, 2)
    assert.equal(engineOf(broker).sessions.size, 0)
  })

  test('[MQTT-4.12.0-?] only AUTH may be sent while authenticating: anything else is a protocol error', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    const w = new Wire(broker, 5)
    w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0,
      properties: {authenticationMethod: method, authenticationData: new ScramClient('alice', 'x').clientFirst}})
    await w.expect('auth')
    w.publish('t', 'too early')
    assert.equal((await w.expect('connack')).reasonCode, ReasonCode.ProtocolError)
    await w.closed()
  })

  test('[MQTT-4.12.0-5] an AUTH naming another method is a protocol error', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    const w = new Wire(broker, 5)
    w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0,
      properties: {authenticationMethod: method, authenticationData: new ScramClient('alice', 'x').clientFirst}})
    await w.expect('auth')
    w.send({cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication, properties: {authenticationMethod: 'OTHER'}})
    assert.equal((await w.expect('connack')).reasonCode, ReasonCode.ProtocolError)
  })

  test('Authentication Data without an Authentication Method is a protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    assert.equal((await w.connect({properties: {authenticationData: Buffer.from('x')}})).reasonCode, ReasonCode.ProtocolError)
  })

  test('the CONNECT timeout still applies while the client is expected to answer', async (t) => {
    const timers = new FakeTimers()
    const broker = startBroker(t, {timers, connectTimeoutMs: 5000, authenticators: [scramSha256({users: USERS})]})
    const w = new Wire(broker, 5)
    w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0,
      properties: {authenticationMethod: method, authenticationData: new ScramClient('alice', 'x').clientFirst}})
    await w.expect('auth')
    timers.advance(5000)
    await w.closed()
  })

  test('[MQTT-4.12.1-1] re-authentication: AUTH 0x19 ... AUTH 0x00, while other traffic goes on', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    const w = new Wire(broker, 5)
    await scramConnect(w, 'alice', 'wonderland')
    await w.subscribe('t', 0)
    const client = new ScramClient('alice', 'wonderland')
    w.send({cmd: 'auth', reasonCode: ReasonCode.ReAuthenticate, properties: {authenticationMethod: method, authenticationData: client.clientFirst}})
    const challenge = await w.expect('auth')
    assert.equal(challenge.reasonCode, ReasonCode.ContinueAuthentication)
    w.publish('t', 'meanwhile')
    assert.equal((await w.expect('publish')).payload.toString(), 'meanwhile')
    w.send({cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication,
      properties: {authenticationMethod: method, authenticationData: client.final(challenge.properties!.authenticationData!.toString())}})
    const done = await w.expect('auth')
    assert.equal(done.reasonCode ?? 0, ReasonCode.Success)
    assert.equal(done.properties?.authenticationData?.toString(), `v=${client.serverSignature!.toString('base64')}`)
    await w.quiet()
  })

  test('[MQTT-4.12.1-2] a failed re-authentication ends the connection (DISCONNECT 0x87)', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    const w = new Wire(broker, 5)
    await scramConnect(w, 'alice', 'wonderland')
    const client = new ScramClient('alice', 'forgotten')
    w.send({cmd: 'auth', reasonCode: ReasonCode.ReAuthenticate, properties: {authenticationMethod: method, authenticationData: client.clientFirst}})
    const challenge = await w.expect('auth')
    w.send({cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication,
      properties: {authenticationMethod: method, authenticationData: client.final(challenge.properties!.authenticationData!.toString())}})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.NotAuthorized)
    await w.closed()
  })

  test('AUTH out of place while connected (0x18 with no exchange, 0x19 with another method, 0x00) is a protocol error', async (t) => {
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})]})
    for (const packet of [
      {cmd: 'auth' as const, reasonCode: ReasonCode.ContinueAuthentication, properties: {authenticationMethod: method}},
      {cmd: 'auth' as const, reasonCode: ReasonCode.ReAuthenticate, properties: {authenticationMethod: 'OTHER'}},
      {cmd: 'auth' as const, reasonCode: ReasonCode.Success, properties: {authenticationMethod: method}},
    ]) {
      const w = new Wire(broker, 5)
      await scramConnect(w, 'alice', 'wonderland')
      w.send(packet)
      assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
    }
  })

  test('a custom asynchronous authenticator through the same interface', async (t) => {
    const calls: EnhancedAuthRequest[] = []
    // a toy challenge-response: the client must answer the challenge reversed
    const reverse: Authenticator = {
      method: 'REVERSE',
      begin(request) {
        calls.push(request)
        const challenge = randomBytes(8).toString('hex')
        let step = 0
        return {
          async next(data) {
            await new Promise((r) => setImmediate(r))
            if (step++ === 0) return {status: 'continue', data: Buffer.from(challenge)}
            return data?.toString() === [...challenge].reverse().join('')
              ? {status: 'success', username: 'rev'}
              : {status: 'failure', reason: 'wrong answer'}
          },
        }
      },
    }
    const broker = startBroker(t, {authenticators: [reverse]})
    const w = new Wire(broker, 5)
    w.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'custom', clean: true, keepalive: 0, properties: {authenticationMethod: 'REVERSE'}})
    const c = await w.expect('auth')
    w.send({cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication,
      properties: {authenticationMethod: 'REVERSE', authenticationData: Buffer.from([...c.properties!.authenticationData!.toString()].reverse().join(''))}})
    const ack = await w.expect('connack')
    assert.equal(ack.reasonCode, ReasonCode.Success)
    assert.equal(ack.properties?.authenticationData, undefined)
    w.send({cmd: 'auth', reasonCode: ReasonCode.ReAuthenticate, properties: {authenticationMethod: 'REVERSE'}})
    await w.expect('auth')
    w.send({cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication, properties: {authenticationMethod: 'REVERSE', authenticationData: Buffer.from('nope')}})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.NotAuthorized)
    assert.deepEqual(calls.map((r) => [r.clientId, r.reauthenticate]), [['custom', false], ['custom', true]])
  })

  test('the password hook is not asked when a method authenticates', async (t) => {
    let asked = 0
    const broker = startBroker(t, {authenticators: [scramSha256({users: USERS})], auth: {authenticate: () => { asked++; return false }}})
    const w = new Wire(broker, 5)
    assert.equal((await scramConnect(w, 'alice', 'wonderland')).ack.reasonCode, ReasonCode.Success)
    assert.equal(asked, 0)
  })
})
