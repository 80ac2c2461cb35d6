// mqtts listeners: TLS, mutual TLS, certificate identities, reloads and max_connections, with the
// `mqtt` package as the client and certificates made by openssl for the test.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {connect as tlsConnect} from 'node:tls'
import {after, before, describe, test} from 'node:test'
import type {MqttClient} from 'mqtt'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import {acl, createFileAuth, testPasswords} from '../helpers/auth.js'
import {makeTestPki, type TestPki} from '../helpers/certs.js'
import {listenerFor, roundTrip, tryConnect} from '../helpers/listeners.js'
import {engineOf} from '../../src/broker/internal.js'

describe('mqtts listeners', () => {
  let pki: TestPki
  let broker: Broker
  const clients: MqttClient[] = []
  const closers: Array<() => Promise<void>> = []

  before(() => {
    pki = makeTestPki()
    broker = createBroker()
  })
  after(async () => {
    for (const c of clients) c.end(true)
    for (const close of closers) await close()
    await broker.close()
    pki.remove()
  })

  async function open(tls: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    const l = await listenerFor(broker, {protocol: 'mqtts', port: 0, tls: {cert: pki.server.cert, key: pki.server.key, ...tls}, ...extra})
    closers.push(() => l.listener.close())
    return {...l, url: `mqtts://localhost:${l.listener.address().port}`}
  }

  async function connected(url: string, options: Record<string, unknown>): Promise<MqttClient> {
    const a = await tryConnect(url, options)
    assert.ok(a.ok, `connection refused: ${!a.ok && a.error?.message}`)
    clients.push(a.client)
    return a.client
  }

  for (const protocolVersion of [4, 5] as const) {
    test(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'} over TLS: publish and subscribe`, async () => {
      const {url, listener} = await open()
      assert.match(listener.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/)
      const sub = await connected(url, {protocolVersion, ca: pki.ca.cert, clientId: `tls-sub-${protocolVersion}`})
      const pub = await connected(url, {protocolVersion, ca: pki.ca.cert, clientId: `tls-pub-${protocolVersion}`})
      assert.equal(await roundTrip(sub, pub, `tls/${protocolVersion}`, 'over tls'), 'over tls')
    })
  }

  test('a client that does not trust the server certificate gives up', async () => {
    const {url} = await open()
    const a = await tryConnect(url, {ca: pki.otherCa.cert})
    assert.equal(a.ok, false)
  })

  test('TLS 1.2 is the lowest version by default; minVersion TLSv1.3 refuses a TLS 1.2 client', async () => {
    const {listener} = await open()
    const port = listener.address().port
    const old = tlsConnect({port, host: '127.0.0.1', ca: pki.ca.cert, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1'})
    const [err] = await once(old, 'error').catch((e) => [e])
    assert.ok(err instanceof Error)
    const strict = await open({minVersion: 'TLSv1.3'})
    const tls12 = tlsConnect({port: strict.listener.address().port, host: '127.0.0.1', ca: pki.ca.cert, servername: 'localhost', maxVersion: 'TLSv1.2'})
    const [err2] = await once(tls12, 'error').catch((e) => [e])
    assert.ok(err2 instanceof Error)
    const tls13 = tlsConnect({port: strict.listener.address().port, host: '127.0.0.1', ca: pki.ca.cert, servername: 'localhost'})
    await once(tls13, 'secureConnect')
    assert.equal(tls13.getProtocol(), 'TLSv1.3')
    tls13.destroy()
  })

  describe('mutual TLS (require_certificate)', () => {
    test('a client certificate signed by the CA is accepted', async () => {
      const {url} = await open({ca: pki.ca.cert, requireCertificate: true})
      await connected(url, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, protocolVersion: 5})
    })

    for (const [name, cert] of [['no client certificate', undefined], ['a certificate from an unknown CA', 'unknownClient'], ['an expired certificate', 'expiredClient']] as const) {
      for (const protocolVersion of [4, 5] as const) {
        test(`${name} is refused during the handshake (v${protocolVersion})`, async () => {
          const {url, listener, accepted, errors} = await open({ca: pki.ca.cert, requireCertificate: true})
          const before = engineOf(broker).metrics.clientsTotal
          const pem = cert === undefined ? {} : {cert: pki[cert].cert, key: pki[cert].key}
          const a = await tryConnect(url, {ca: pki.ca.cert, ...pem, protocolVersion})
          assert.equal(a.ok, false)
          assert.equal(accepted.length, 0, 'the connection never reached the engine')
          assert.equal(engineOf(broker).metrics.clientsTotal, before)
          await waitFor(() => listener.stats.handshakeFailures === 1)
          const expected = cert === undefined ? /did not return a certificate/ : cert === 'expiredClient' ? /CERT_HAS_EXPIRED/ : /UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/
          assert.match(errors[0].message, expected)
        })
      }
    }

    test('use_identity_as_username: the certificate CN is the user name; CONNECT\'s user name and password are ignored', async () => {
      const {url, accepted} = await open({ca: pki.ca.cert, requireCertificate: true, useIdentityAsUsername: true})
      await connected(url, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, username: 'eve', password: 'x'})
      assert.equal(accepted.at(-1)!.username, 'alice')
    })

    test('use_subject_as_username: the whole subject, RFC 2253 order, is the user name', async () => {
      const {url, accepted} = await open({ca: pki.ca.cert, requireCertificate: true, useSubjectAsUsername: true})
      await connected(url, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key})
      assert.equal(accepted.at(-1)!.username, 'CN=alice,OU=dev,O=Example Org,C=GB')
    })

    for (const protocolVersion of [4, 5] as const) {
      test(`use_identity_as_username with a certificate that has no CN: not authorized (v${protocolVersion})`, async () => {
        const {url, accepted} = await open({ca: pki.ca.cert, requireCertificate: true, useIdentityAsUsername: true})
        const a = await tryConnect(url, {ca: pki.ca.cert, cert: pki.noCnClient.cert, key: pki.noCnClient.key, protocolVersion})
        assert.equal(a.ok, false)
        assert.equal(accepted.length, 0)
        assert.equal(a.ok === false && a.error?.code, protocolVersion === 5 ? 0x87 : 5)
      })
    }

    test('identity settings without require_certificate are refused when the listener opens', async () => {
      await assert.rejects(open({ca: pki.ca.cert, useIdentityAsUsername: true}), /require_certificate/)
      await assert.rejects(open({requireCertificate: true}), /CA/)
    })
  })

  test('setTls: new connections get the new certificate, open connections stay up', async () => {
    const {url, listener} = await open()
    const port = listener.address().port
    const serial = async () => {
      const s = tlsConnect({port, host: '127.0.0.1', ca: pki.ca.cert, servername: 'localhost'})
      await once(s, 'secureConnect')
      const n = s.getPeerCertificate().serialNumber
      s.destroy()
      return n
    }
    const first = await serial()
    const kept = await connected(url, {ca: pki.ca.cert, clientId: 'kept', protocolVersion: 5})
    listener.setTls({cert: pki.server2.cert, key: pki.server2.key})
    const second = await serial()
    assert.notEqual(first, second)
    assert.equal(kept.connected, true)
    await kept.publishAsync('still/here', 'yes', {qos: 1})
    assert.throws(() => listener.setTls({cert: pki.server2.cert, key: pki.server2.key, ca: pki.ca.cert, requireCertificate: true}), /restart/)
  })

  describe('max_connections', () => {
    test('beyond the limit: v5 CONNACK 0x97, v3.1.1 closed without CONNACK; a freed slot is taken again', async () => {
      const {url, listener} = await open({}, {maxConnections: 1})
      const first = await connected(url, {ca: pki.ca.cert, clientId: 'first'})
      const v5 = await tryConnect(url, {ca: pki.ca.cert, clientId: 'second', protocolVersion: 5})
      assert.equal(v5.ok, false)
      assert.equal(v5.ok === false && v5.error?.code, 0x97)
      const v4 = await tryConnect(url, {ca: pki.ca.cert, clientId: 'third', protocolVersion: 4})
      assert.equal(v4.ok, false)
      assert.equal(v4.ok === false && v4.error, undefined, 'no CONNACK, just a close')
      assert.equal(listener.stats.refused, 2)
      first.end(true)
      await waitFor(() => listener.stats.connections === 0)
      await connected(url, {ca: pki.ca.cert, clientId: 'fourth'})
      assert.equal(listener.stats.connections, 1)
    })
  })
})

