import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  FrameReader, decodeChallenge, decodeHello, decodeProof, encodeChallenge, encodeHello, encodeProof, frame, frameHeader, handshakeMac,
  isReady, macMatches, nonce, READY_FRAME,
} from '../../src/cluster/link-wire.js'
import {parseAdvertise, parseLinkListen} from '../../src/cluster/link-address.js'

/** The frames a reader makes of `chunks`. */
function read(chunks: Buffer[], max = 1 << 20): string[] {
  const reader = new FrameReader(max)
  const out: string[] = []
  for (const c of chunks) reader.push(c, (f) => out.push(f.toString()))
  return out
}

describe('cluster links: framing', () => {
  const stream = Buffer.concat([frame(Buffer.from('one')), frame(Buffer.alloc(0)), frameHeader(5), Buffer.from('three')])

  it('cuts whole frames out of one chunk, empty ones included', () => {
    assert.deepEqual(read([stream]), ['one', '', 'three'])
  })

  it('joins frames split anywhere over chunks, one byte at a time included', () => {
    for (let cut = 0; cut <= stream.length; cut++) assert.deepEqual(read([stream.subarray(0, cut), stream.subarray(cut)]), ['one', '', 'three'], `cut at ${cut}`)
    assert.deepEqual(read([...stream].map((b) => Buffer.from([b]))), ['one', '', 'three'])
  })

  it('refuses a frame longer than its limit, before reading its body', () => {
    assert.throws(() => read([frameHeader(513)], 512), /513 bytes/)
    assert.throws(() => read([Buffer.from('GET / HTTP/1.1\r\n')], 512), /at most 512/)
  })
})

describe('cluster links: handshake', () => {
  const hello = {from: 'a', to: 'b', nonce: nonce()}

  it('round-trips its frames', () => {
    const h = decodeHello(encodeHello(hello).subarray(4))
    assert.deepEqual(h, hello)
    const n = nonce()
    const mac = handshakeMac('s', 'listener', hello, n)
    assert.deepEqual(decodeChallenge(encodeChallenge(n, mac).subarray(4)), {nonce: n, mac})
    assert.deepEqual(decodeProof(encodeProof(mac).subarray(4)), mac)
    assert.ok(isReady(READY_FRAME.subarray(4)))
  })

  it('refuses what is not a handshake', () => {
    assert.throws(() => decodeHello(Buffer.from('hello')), /not a link handshake/)
    assert.throws(() => decodeHello(encodeHello(hello).subarray(4, 20)), /malformed/)
    assert.throws(() => decodeChallenge(Buffer.from([2, 1, 2])), /malformed/)
    assert.throws(() => decodeProof(Buffer.from([3])), /malformed/)
  })

  it('proves the secret differently per role, nonce, id and secret', () => {
    const n = nonce()
    const mac = handshakeMac('secret', 'dialer', hello, n)
    assert.ok(macMatches(mac, handshakeMac('secret', 'dialer', hello, n)))
    assert.ok(!macMatches(mac, handshakeMac('secret', 'listener', hello, n)), 'role')
    assert.ok(!macMatches(mac, handshakeMac('other', 'dialer', hello, n)), 'secret')
    assert.ok(!macMatches(mac, handshakeMac('secret', 'dialer', {...hello, to: 'c'}, n)), 'node id')
    assert.ok(!macMatches(mac, handshakeMac('secret', 'dialer', hello, nonce())), 'nonce')
    assert.ok(!macMatches(mac, mac.subarray(1)), 'length')
  })
})

describe('cluster links: addresses', () => {
  it('reads --cluster-link [HOST:]PORT', () => {
    assert.deepEqual(parseLinkListen('7000'), {host: '127.0.0.1', port: 7000})
    assert.deepEqual(parseLinkListen('0.0.0.0:0'), {host: '0.0.0.0', port: 0})
    assert.deepEqual(parseLinkListen('[::1]:7000'), {host: '::1', port: 7000})
    for (const bad of ['', 'host', 'host:', ':7000', '70000', 'h:7x']) assert.throws(() => parseLinkListen(bad), Error, bad)
  })

  it('reads --cluster-advertise HOST[:PORT]', () => {
    assert.deepEqual(parseAdvertise('10.0.0.5'), {host: '10.0.0.5'})
    assert.deepEqual(parseAdvertise('node-1.lan:7001'), {host: 'node-1.lan', port: 7001})
    assert.deepEqual(parseAdvertise('fe80::1'), {host: 'fe80::1'})
    assert.deepEqual(parseAdvertise('[fe80::1]:7001'), {host: 'fe80::1', port: 7001})
    for (const bad of ['', '7000', 'h:99999']) assert.throws(() => parseAdvertise(bad), Error, bad)
  })
})
