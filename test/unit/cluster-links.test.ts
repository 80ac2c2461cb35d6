// NodeLinks in one process, over loopback: the handshake, frames in order, and what a wrong secret does.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {connect, createServer, type Socket} from 'node:net'
import {after, describe, it} from 'node:test'
import type {Logger} from '../../src/broker/logger.js'
import {MAX_UNSENT, NodeLinks, SHED_QOS0, type LinkAddress} from '../../src/cluster/links.js'
import {FrameReader, READY_FRAME, decodeHello, encodeChallenge, handshakeMac, nonce, type Hello} from '../../src/cluster/link-wire.js'

function recorder(): Logger & {lines: string[]} {
  const lines: string[] = []
  const keep = (_: object, msg?: string) => { if (msg !== undefined) lines.push(msg) }
  return {lines, trace: keep, debug: keep, info: keep, warn: keep, error: keep}
}

async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 10))
}

describe('cluster links: two nodes in one process', () => {
  const addresses = new Map<string, LinkAddress>()
  const made: NodeLinks[] = []
  after(() => { for (const l of made) l.close() })

  async function links(id: string, secret: string, received: Buffer[] = []): Promise<NodeLinks & {log: ReturnType<typeof recorder>}> {
    const log = recorder()
    const l = new NodeLinks({id, listen: {host: '127.0.0.1', port: 0}, logger: log, address: async (n) => addresses.get(n),
      received: (b) => received.push(Buffer.from(b))})
    l.secret = secret
    made.push(l)
    addresses.set(id, (await l.listen())!)
    return Object.assign(l, {log})
  }

  it('sends nothing before the link is up, then frames in order', async () => {
    const got: Buffer[] = []
    const a = await links('a', 's3cret')
    await links('b', 's3cret', got)
    assert.equal(a.send('b', Buffer.from('early')), false)
    a.want('b')
    await until(() => a.up === 1)
    for (let i = 0; i < 100; i++) assert.equal(a.send('b', Buffer.from(`frame ${i}`)), true)
    await until(() => got.length === 100)
    assert.deepEqual(got.map(String), Array.from({length: 100}, (_, i) => `frame ${i}`))
    assert.equal(a.counts.link, 100)
    a.drop('b')
    assert.equal(a.up, 0)
    assert.equal(a.send('b', Buffer.from('late')), false)
  })

  it('holds at most 32 connections in their handshake: more are closed at once', async () => {
    const e = await links('e', 's')
    const port = addresses.get('e')!.port
    const sockets = Array.from({length: 40}, () => connect(port, '127.0.0.1').on('error', () => undefined))
    let closed = 0
    await new Promise<void>((resolve) => { for (const s of sockets) s.on('close', () => { if (++closed === 8) resolve() }) })
    assert.ok(e.counts.refused >= 8, String(e.counts.refused))
    for (const s of sockets) s.destroy()
  })

  it('a node that stops reading: past 8 MiB unsent a QoS 0 batch goes as its number alone, past 32 MiB the link is closed', async () => {
    // a listener that completes the handshake with the right secret, then reads nothing more
    const accepted: Socket[] = []
    const server = createServer((socket) => {
      accepted.push(socket)
      socket.on('error', () => undefined)
      const reader = new FrameReader(512)
      let hello: Hello | undefined
      socket.on('data', (chunk: Buffer) => reader.push(chunk, (body) => {
        if (hello !== undefined) return void socket.pause() // the proof: from now on nothing is read
        hello = decodeHello(body)
        const mine = nonce()
        socket.write(Buffer.concat([encodeChallenge(mine, handshakeMac('s', 'listener', hello, mine)), READY_FRAME]))
      }))
    }).listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      addresses.set('stalled', {host: '127.0.0.1', port: (server.address() as {port: number}).port})
      const a = await links('filler', 's')
      a.want('stalled')
      await until(() => a.up === 1)
      const batch = Buffer.alloc(1 << 20)
      const numberOnly = Buffer.alloc(16)
      // QoS 0 batches (their number-only form given) until the link holds past SHED_QOS0
      for (let i = 0; a.counts.shed === 0; i++) {
        assert.ok(i < (SHED_QOS0 >> 20) + 64, 'a QoS 0 batch was shed before the kernel buffers and 8 MiB more were full')
        assert.equal(a.send('stalled', batch, numberOnly), true)
      }
      const sent = a.counts.link
      assert.equal(a.send('stalled', batch, numberOnly), true, 'past 8 MiB a QoS 0 batch still goes, as its number')
      assert.equal(a.counts.shed, 2)
      // batches with QoS 1/2 messages (no number-only form) are never shed: they fill it up to MAX_UNSENT
      let refused = false
      for (let i = 0; !refused; i++) {
        assert.ok(i < (MAX_UNSENT >> 20) + 64, 'the link was closed past 32 MiB unsent')
        refused = !a.send('stalled', batch)
      }
      assert.ok(a.counts.link - sent >= ((MAX_UNSENT - SHED_QOS0) >> 20) - 1, 'batches that cannot be shed are kept until 32 MiB')
      assert.ok(a.log.lines.some((l) => l.includes('reads its link too slowly')), a.log.lines.join('\n'))
      a.drop('stalled')
    } finally {
      for (const s of accepted) s.destroy()
      server.close()
    }
  })

  it('a node with another secret is not linked to, and the log says why', async () => {
    const c = await links('c', 'one secret')
    await links('d', 'another secret')
    c.want('d')
    await until(() => c.log.lines.some((l) => l.includes('did not prove the cluster secret')))
    assert.equal(c.up, 0)
    assert.equal(c.send('d', Buffer.from('x')), false)
    c.drop('d')
  })
})
