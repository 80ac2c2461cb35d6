// splitAtSessions: a node's rewrite after a Redis outage is sent as one transaction per N sessions,
// each part holding whole sessions (a session's record and the rows after it).
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {splitAtSessions} from '../../src/cluster/redis-transaction.js'
import {OpKind, type WriteOp} from '../../src/broker/store/write-ops.js'

const session = (c: string): WriteOp => ({k: OpKind.PutSession, cancelled: false, session: {clientId: c} as never})
const sub = (c: string): WriteOp => ({k: OpKind.PutSubscription, clientId: c, filter: 'a/#', options: {qos: 1} as never})
const names = (parts: WriteOp[][]): string[][] => parts.map((p) => p.map((op) => op.k === OpKind.PutSession ? op.session.clientId : `${(op as {clientId: string}).clientId}.sub`))

describe('splitAtSessions', () => {
  const ops = ['a', 'b', 'c', 'd', 'e'].flatMap((c) => [session(c), sub(c)])
  for (const [perPart, expected] of [
    [1, [['a', 'a.sub'], ['b', 'b.sub'], ['c', 'c.sub'], ['d', 'd.sub'], ['e', 'e.sub']]],
    [2, [['a', 'a.sub', 'b', 'b.sub'], ['c', 'c.sub', 'd', 'd.sub'], ['e', 'e.sub']]],
    [5, [ops.map((op) => op.k === OpKind.PutSession ? op.session.clientId : `${(op as {clientId: string}).clientId}.sub`)]],
    [500, [['a', 'a.sub', 'b', 'b.sub', 'c', 'c.sub', 'd', 'd.sub', 'e', 'e.sub']]],
  ] as Array<[number, string[][]]>) {
    it(`${perPart} session(s) per part`, () => assert.deepEqual(names(splitAtSessions(ops, perPart)), expected))
  }
  it('keeps rows before the first session record in the first part, and gives nothing for nothing', () => {
    assert.deepEqual(names(splitAtSessions([sub('x'), session('a'), session('b')], 1)), [['x.sub', 'a'], ['b']])
    assert.deepEqual(splitAtSessions([], 3), [])
  })
})
