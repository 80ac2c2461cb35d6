// --tls-alpn and --tls-use-os-certs (pub, sub, rr): a real TLS server on a free port that records the
// negotiated ALPN protocol and hands the socket to an in-process midge broker. --psk/--psk-identity:
// against Debian's mosquitto with a TLS-PSK listener, side by side with mosquitto_pub.
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {AddressInfo} from 'node:net'
import {createServer, type Server, type TLSSocket} from 'node:tls'
import {after, before, describe, it} from 'node:test'
import {createBroker, type Broker} from '../../src/index.js'
import {makeTestPki, type TestPki} from '../helpers/certs.js'
import {runMidge} from '../helpers/cli.js'
import {hasMosquitto, startMosquitto, type Mosquitto} from '../helpers/mosquitto.js'

describe('TLS flags', () => {
  let pki: TestPki
  let broker: Broker
  let server: Server
  let port: number
  const negotiated: Array<string | false | null> = []

  before(async () => {
    pki = makeTestPki()
    broker = createBroker()
    server = createServer({key: pki.server.key, cert: pki.server.cert, ALPNProtocols: ['mqtt', 'x-other']}, (socket: TLSSocket) => {
      negotiated.push(socket.alpnProtocol)
      broker.handle(socket, socket.remoteAddress)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await broker.close()
    rmSync(pki.dir, {recursive: true, force: true})
  })
  const tls = () => ['-h', 'localhost', '-p', String(port), '--cafile', pki.ca.certPath]

  it('--tls-alpn offers the protocol in the handshake; without it none is negotiated', async () => {
    const withAlpn = await runMidge(['pub', ...tls(), '--tls-alpn', 'mqtt', '-t', 'a', '-m', 'x', '-q', '1'])
    assert.equal(withAlpn.code, 0, withAlpn.stderr)
    assert.equal(negotiated.at(-1), 'mqtt')
    const other = await runMidge(['sub', ...tls(), '--tls-alpn', 'x-other', '-t', 'a', '-E'])
    assert.equal(other.code, 0, other.stderr)
    assert.equal(negotiated.at(-1), 'x-other')
    const without = await runMidge(['pub', ...tls(), '-t', 'a', '-m', 'x'])
    assert.equal(without.code, 0, without.stderr)
    assert.equal(negotiated.at(-1), false)
  })

  it('--tls-use-os-certs: the public CAs do not vouch for our test CA (exit 11); with --cafile both are trusted', async () => {
    const alone = await runMidge(['pub', '-h', 'localhost', '-p', String(port), '--tls-use-os-certs', '-t', 'a', '-m', 'x'])
    assert.equal(alone.code, 11, alone.stderr)
    assert.match(alone.stderr, /^midge pub: cannot connect to localhost:\d+: .+\n$/)
    const both = await runMidge(['pub', ...tls(), '--tls-use-os-certs', '-t', 'a', '-m', 'x'])
    assert.equal(both.code, 0, both.stderr)
  })
})

describe('TLS-PSK (--psk, --psk-identity) against mosquitto', {skip: !hasMosquitto()}, () => {
  let m: Mosquitto
  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-psk-'))
    writeFileSync(join(dir, 'psk'), 'alice:deadbeef01\n')
    m = await startMosquitto({config: ['psk_hint midge-test', `psk_file ${join(dir, 'psk')}`]})
  })
  after(async () => {
    await m.stop()
    rmSync(dir, {recursive: true, force: true})
  })
  const conn = () => ['-h', '127.0.0.1', '-p', String(m.port)]

  it('pub and sub connect with the key and identity, as mosquitto_pub does', async () => {
    const pub = await runMidge(['pub', ...conn(), '--psk', 'deadbeef01', '--psk-identity', 'alice', '-t', 'psk/t', '-m', 'over psk', '-r', '-q', '1'])
    assert.equal(pub.code, 0, pub.stderr)
    const sub = await runMidge(['sub', ...conn(), '--psk', 'DEADBEEF01', '--psk-identity', 'alice', '-t', 'psk/t', '-C', '1', '-W', '20'])
    assert.equal(sub.code, 0, sub.stderr)
    assert.equal(sub.stdout, 'over psk\n')
    const theirs = await new Promise<number>((resolve) => {
      execFile('mosquitto_pub', [...conn(), '--psk', 'deadbeef01', '--psk-identity', 'alice', '-t', 'psk/t', '-n', '-r'], (e) => resolve(e ? Number(e.code) : 0))
    })
    assert.equal(theirs, 0)
  })

  it('a wrong key: exit 11 with one line', async () => {
    const res = await runMidge(['pub', ...conn(), '--psk', 'deadbeef02', '--psk-identity', 'alice', '-t', 'psk/t', '-m', 'x'])
    assert.equal(res.code, 11, res.stderr)
    assert.match(res.stderr, /^midge pub: cannot connect to 127\.0\.0\.1:\d+: .+\n$/)
  })

  for (const [what, args, message] of [
    ['--psk without --psk-identity', ['--psk', 'aa'], /psk-identity/],
    ['--psk with --cafile', ['--psk', 'aa', '--psk-identity', 'x', '--cafile', '/dev/null'], /--(psk|cafile)/],
    ['a key that is not hexadecimal', ['--psk', 'xyz', '--psk-identity', 'x'], /--psk: 'xyz' is not a key in hexadecimal/],
  ] as const) {
    it(`exit 2 with one line: ${what}`, async () => {
      const res = await runMidge(['pub', ...conn(), ...args, '-t', 'a', '-m', 'x'])
      assert.equal(res.code, 2, res.stderr)
      assert.match(res.stderr, message)
      assert.equal(res.stderr.trim().split('\n').length, 1)
    })
  }
})
