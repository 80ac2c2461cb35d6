import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {prefixCount, random} from '../helpers/random.js'

import {RetainedTree} from '../../src/broker/retained-tree.js'
import {matches} from '../../src/codec/topic.js'

function matching<T>(tree: RetainedTree<T>, filter: string): string[] {
  const out: string[] = []
  tree.forEachMatching(filter, (value, topic) => out.push(`${topic}=${String(value)}`))
  return out.sort()
}

describe('RetainedTree.forEachMatching', () => {
  const topics = ['sport', 'sport/tennis', 'sport/tennis/player1', 'sport/', '/finance', 'finance', '$SYS',
    '$SYS/broker', 'a//b', 'a/x/b', 'a/$x']
  const tree = new RetainedTree<number>()
  topics.forEach((t, i) => { tree.set(t, i) })
  const cases: Array<[string, string[]]> = [
    ['#', ['sport', 'sport/tennis', 'sport/tennis/player1', 'sport/', '/finance', 'finance', 'a//b', 'a/x/b', 'a/$x']],
    ['sport/#', ['sport', 'sport/tennis', 'sport/tennis/player1', 'sport/']],
    ['sport/+', ['sport/tennis', 'sport/']],
    ['sport/tennis/+', ['sport/tennis/player1']],
    ['sport', ['sport']],
    ['+', ['sport', 'finance']],
    ['+/+', ['sport/tennis', 'sport/', '/finance', 'a/$x']],
    ['/+', ['/finance']],
    ['$SYS/#', ['$SYS', '$SYS/broker']],
    ['+/broker', []],
    ['a/+/b', ['a//b', 'a/x/b']],
    ['a/+', ['a/$x']],
    ['nothing/#', []],
  ]
  for (const [filter, expected] of cases) {
    test(JSON.stringify(filter), () => {
      assert.deepEqual(matching(tree, filter), expected.map((t) => `${t}=${topics.indexOf(t)}`).sort())
      assert.deepEqual(topics.filter((t) => matches(filter, t)).sort(), [...expected].sort(), 'table agrees with matches()')
    })
  }
})

describe('RetainedTree entries', () => {
  test('set, replace, get, delete, size and entries', () => {
    const tree = new RetainedTree<string>()
    tree.set('a/b', 'one')
    tree.set('a', 'two')
    tree.set('a/b', 'three')
    assert.equal(tree.size, 2)
    assert.equal(tree.get('a/b'), 'three')
    assert.equal(tree.get('a'), 'two')
    assert.equal(tree.get('a/b/c'), undefined)
    assert.equal(tree.get('a/+'), undefined)
    assert.deepEqual([...tree.entries()].sort(), [['a', 'two'], ['a/b', 'three']])
    assert.equal(tree.nodeCount, 2)
    assert.equal(tree.delete('a/b/c'), false)
    assert.equal(tree.delete('a'), true)
    assert.equal(tree.delete('a'), false, 'already deleted')
    assert.equal(tree.get('a'), undefined)
    assert.equal(tree.nodeCount, 2, "'a' still leads to 'a/b'")
    assert.deepEqual(matching(tree, 'a/#'), ['a/b=three'])
    assert.equal(tree.delete('a/b'), true)
    assert.equal(tree.size, 0)
    assert.equal(tree.nodeCount, 0, 'pruned')
    assert.deepEqual([...tree.entries()], [])
  })

  test('topics of tens of thousands of levels do not overflow the stack', () => {
    const tree = new RetainedTree<number>()
    const topic = Array(30_000).fill('x').join('/')
    tree.set(topic, 1)
    assert.deepEqual(matching(tree, '#'), [`${topic}=1`])
    assert.deepEqual(matching(tree, Array(30_000).fill('+').join('/')), [`${topic}=1`])
    assert.equal([...tree.entries()].length, 1)
    assert.equal(tree.delete(topic), true)
    assert.equal(tree.nodeCount, 0)
  })
})

test('forEachMatching agrees with matches() under random set/delete', () => {
  const seed = 0xbeef
  const rnd = random(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const levels = ['a', 'b', '$s', '', 'a$']
  const randomTopic = () => Array.from({length: 1 + Math.floor(rnd() * 4)}, () => pick(levels)).join('/')
  const randomFilter = () => {
    const parts = Array.from({length: 1 + Math.floor(rnd() * 4)}, () => (rnd() < 0.3 ? '+' : pick(levels)))
    if (rnd() < 0.25) parts[parts.length - 1] = '#'
    return parts.join('/')
  }
  const tree = new RetainedTree<number>()
  const model = new Map<string, number>()
  let matched = 0
  let dollarMatched = 0
  for (let step = 0; step < 10_000; step++) {
    const topic = randomTopic()
    const op = rnd()
    if (op < 0.5) {
      tree.set(topic, step)
      model.set(topic, step)
    } else if (op < 0.8) {
      assert.equal(tree.delete(topic), model.delete(topic), `seed ${seed} step ${step}: delete ${topic}`)
    } else {
      assert.equal(tree.get(topic), model.get(topic), `seed ${seed} step ${step}: get ${topic}`)
    }
    assert.equal(tree.size, model.size)
    if (step % 5 === 0) {
      const filter = randomFilter()
      const expected = [...model].filter(([t]) => matches(filter, t)).map(([t, v]) => `${t}=${v}`)
      assert.deepEqual(matching(tree, filter), expected.sort(), `seed ${seed} step ${step}: filter ${filter}`)
      matched += expected.length
      dollarMatched += expected.filter((e) => e.startsWith('$')).length
    }
    if (step % 500 === 0) {
      assert.equal(tree.nodeCount, prefixCount(model.keys()), `seed ${seed} step ${step}: pruning`)
      assert.deepEqual([...tree.entries()].sort(), [...model].sort(), `seed ${seed} step ${step}: entries`)
    }
  }
  assert.ok(model.size > 20 && matched > 1000 && dollarMatched > 20, `exercised (${model.size}, ${matched}, ${dollarMatched})`)
  for (const t of [...model.keys()]) assert.equal(tree.delete(t), true)
  assert.equal(tree.nodeCount, 0, 'deleting everything prunes every node')
})
