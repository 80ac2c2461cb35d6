import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {Arrival, RING, SequenceTracker} from '../../src/bench/tracker.js'

function feed(t: SequenceTracker, stream: number, seqs: number[]): number[] {
  return seqs.map((s) => t.record(stream, s))
}

describe('bench loss, duplicate and reorder accounting', () => {
  test('in-order delivery: everything new, no gaps', () => {
    const t = new SequenceTracker()
    assert.deepEqual(feed(t, 1, [0, 1, 2, 3]), [Arrival.New, Arrival.New, Arrival.New, Arrival.New])
    assert.equal(t.received, 4)
    assert.equal(t.unique, 4)
    assert.equal(t.duplicates, 0)
    assert.equal(t.reordered, 0)
    assert.equal(t.gaps(), 0)
  })

  test('a duplicate of an in-order message (no gap seen yet)', () => {
    const t = new SequenceTracker()
    assert.deepEqual(feed(t, 1, [0, 1, 2, 1]), [Arrival.New, Arrival.New, Arrival.New, Arrival.Duplicate])
    assert.equal(t.duplicates, 1)
    assert.equal(t.unique, 3)
  })

  test('gaps count as missing until the message arrives late (reordered)', () => {
    const t = new SequenceTracker()
    feed(t, 1, [0, 1, 4, 5])
    assert.equal(t.gaps(), 2)
    assert.equal(t.record(1, 2), Arrival.Reordered)
    assert.equal(t.gaps(), 1)
    assert.equal(t.record(1, 2), Arrival.Duplicate)
    assert.equal(t.record(1, 3), Arrival.Reordered)
    assert.equal(t.gaps(), 0)
    assert.equal(t.reordered, 2)
    assert.equal(t.duplicates, 1)
    assert.equal(t.unique, 6)
  })

  test('duplicates below the first gap and inside the ring are both recognised', () => {
    const t = new SequenceTracker()
    feed(t, 1, [0, 1, 2, 10, 11])
    assert.equal(t.record(1, 1), Arrival.Duplicate) // below the gap
    assert.equal(t.record(1, 10), Arrival.Duplicate) // after it, in the ring
    assert.equal(t.record(1, 11), Arrival.Duplicate)
    assert.equal(t.duplicates, 3)
  })

  test('streams are independent; the first number seen is where a stream starts', () => {
    const t = new SequenceTracker()
    feed(t, 1, [100, 101, 102])
    feed(t, 2, [0, 2])
    assert.equal(t.streamCount, 2)
    assert.equal(t.gaps(), 1)
    assert.deepEqual([...t.uniqueByStream()], [[1, 3], [2, 2]])
  })

  test('a message older than the ring is counted as reordered and late', () => {
    const t = new SequenceTracker()
    t.record(1, 0)
    t.record(1, 2)
    t.record(1, RING + 10)
    assert.equal(t.record(1, 1), Arrival.Reordered)
    assert.equal(t.late, 1)
  })

  test('interleaved loss, duplicates and reordering over many messages', () => {
    const t = new SequenceTracker()
    const sent = 10_000
    const order: number[] = []
    for (let s = 0; s < sent; s++) {
      if (s % 100 === 7) continue // lost
      if (s % 50 === 3) order.push(s, s) // duplicated
      else if (s % 10 === 5 && s + 1 < sent) { order.push(s + 1, s); s++ } // swapped pair
      else order.push(s)
    }
    for (const s of order) t.record(9, s)
    const lost = Array.from({length: sent}, (_, s) => s).filter((s) => s % 100 === 7).length
    const lastSeen = Math.max(...order)
    assert.equal(t.duplicates, Array.from({length: sent}, (_, s) => s).filter((s) => s % 50 === 3 && s % 100 !== 7).length)
    assert.equal(t.unique, order.length - t.duplicates)
    assert.equal(t.gaps(), lastSeen + 1 - t.unique)
    assert.equal(t.gaps(), lost - (sent - 1 - lastSeen))
    assert.ok(t.reordered > 0)
  })
})
