import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {PacketIdAllocator} from '../../src/codec/index.js'
import {InflightWindow} from '../../src/client/inflight.js'

describe('PacketIdAllocator', () => {
  test('allocates 1, 2, 3 ... round-robin and wraps from 65535 to 1', () => {
    const ids = new PacketIdAllocator()
    assert.deepEqual([ids.allocate(), ids.allocate(), ids.allocate()], [1, 2, 3])
    ids.release(1)
    assert.equal(ids.allocate(), 4, 'continues after the last id rather than reusing a released one')
    for (let id = 5; id <= 65535; id++) ids.release(ids.allocate()!)
    assert.equal(ids.allocate(), 1, 'wraps to 1, never 0')
    assert.equal(ids.allocate(), 5, 'skips 2, 3 and 4, still in use')
    assert.equal(ids.inUse, 5)
  })

  test('never hands out an id in use, and returns undefined once all 65535 are', () => {
    const ids = new PacketIdAllocator()
    const seen = new Set<number>()
    for (let i = 0; i < 65535; i++) {
      const id = ids.allocate()
      assert.ok(id !== undefined && id >= 1 && id <= 65535 && !seen.has(id), `allocation ${i} gave ${id}`)
      seen.add(id)
    }
    assert.equal(ids.inUse, 65535)
    assert.equal(ids.allocate(), undefined)
    assert.equal(ids.release(40000), true)
    assert.equal(ids.isInUse(40000), false)
    assert.equal(ids.allocate(), 40000, 'the only free id')
    assert.equal(ids.allocate(), undefined)
  })

  test('register marks restored ids in use, once', () => {
    const ids = new PacketIdAllocator()
    assert.equal(ids.register(2), true)
    assert.equal(ids.register(2), false)
    assert.equal(ids.register(65535), true)
    assert.equal(ids.isInUse(2), true)
    assert.deepEqual([ids.allocate(), ids.allocate()], [1, 3])
    assert.equal(ids.inUse, 4)
    for (const bad of [0, -1, 65536, 1.5, Number.NaN]) assert.throws(() => ids.register(bad), RangeError)
  })

  test('release and clear make ids available again', () => {
    const ids = new PacketIdAllocator()
    const a = ids.allocate()!
    assert.equal(ids.release(a), true)
    assert.equal(ids.release(a), false, 'not in use any more')
    assert.equal(ids.isInUse(a), false)
    assert.equal(ids.register(a), true)
    ids.allocate()
    ids.clear()
    assert.equal(ids.inUse, 0)
    assert.equal(ids.isInUse(a), false)
    assert.equal(ids.allocate(), 3, 'continues after the last id handed out')
  })

  test('random allocate/release never yields an id already in use', () => {
    const ids = new PacketIdAllocator()
    const live: number[] = [] // ids in use, oldest first (released mostly among the oldest)
    const model = new Set<number>()
    let seed = 7
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296)
    for (let step = 0; step < 200_000; step++) {
      if (rnd() < 0.55) {
        const id = ids.allocate()
        assert.ok(id !== undefined && !model.has(id), `step ${step}: ${id}`)
        model.add(id)
        live.push(id)
      } else if (live.length > 0) {
        const i = Math.floor(rnd() * Math.min(live.length, 8))
        const id = live[i]!
        live[i] = live[live.length - 1]!
        live.pop()
        assert.equal(ids.release(id), true)
        model.delete(id)
      }
    }
    assert.equal(ids.inUse, model.size)
    assert.ok(model.size > 1000, 'the window grew enough to wrap around ids still in use')
  })
})

describe('the client\'s InflightWindow takes its ids from the same allocator', () => {
  const noop = () => undefined
  const pending = () => ({qos: 1 as const, released: false, resolve: noop, reject: noop})
  const request = () => ({cmd: 'subscribe' as const, resolve: noop, reject: noop})

  test('publishes and SUBSCRIBEs share one id space; a settled id is not handed out again at once', () => {
    const window = new InflightWindow(10)
    assert.equal(window.acquire(), undefined)
    const a = window.add(pending())
    const b = window.addRequest(request())
    assert.deepEqual([a, b], [1, 2])
    window.settle(a, {reasonCode: 0})
    assert.ok(window.takeRequest(b))
    assert.equal(window.takeRequest(b), undefined, 'taken once')
    assert.equal(window.addRequest(request()), 3, 'continues after the last id rather than reusing 1 or 2')
  })

  test('an id in use is skipped after wrapping; failAll frees them all', () => {
    const window = new InflightWindow(65_535)
    assert.equal(window.acquire(), undefined)
    const held = window.add(pending()) // 1, kept in flight
    for (let i = 2; i <= 65_535; i++) {
      const id = window.addRequest(request())
      assert.equal(id, i)
      window.takeRequest(id)
    }
    assert.equal(window.addRequest(request()), 2, 'wraps to 1, which is in use, so 2')
    assert.equal(held, 1)
    window.failAll(new Error('gone'))
    assert.equal(window.size, 0)
    assert.equal(window.addRequest(request()), 3)
  })
})
