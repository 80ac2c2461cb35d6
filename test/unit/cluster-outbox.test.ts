import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {NodeOutbox} from '../../src/cluster/outbox.js'
import {forEachNodeMessage} from '../../src/cluster/wire.js'

/**
 * What reached each node, as the messages' bytes in order (batches unpacked), and how many Redis
 * messages. Redis answers each PUBLISH at once, unless `held`: then its answers wait in `answers`
 * (resolve or reject) until the test gives them.
 */
function recorder(held = false): {outbox: NodeOutbox; got: Map<string, string[]>; sends: () => number; answers: Array<{resolve: () => void; reject: () => void}>} {
  const got = new Map<string, string[]>()
  const answers: Array<{resolve: () => void; reject: () => void}> = []
  let sends = 0
  const outbox = new NodeOutbox((node, bytes) => {
    sends++
    const list = got.get(node) ?? []
    forEachNodeMessage(bytes, (m) => list.push(m.toString()))
    got.set(node, list)
    if (!held) return Promise.resolve(1)
    return new Promise((resolve, reject) => answers.push({resolve: () => resolve(1), reject: () => reject(new Error('Connection is closed.'))}))
  })
  return {outbox, got, sends: () => sends, answers}
}

// forEachNodeMessage reads a single message as it is unless its first byte is 2 (a batch): 'm' is not
const msg = (s: string) => Buffer.from(`m${s}`)
const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('cluster outbox', () => {
  it('sends the messages of one turn as one Redis message per node, in order', async () => {
    const {outbox, got, sends} = recorder()
    for (let i = 0; i < 5; i++) outbox.add('b', msg(String(i)))
    outbox.add('c', msg('only'))
    assert.equal(sends(), 0, 'nothing before the turn ends')
    await turn()
    assert.equal(sends(), 2)
    assert.deepEqual(Object.fromEntries(got), {b: ['m0', 'm1', 'm2', 'm3', 'm4'], c: ['monly']})
    outbox.add('b', msg('next'))
    await turn()
    assert.equal(sends(), 3)
    assert.deepEqual(got.get('b')?.at(-1), 'mnext')
  })

  it('sends a node\'s batch at once when it reaches 256 KiB, keeping the order', async () => {
    const {outbox, got, sends} = recorder()
    const big = 'x'.repeat(100 * 1024)
    outbox.add('b', msg(`1${big}`))
    outbox.add('b', msg(`2${big}`))
    assert.equal(sends(), 0)
    outbox.add('b', msg(`3${big}`))
    assert.equal(sends(), 1, 'sent within the turn')
    outbox.add('b', msg('4'))
    await turn()
    assert.equal(sends(), 2)
    assert.deepEqual(got.get('b')?.map((m) => m.slice(0, 2)), ['m1', 'm2', 'm3', 'm4'])
  })

  it('flush() sends now; clear() drops what waits', async () => {
    const {outbox, got, sends} = recorder()
    outbox.add('b', msg('kept'))
    outbox.flush()
    assert.deepEqual(got.get('b'), ['mkept'])
    outbox.add('b', msg('dropped'))
    outbox.clear()
    await turn()
    assert.equal(sends(), 1)
    assert.deepEqual(got.get('b'), ['mkept'])
  })

  it('while a PUBLISH to a node is unanswered, gathers what follows and sends it as one batch once Redis answers', async () => {
    const {outbox, got, sends, answers} = recorder(true)
    outbox.add('b', msg('0'))
    await turn()
    assert.equal(sends(), 1, 'a lone message goes in its own turn')
    for (let i = 1; i <= 3; i++) {
      outbox.add('b', msg(String(i)))
      outbox.add('c', msg(`c${i}`))
      await turn()
    }
    assert.equal(sends(), 2, 'b waits for the answer; c, with nothing in flight, got its first batch')
    assert.deepEqual(got.get('c'), ['mc1'])
    assert.equal(outbox.waiting, 5, 'b: 1-3, c: 2-3')
    answers.shift()!.resolve() // b's
    await turn()
    await turn()
    assert.deepEqual(got.get('b'), ['m0', 'm1', 'm2', 'm3'])
    assert.equal(sends(), 3, 'b\'s three messages in one batch')
    answers.shift()!.resolve() // c's first
    await turn()
    await turn()
    assert.deepEqual(got.get('c'), ['mc1', 'mc2', 'mc3'])
    assert.equal(sends(), 4)
    assert.equal(outbox.waiting, 0)
  })

  it('a failed PUBLISH releases the next batch too; a batch that reaches 256 KiB does not wait', async () => {
    const {outbox, got, sends, answers} = recorder(true)
    outbox.add('b', msg('0'))
    await turn()
    outbox.add('b', msg('1'))
    answers.shift()!.reject()
    await turn()
    await turn()
    assert.deepEqual(got.get('b'), ['m0', 'm1'])
    const big = 'x'.repeat(100 * 1024)
    for (let i = 2; i <= 4; i++) outbox.add('b', msg(`${i}${big}`))
    assert.equal(sends(), 3, 'sent at 256 KiB though the previous PUBLISH is unanswered')
    assert.deepEqual(got.get('b')?.map((m) => m.slice(0, 2)), ['m0', 'm1', 'm2', 'm3', 'm4'])
  })

  it('clear() forgets what is in flight: a late answer sends nothing twice and holds nothing back', async () => {
    const {outbox, got, sends, answers} = recorder(true)
    outbox.add('b', msg('0'))
    await turn()
    outbox.add('b', msg('lost'))
    outbox.clear()
    outbox.add('b', msg('1'))
    await turn()
    assert.deepEqual(got.get('b'), ['m0', 'm1'], 'the new queue does not wait for the old PUBLISH')
    answers.shift()!.resolve()
    answers.shift()!.resolve()
    await turn()
    await turn()
    assert.equal(sends(), 2)
    assert.equal(outbox.waiting, 0)
  })
})
