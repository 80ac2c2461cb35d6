import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {prefixCount, random} from '../helpers/random.js'

import {matches} from '../../src/codec/topic.js'
import {TopicTree} from '../../src/broker/topic-tree.js'

function visited<T>(tree: TopicTree<T>, topic: string): string[] {
  const out: string[] = []
  tree.forEachMatch(topic, (value, key) => out.push(`${key}=${String(value)}`))
  return out.sort()
}

describe('TopicTree.forEachMatch', () => {
  const tree = new TopicTree<string>()
  const subs: Array<[string, string]> = [
    ['sport/tennis/player1', 'exact'], ['sport/tennis/+', 'plus'], ['sport/#', 'hash'], ['#', 'all'],
    ['+/tennis/#', 'lead'], ['sport/+/player1', 'mid'], ['/+', 'root-empty'], ['+/+', 'two'],
    ['$SYS/#', 'sys'], ['$SYS/+', 'sys-plus'], ['a//b', 'empty'], ['a/+/b', 'empty-plus'], ['a/', 'trail'],
  ]
  for (const [filter, key] of subs) tree.add(filter, key, filter)
  const cases: Array<[string, string[]]> = [
    ['sport/tennis/player1', ['all', 'exact', 'hash', 'lead', 'mid', 'plus']],
    ['sport/tennis', ['all', 'hash', 'lead', 'two']],
    ['sport', ['all', 'hash']],
    ['sport/', ['all', 'hash', 'two']],
    ['/finance', ['all', 'root-empty', 'two']],
    ['finance', ['all']],
    ['$SYS/broker', ['sys', 'sys-plus']],
    ['$SYS', ['sys']],
    ['$other/tennis', []],
    ['a//b', ['all', 'empty', 'empty-plus']],
    ['a/x/b', ['all', 'empty-plus']],
    ['a/', ['all', 'trail', 'two']],
    ['x/tennis', ['all', 'lead', 'two']],
  ]
  for (const [topic, keys] of cases) {
    test(JSON.stringify(topic), () => {
      const expected = keys.map((k) => `${k}=${subs.find(([, key]) => key === k)![0]}`).sort()
      assert.deepEqual(visited(tree, topic), expected)
      // the table agrees with the reference matcher
      assert.deepEqual(subs.filter(([f]) => matches(f, topic)).map(([, k]) => k).sort(), keys)
    })
  }
})

describe('TopicTree entries', () => {
  test('add, replace, get and size', () => {
    const tree = new TopicTree<number>()
    assert.equal(tree.add('a/+', 'c1', 1), true)
    assert.equal(tree.add('a/+', 'c2', 2), true)
    assert.equal(tree.add('a/#', 'c1', 3), true)
    assert.equal(tree.size, 3)
    assert.equal(tree.add('a/+', 'c1', 4), false, 'same filter and key replaces')
    assert.equal(tree.size, 3)
    assert.equal(tree.get('a/+', 'c1'), 4)
    assert.equal(tree.get('a/#', 'c1'), 3)
    assert.equal(tree.get('a/+', 'c3'), undefined)
    assert.equal(tree.get('a/b', 'c1'), undefined, "'+' in a filter is not a literal level")
    assert.deepEqual(visited(tree, 'a/b'), ['c1=3', 'c1=4', 'c2=2'], 'one visit per matching filter')
  })

  test('remove returns whether the entry existed and prunes empty nodes', () => {
    const tree = new TopicTree<number>()
    tree.add('a/b/c', 'k', 1)
    tree.add('a/+/#', 'k', 2)
    tree.add('a', 'k', 3)
    assert.equal(tree.nodeCount, 5)
    assert.equal(tree.remove('a/b/c', 'other'), false)
    assert.equal(tree.remove('a/b', 'k'), false, 'an inner node holds no entry')
    assert.equal(tree.remove('x/y', 'k'), false)
    assert.equal(tree.remove('a/b/c', 'k'), true)
    assert.equal(tree.remove('a/b/c', 'k'), false, 'already removed')
    assert.equal(tree.nodeCount, 3, 'a/b and a/b/c pruned; a, a/+, a/+/# kept')
    assert.deepEqual(visited(tree, 'a/b/c'), ['k=2'])
    assert.equal(tree.remove('a/+/#', 'k'), true)
    assert.equal(tree.nodeCount, 1, 'a still holds an entry')
    assert.equal(tree.remove('a', 'k'), true)
    assert.equal(tree.nodeCount, 0)
    assert.equal(tree.size, 0)
    assert.deepEqual(visited(tree, 'a'), [])
  })

  test('a visit may re-enter forEachMatch and mutate the tree; a throwing visit leaves it usable', () => {
    const tree = new TopicTree<string>()
    tree.add('a/+', 'outer', 'x')
    tree.add('a/b', 'other', 'y')
    const seen: string[] = []
    tree.forEachMatch('a/b', (_, key) => {
      seen.push(key)
      if (key === 'outer') tree.forEachMatch('a/c', (__, inner) => seen.push(`inner:${inner}`))
    })
    assert.deepEqual(seen.sort(), ['inner:outer', 'other', 'outer'])
    assert.throws(() => tree.forEachMatch('a/b', () => {
      throw new Error('boom')
    }), /boom/)
    tree.forEachMatch('a/b', (_, key) => tree.remove('a/b', key))
    assert.deepEqual(visited(tree, 'a/b'), ['outer=x'])
  })

  test('filters and topics of tens of thousands of levels do not overflow the stack', () => {
    const tree = new TopicTree<number>()
    const depth = 30_000
    const filter = Array(depth).fill('+').join('/')
    const topic = Array(depth).fill('x').join('/')
    tree.add(filter, 'deep', 1)
    tree.add(topic, 'literal', 2)
    tree.add(`${topic}/#`, 'hash', 3)
    assert.deepEqual(visited(tree, topic), ['deep=1', 'hash=3', 'literal=2'])
    assert.deepEqual(visited(tree, `${topic}/y`), ['hash=3'])
    assert.equal(tree.remove(filter, 'deep'), true)
    assert.equal(tree.nodeCount, depth + 1)
  })
})

