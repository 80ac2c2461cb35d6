import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {NodeOutbox} from '../../src/cluster/outbox.js'

/** What reached each node, as the messages' bytes in order, and how many Redis messages. */
function recorder(): {outbox: NodeOutbox; got: Map<string, string[]>; sends: () => number} {
  const got = new Map<string, string[]>()
  let sends = 0
  const outbox = new NodeOutbox((node, encoded) => {
    sends++
    const list = got.get(node) ?? []
    for (const m of encoded) list.push(m.toString())
    got.set(node, list)
  })
  return {outbox, got, sends: () => sends}
}

const msg = (s: string) => Buffer.from(`m${s}`)
const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('cluster outbox', () => {
  it('sends the messages of one turn as one Redis message per node, in order', async () => {
    const {outbox, got, sends} = recorder()
    for (let i = 0; i < 5; i++) outbox.add('b', msg(String(i)), 0, undefined)
    outbox.add('c', msg('only'), 0, undefined)
    assert.equal(sends(), 0, 'nothing before the turn ends')
    await turn()
    assert.equal(sends(), 2)
    assert.deepEqual(Object.fromEntries(got), {b: ['m0', 'm1', 'm2', 'm3', 'm4'], c: ['monly']})
    outbox.add('b', msg('next'), 0, undefined)
    await turn()
    assert.equal(sends(), 3)
    assert.deepEqual(got.get('b')?.at(-1), 'mnext')
  })

  it('sends a node\'s batch at once when it reaches 256 KiB, keeping the order', async () => {
    const {outbox, got, sends} = recorder()
    const big = 'x'.repeat(100 * 1024)
    outbox.add('b', msg(`1${big}`), 0, undefined)
    outbox.add('b', msg(`2${big}`), 0, undefined)
    assert.equal(sends(), 0)
    outbox.add('b', msg(`3${big}`), 0, undefined)
    assert.equal(sends(), 1, 'sent within the turn')
    outbox.add('b', msg('4'), 0, undefined)
    await turn()
    assert.equal(sends(), 2)
    assert.deepEqual(got.get('b')?.map((m) => m.slice(0, 2)), ['m1', 'm2', 'm3', 'm4'])
  })

  it('flush() sends now; clear() drops what waits', async () => {
    const {outbox, got, sends} = recorder()
    outbox.add('b', msg('kept'), 0, undefined)
    outbox.flush()
    assert.deepEqual(got.get('b'), ['mkept'])
    outbox.add('b', msg('dropped'), 0, undefined)
    outbox.clear()
    await turn()
    assert.equal(sends(), 1)
    assert.deepEqual(got.get('b'), ['mkept'])
  })
})
