// NodeLinks in one process, over loopback: the handshake, frames in order, and what a wrong secret does.
import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {after, describe, it} from 'node:test'
import type {Logger} from '../../src/broker/logger.js'
import {NodeLinks, type LinkAddress} from '../../src/cluster/links.js'

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
