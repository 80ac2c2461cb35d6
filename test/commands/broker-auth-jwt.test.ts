// `midge broker start --auth-jwt-*`: the real binary checks JWT passwords (tokens made here with jose);
// mqtt.js is the client. Valid, expired, not yet valid, bad signature, wrong audience, the `none`
// algorithm, algorithm confusion, the acl claim with %c/%u, key rotation through a JWKS URL, and the
// password file next to JWTs.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {createServer} from 'node:http'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import {exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload} from 'jose'
import type mqtt from 'mqtt'
import type {IClientOptions} from 'mqtt'
import {PasswordFile} from '../../src/passwd/index.js'
import {watchLog} from '../helpers/broker-log.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {connected as connectedAs, login as loginAs} from '../helpers/mqtt-login.js'

const login = (broker: MidgeBroker, options: IClientOptions) => loginAs(broker, {protocolVersion: 5, ...options})
const connected = (broker: MidgeBroker, options: IClientOptions) => connectedAs(broker, {protocolVersion: 5, ...options})

const dir = mkdtempSync(join(tmpdir(), 'midge-auth-jwt-'))
after(() => rmSync(dir, {recursive: true, force: true}))

type Key = Awaited<ReturnType<typeof generateKeyPair>>['publicKey']

const SECRET = 'a-test-secret-of-more-than-thirty-two-bytes'
const secret = new TextEncoder().encode(SECRET)
const now = () => Math.floor(Date.now() / 1000)

function hmac(claims: JWTPayload, key: Uint8Array = secret, header: {alg: string; kid?: string} = {alg: 'HS256'}) {
  return new SignJWT(claims).setProtectedHeader(header).sign(key)
}
const good = (claims: JWTPayload = {}) => hmac({sub: 'alice', aud: 'mqtt', iss: 'https://idp.test/', exp: now() + 3600, ...claims})



async function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<MidgeBroker> {
  const broker = await startMidgeBroker(args, env)
  after(() => broker.stop())
  return broker
}

function publishCode(client: mqtt.MqttClient, topic: string): Promise<number> {
  return client.publishAsync(topic, 'x', {qos: 1}).then((p) => (p as {reasonCode?: number} | undefined)?.reasonCode ?? 0, (e: {code?: number}) => e.code ?? -1)
}

function subscribeCodes(client: mqtt.MqttClient, filters: string[]): Promise<number[]> {
  return client.subscribeAsync(filters, {qos: 1}).then((g) => g.map((x) => x.qos), (e: {packet?: {granted?: number[]}}) => e.packet?.granted ?? Promise.reject(e))
}

