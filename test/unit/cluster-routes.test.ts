import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {RouteCache} from '../../src/cluster/routes.js'

function match(cache: RouteCache, topic: string): {nodes: string[]; groups: Record<string, string[]>} {
  const nodes = new Set<string>()
  const groups = new Map<string, string[]>()
  cache.match(topic, nodes, groups)
  return {nodes: [...nodes].sort(), groups: Object.fromEntries([...groups].map(([n, g]) => [n, g.sort()]))}
}

describe('cluster route cache', () => {
  it('finds the nodes whose filters match, once each, and only those', () => {
    const c = new RouteCache()
    c.add('b', 'a/+/c')
    c.add('b', 'a/#')
    c.add('c', 'x/y')
    c.add('d', '#')
    assert.deepEqual(match(c, 'a/b/c').nodes, ['b', 'd'])
    assert.deepEqual(match(c, 'x/y').nodes, ['c', 'd'])
    assert.deepEqual(match(c, '$SYS/x').nodes, [], 'a wildcard first level does not match $ topics')
    c.remove('d', '#')
    assert.deepEqual(match(c, 'q').nodes, [])
    c.dropNode('b')
    assert.deepEqual(match(c, 'a/b/c').nodes, [])
    assert.equal(c.filtersOf('b'), undefined)
  })

  it('chooses one node per shared group, round-robin over the nodes with members', () => {
    const c = new RouteCache()
    c.add('a', '$share/g/jobs/+')
    c.add('b', '$share/g/jobs/+')
    c.add('b', '$share/h/jobs/#')
    const chosen = [0, 1, 2, 3].map(() => match(c, 'jobs/1').groups)
    assert.deepEqual(chosen, [
      {a: ['$share/g/jobs/+'], b: ['$share/h/jobs/#']},
      {b: ['$share/g/jobs/+', '$share/h/jobs/#']},
      {a: ['$share/g/jobs/+'], b: ['$share/h/jobs/#']},
      {b: ['$share/g/jobs/+', '$share/h/jobs/#']},
    ])
    c.remove('a', '$share/g/jobs/+')
    assert.deepEqual(match(c, 'jobs/1').groups, {b: ['$share/g/jobs/+', '$share/h/jobs/#']})
    assert.deepEqual(match(c, 'jobs/1').nodes, [], 'shared filters are not plain routes')
  })

  it('clear() keeps the node asked for', () => {
    const c = new RouteCache()
    c.add('self', '$share/g/t')
    c.add('other', 't')
    c.clear('self')
    assert.deepEqual(match(c, 't'), {nodes: [], groups: {self: ['$share/g/t']}})
  })

  it('sees a filter added or removed after a topic was matched (the remembered matches are dropped)', () => {
    const c = new RouteCache()
    c.add('b', 'a/+')
    assert.deepEqual(match(c, 'a/1').nodes, ['b'])
    assert.deepEqual(match(c, 'a/1').nodes, ['b'], 'the same answer the second time')
    c.add('c', 'a/1')
    assert.deepEqual(match(c, 'a/1').nodes, ['b', 'c'])
    c.remove('b', 'a/+')
    assert.deepEqual(match(c, 'a/1').nodes, ['c'])
    c.dropNode('c')
    assert.deepEqual(match(c, 'a/1').nodes, [])
    c.add('d', '#')
    assert.deepEqual(match(c, 'a/1').nodes, ['d'])
    for (let i = 0; i < 5000; i++) assert.deepEqual(match(c, `t/${i}`).nodes, ['d'], 'past the remembered topics')
  })

  it('says whether a node other than this one holds a filter', () => {
    const c = new RouteCache()
    assert.equal(c.othersHold('self'), false)
    c.add('self', '$share/g/t')
    assert.equal(c.othersHold('self'), false, 'its own shared filters do not count')
    c.add('other', '$share/g/t')
    assert.equal(c.othersHold('self'), true)
    c.dropNode('other')
    c.add('other', 'x')
    assert.equal(c.othersHold('self'), true)
    c.remove('other', 'x')
    assert.equal(c.othersHold('self'), false)
  })

  it('lists the plain nodes of a topic as match finds them, and says whether any shared filter is held', () => {
    const c = new RouteCache()
    c.add('b', 'a/+')
    c.add('d', '#')
    assert.deepEqual([...c.plainNodes('a/x')].sort(), ['b', 'd'])
    assert.equal(c.plainNodes('a/x'), c.plainNodes('a/x'), 'remembered')
    assert.deepEqual(c.plainNodes('$SYS/x'), [])
    assert.equal(c.hasShared, false)
    c.add('self', '$share/g/a/+')
    assert.equal(c.hasShared, true)
    assert.deepEqual([...c.plainNodes('a/x')].sort(), match(c, 'a/x').nodes)
    c.remove('self', '$share/g/a/+')
    assert.equal(c.hasShared, false)
    c.remove('d', '#')
    assert.deepEqual(c.plainNodes('a/x'), ['b'])
  })
})
