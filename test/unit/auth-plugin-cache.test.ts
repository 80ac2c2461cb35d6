// The plugins' TTL cache (expiry on an injected clock, size bound, TTL 0) and how the HTTP backend
// reads a service's answer (status codes and the JSON forms of EMQX and mosquitto-go-auth).
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {TtlCache} from '../../src/broker/auth/plugins/cache.js'
import {interpret} from '../../src/broker/auth/plugins/http.js'

describe('TtlCache', () => {
  test('an entry lives for ttlMs, then is gone; hits and misses are counted', () => {
    let now = 1000
    const cache = new TtlCache<string>(500, 10, () => now)
    cache.set('a', 'allow')
    assert.equal(cache.get('a'), 'allow')
    now += 499
    assert.equal(cache.get('a'), 'allow')
    now += 1
    assert.equal(cache.get('a'), undefined)
    assert.equal(cache.size, 0)
    assert.deepEqual([cache.hits, cache.misses], [2, 1])
  })

  test('at most maxEntries: the oldest set goes first; setting again makes an entry young', () => {
    const cache = new TtlCache<number>(60_000, 2)
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('a', 3)
    cache.set('c', 4)
    assert.deepEqual(['a', 'b', 'c'].map((k) => cache.get(k)), [3, undefined, 4])
  })

  test('TTL 0 caches nothing; bad sizes are refused', () => {
    const cache = new TtlCache<number>(0)
    cache.set('a', 1)
    assert.equal(cache.get('a'), undefined)
    assert.throws(() => new TtlCache(-1), RangeError)
    assert.throws(() => new TtlCache(1, 0), RangeError)
  })
})

describe('HTTP backend answers', () => {
  const cases: Array<[number, string, string | undefined]> = [
    [200, '', 'allow'],
    [204, '', 'allow'],
    [200, 'OK', 'allow'],
    [200, '{"result":"allow"}', 'allow'],
    [200, '{"result":"deny"}', 'deny'],
    [200, '{"result":"ignore"}', 'ignore'],
    [200, '{"ok":false,"error":"no"}', 'deny'],
    [200, '{"ok":true}', 'allow'],
    [401, '', 'deny'],
    [403, '{"result":"allow"}', 'deny'],
    [404, '', 'deny'],
    [500, '', undefined],
    [503, '{"result":"allow"}', undefined],
    [302, '', undefined],
  ]
  for (const [status, body, expected] of cases) {
    test(`${status} ${body || '(empty)'} -> ${expected ?? 'a failure'}`, () => assert.equal(interpret(status, body), expected))
  }
})