describe('JWT authentication', () => {
  test('HMAC: signature, exp, nbf, audience, issuer and the user name are checked; none is refused', async () => {
    const broker = await start(['--auth-jwt-audience', 'mqtt', '--auth-jwt-issuer', 'https://idp.test/'], {MIDGE_AUTH_JWT_SECRET: SECRET})
    const log = watchLog(broker)
    const as = async (password: string, username: string | undefined = 'alice') => login(broker, {clientId: `c${Math.random()}`, username, password})
    assert.equal(typeof (await as(await good())), 'object', 'a valid token')
    assert.equal(typeof (await as(await good(), undefined)), 'object', 'v5: no user name, the token names the user')
    assert.equal(await as(await good({exp: now() - 3600})), 0x86, 'expired')
    assert.equal(await as(await good({nbf: now() + 3600})), 0x86, 'not yet valid')
    assert.equal(await as(await hmac({sub: 'alice', aud: 'mqtt', iss: 'https://idp.test/'}, new TextEncoder().encode('another-secret-of-more-than-32-bytes!!'))), 0x86, 'bad signature')
    assert.equal(await as(await good({aud: 'billing'})), 0x86, 'wrong audience')
    assert.equal(await as(await good({iss: 'https://evil.test/'})), 0x86, 'wrong issuer')
    assert.equal(await as(new UnsecuredJWT({sub: 'alice', aud: 'mqtt', iss: 'https://idp.test/'}).encode()), 0x86, 'alg none')
    assert.equal(await as(await good(), 'bob'), 0x86, 'the user name is not the token\'s subject')
    assert.equal(await as('not-a-token'), 0x86, 'not a JWT, and no password file')
    const expired = await log.line(/JWT refused: .*exp/)
    assert.equal(expired.plugin, 'midge:jwt')
  })

  test('the acl claim limits publish, subscribe and delivery, with %c and %u', async () => {
    const broker = await start([], {MIDGE_AUTH_JWT_SECRET: SECRET})
    const acl = {pub: ['devices/%c/state'], sub: ['devices/%c/cmd/#'], all: ['chat/%u/#']}
    const alice = await connected(broker, {clientId: 'dev1', username: 'alice', password: await hmac({sub: 'alice', acl})})
    assert.equal(await publishCode(alice, 'devices/dev1/state'), 0)
    assert.equal(await publishCode(alice, 'devices/dev2/state'), 0x87)
    assert.equal(await publishCode(alice, 'devices/dev1/cmd/reboot'), 0x87, 'sub only')
    assert.equal(await publishCode(alice, 'chat/alice/hello'), 0)
    assert.deepEqual(await subscribeCodes(alice, ['devices/dev1/cmd/#', 'devices/dev2/cmd/#', 'chat/#']), [1, 0x87, 1])
    // chat/# is granted (it overlaps chat/alice/#) but only chat/alice/... messages reach alice
    const admin = await connected(broker, {clientId: 'admin', username: 'root', password: await hmac({sub: 'root', acl: {all: ['#']}})})
    const received = new Promise<string>((resolve) => alice.once('message', (topic) => resolve(topic)))
    await admin.publishAsync('chat/bob/x', 'not for alice', {qos: 1})
    await admin.publishAsync('chat/alice/x', 'for alice', {qos: 1})
    assert.equal(await received, 'chat/alice/x')
    const plain = await connected(broker, {clientId: 'plain', username: 'carol', password: await hmac({sub: 'carol'})})
    assert.equal(await publishCode(plain, 'anything/at/all'), 0, 'no acl claim and no ACL file: no topic limits')
  })

  test('a PEM public key: its own algorithms only (an HMAC token keyed with the public key is refused)', async () => {
    const {publicKey, privateKey} = await generateKeyPair('ES256', {extractable: true})
    const pem = await exportSPKI(publicKey)
    const keyFile = join(dir, 'es256.pub')
    writeFileSync(keyFile, pem)
    const broker = await start(['--auth-jwt-key', keyFile])
    const signed = await new SignJWT({sub: 'alice'}).setProtectedHeader({alg: 'ES256'}).setExpirationTime('1h').sign(privateKey)
    assert.equal(typeof (await login(broker, {clientId: 'k1', username: 'alice', password: signed})), 'object')
    const confused = await hmac({sub: 'alice'}, new TextEncoder().encode(pem))
    assert.equal(await login(broker, {clientId: 'k2', username: 'alice', password: confused}), 0x86)
  })

  test('key rotation through a JWKS URL: a new key id is fetched, a retired key is refused', async () => {
    const a = await generateKeyPair('RS256', {extractable: true})
    const b = await generateKeyPair('RS256', {extractable: true})
    const jwk = async (k: Key, kid: string) => ({...(await exportJWK(k)), kid, alg: 'RS256', use: 'sig'})
    let keys = [await jwk(a.publicKey, 'a')]
    let fetches = 0
    const server = createServer((_req, res) => { fetches++; res.writeHead(200, {'content-type': 'application/json'}); res.end(JSON.stringify({keys})) })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    after(() => { server.closeAllConnections(); server.close() })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
    const conf = join(dir, 'jwks.conf')
    writeFileSync(conf, `plugin midge:jwt\nplugin_opt_jwks ${url}\nplugin_opt_jwks_cooldown 0\n`)
    const broker = await start(['-c', conf])
    const sign = (key: Key, kid: string) => new SignJWT({sub: 'alice'}).setProtectedHeader({alg: 'RS256', kid}).setExpirationTime('1h').sign(key)
    assert.equal(typeof (await login(broker, {clientId: 'r1', username: 'alice', password: await sign(a.privateKey, 'a')})), 'object')
    keys = [await jwk(b.publicKey, 'b')]
    assert.equal(typeof (await login(broker, {clientId: 'r2', username: 'alice', password: await sign(b.privateKey, 'b')})), 'object', 'the new key is fetched')
    assert.equal(await login(broker, {clientId: 'r3', username: 'alice', password: await sign(a.privateKey, 'a')}), 0x86, 'the retired key is refused')
    assert.ok(fetches >= 2)
  })

  test('a JWKS file is re-read on SIGHUP: a key added then works, a key removed is refused; a bad file keeps the old one', async () => {
    const a = await generateKeyPair('ES256', {extractable: true})
    const b = await generateKeyPair('ES256', {extractable: true})
    const jwk = async (k: Key, kid: string) => ({...(await exportJWK(k)), kid, alg: 'ES256'})
    const file = join(dir, 'jwks.json')
    writeFileSync(file, JSON.stringify({keys: [await jwk(a.publicKey, 'a')]}))
    const broker = await start(['--auth-jwt-jwks', file])
    const log = watchLog(broker)
    const sign = (key: Key, kid: string) => new SignJWT({sub: 'alice'}).setProtectedHeader({alg: 'ES256', kid}).setExpirationTime('1h').sign(key)
    const tokenA = await sign(a.privateKey, 'a')
    const tokenB = await sign(b.privateKey, 'b')
    assert.equal(typeof (await login(broker, {clientId: 'f1', username: 'alice', password: tokenA})), 'object')
    assert.equal(await login(broker, {clientId: 'f2', username: 'alice', password: tokenB}), 0x86)
    writeFileSync(file, JSON.stringify({keys: [await jwk(b.publicKey, 'b')]}))
    const reloaded = log.line(/plugin midge:jwt reloaded/)
    broker.child.kill('SIGHUP')
    await reloaded
    assert.equal(typeof (await login(broker, {clientId: 'f3', username: 'alice', password: tokenB})), 'object')
    assert.equal(await login(broker, {clientId: 'f4', username: 'alice', password: tokenA}), 0x86)
    writeFileSync(file, '{not json')
    const failed = log.line(/plugin midge:jwt: reload failed/)
    broker.child.kill('SIGHUP')
    assert.match(String((await failed).msg), /is not a JWKS/)
    assert.equal(typeof (await login(broker, {clientId: 'f5', username: 'alice', password: tokenB})), 'object', 'the previous key set stays')
  })

  test('with a password file: JWTs are checked first, other passwords by the file', async () => {
    const file = PasswordFile.empty()
    await file.setPassword('bob', 'builder', {memory: 64, iterations: 1})
    const passwd = join(dir, 'passwd')
    writeFileSync(passwd, file.serialize())
    const broker = await start(['--password-file', passwd], {MIDGE_AUTH_JWT_SECRET: SECRET})
    assert.equal(typeof (await login(broker, {clientId: 'p1', username: 'bob', password: 'builder'})), 'object')
    assert.equal(typeof (await login(broker, {clientId: 'p2', username: 'alice', password: await hmac({sub: 'alice'})})), 'object')
    assert.equal(await login(broker, {clientId: 'p3', username: 'bob', password: 'wrong'}), 0x86)
    assert.equal(await login(broker, {clientId: 'p4', username: 'alice', password: await hmac({sub: 'alice', exp: now() - 60})}), 0x86, 'a bad JWT is not passed on to the file')
  })
})