test('forEachMatch agrees with matches() under random add/remove/replace', () => {
  const seed = 0x5eed
  const rnd = random(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const levels = ['a', 'b', '$s', '', 'a$']
  const randomTopic = () => Array.from({length: 1 + Math.floor(rnd() * 4)}, () => pick(levels)).join('/')
  const randomFilter = () => {
    const parts = Array.from({length: 1 + Math.floor(rnd() * 4)}, () => (rnd() < 0.3 ? '+' : pick(levels)))
    if (rnd() < 0.25) parts[parts.length - 1] = '#'
    return parts.join('/')
  }
  const tree = new TopicTree<number>()
  const model = new Map<string, {filter: string; key: string; value: number}>()
  let matched = 0
  let dollarMatched = 0
  for (let step = 0; step < 10_000; step++) {
    const filter = randomFilter()
    const key = pick(['k0', 'k1', 'k2'])
    const id = `${filter}\u0000${key}`
    const op = rnd()
    if (op < 0.5) {
      const value = step
      assert.equal(tree.add(filter, key, value), !model.has(id), `seed ${seed} step ${step}: add ${id}`)
      model.set(id, {filter, key, value})
    } else if (op < 0.8) {
      assert.equal(tree.remove(filter, key), model.delete(id), `seed ${seed} step ${step}: remove ${id}`)
    } else {
      assert.equal(tree.get(filter, key), model.get(id)?.value, `seed ${seed} step ${step}: get ${id}`)
    }
    assert.equal(tree.size, model.size)
    if (step % 5 === 0) {
      const topic = randomTopic()
      const expected = [...model.values()].filter((e) => matches(e.filter, topic)).map((e) => `${e.key}=${e.value}`)
      assert.deepEqual(visited(tree, topic), expected.sort(), `seed ${seed} step ${step}: topic ${topic}`)
      matched += expected.length
      if (topic.startsWith('$')) dollarMatched += expected.length
    }
    if (step % 500 === 0) {
      assert.equal(tree.nodeCount, prefixCount([...model.values()].map((e) => e.filter)), `seed ${seed} step ${step}: pruning`)
    }
  }
  assert.ok(model.size > 20 && matched > 1000 && dollarMatched > 20, `exercised (${model.size}, ${matched}, ${dollarMatched})`)
  for (const e of model.values()) assert.equal(tree.remove(e.filter, e.key), true)
  assert.equal(tree.size, 0)
  assert.equal(tree.nodeCount, 0, 'removing everything prunes every node')
})