async function waitFor(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('broker.listen with mqtts: the certificate identity is the user name the auth hooks and the ACL see', () => {
  let pki: TestPki
  let broker: Broker
  let url: string
  const clients: MqttClient[] = []

  before(async () => {
    pki = makeTestPki()
    const auth = createFileAuth({passwords: await testPasswords(), acl: acl('user alice\ntopic readwrite alice/#\n')})
    broker = createBroker({auth})
    const {port} = await broker.listen({protocol: 'mqtts', port: 0,
      tls: {cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requireCertificate: true, useIdentityAsUsername: true}})
    url = `mqtts://localhost:${port}`
  })
  after(async () => {
    for (const c of clients) c.end(true)
    await broker.close()
    pki.remove()
  })

  for (const protocolVersion of [4, 5] as const) {
    test(`no password needed; CONNECT's user name is replaced; the ACL applies to the CN (v${protocolVersion})`, async () => {
      const seen: Array<string | undefined> = []
      const onConnected = (e: {username?: string}) => seen.push(e.username)
      broker.events.on('clientConnected', onConnected)
      const a = await tryConnect(url, {ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, protocolVersion, username: 'bob', password: 'wrong'})
      broker.events.off('clientConnected', onConnected)
      assert.ok(a.ok)
      clients.push(a.client)
      assert.deepEqual(seen, ['alice'])
      const sub = await a.client.subscribeAsync(`alice/${protocolVersion}`, {qos: 1})
      assert.equal(sub[0].qos, 1)
      await assert.rejects(a.client.subscribeAsync('bob/x', {qos: 1}), /Not authorized|Unspecified error/)
      if (protocolVersion === 5) {
        await assert.rejects(a.client.publishAsync('bob/x', 'no', {qos: 1}), (e: {code?: number}) => e.code === 0x87)
      }
    })
  }

  test('the listener shows up in broker.listeners with its counters', async () => {
    const l = engineOf(broker).listeners[0]
    assert.match(l.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(l.stats.accepted >= 2)
  })
})
