import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {describe, test} from 'node:test'

import {hasWildcard, isValidTopicFilter, isValidTopicName, matches, parseSharedFilter} from '../../src/codec/topic.js'

// The examples table at the top of topic.ts is the fixture: one row a line, a kind then JSON strings.
type Kind = 'name' | 'bad-name' | 'filter' | 'bad-filter' | 'share' | 'not-share' | 'match' | 'no-match'
const ARITY: Record<Kind, number> = {
  name: 1, 'bad-name': 1, filter: 1, 'bad-filter': 1, share: 3, 'not-share': 1, match: 2, 'no-match': 2,
}

function fixture(): Record<Kind, string[][]> {
  const source = readFileSync(new URL('../../src/codec/topic.ts', import.meta.url), 'utf8')
  const header = source.slice(0, source.indexOf('*/'))
  const rows = Object.fromEntries(Object.keys(ARITY).map((k) => [k, []])) as unknown as Record<Kind, string[][]>
  for (const line of header.split('\n')) {
    const m = /^ \*\s+([a-z-]+)\s+(".*)$/.exec(line)
    if (m === null) continue
    const kind = m[1] as Kind
    assert.ok(kind in ARITY, `unknown kind in: ${line}`)
    const args = (m[2]!.match(/"(?:[^"\\]|\\.)*"/g) ?? []).map((s) => JSON.parse(s) as string)
    assert.equal(args.length, ARITY[kind], `wrong number of strings in: ${line}`)
    rows[kind].push(args)
  }
  return rows
}

const rows = fixture()

describe('topic examples table', () => {
  test('has rows of every kind', () => {
    const counts = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.length]))
    assert.deepEqual(counts, {
      name: 8, 'bad-name': 9, filter: 15, 'bad-filter': 17, share: 3, 'not-share': 3, match: 19, 'no-match': 16,
    })
  })

  for (const [topic] of rows.name) {
    test(`valid name ${JSON.stringify(topic)}`, () => {
      assert.equal(isValidTopicName(topic!), true)
      assert.equal(isValidTopicFilter(topic!), true, 'a topic name is also a valid filter')
      assert.equal(hasWildcard(topic!), false)
      assert.equal(matches(topic!, topic!), true, 'a name matches itself as a filter')
    })
  }
  for (const [topic] of rows['bad-name']) {
    test(`invalid name ${JSON.stringify(topic)}`, () => assert.equal(isValidTopicName(topic!), false))
  }
  for (const [filter] of rows.filter) {
    test(`valid filter ${JSON.stringify(filter)}`, () => assert.equal(isValidTopicFilter(filter!), true))
  }
  for (const [filter] of rows['bad-filter']) {
    test(`invalid filter ${JSON.stringify(filter)}`, () => assert.equal(isValidTopicFilter(filter!), false))
  }
  for (const [filter, group, inner] of rows.share) {
    test(`shared filter ${JSON.stringify(filter)}`, () => {
      assert.equal(isValidTopicFilter(filter!), true)
      assert.deepEqual(parseSharedFilter(filter!), {group, filter: inner})
    })
  }
  for (const [filter] of rows['not-share']) {
    test(`not a shared filter ${JSON.stringify(filter)}`, () => assert.equal(parseSharedFilter(filter!), undefined))
  }
  for (const [filter, topic] of rows.match) {
    test(`${JSON.stringify(filter)} matches ${JSON.stringify(topic)}`, () => {
      assert.ok(isValidTopicFilter(filter!) && isValidTopicName(topic!), 'table row uses valid strings')
      assert.equal(matches(filter!, topic!), true)
    })
  }
  for (const [filter, topic] of rows['no-match']) {
    test(`${JSON.stringify(filter)} does not match ${JSON.stringify(topic)}`, () => {
      assert.ok(isValidTopicFilter(filter!) && isValidTopicName(topic!), 'table row uses valid strings')
      assert.equal(matches(filter!, topic!), false)
    })
  }
})

describe('length limit [MQTT-4.7.3-3]', () => {
  const cases: Array<[string, string, boolean]> = [
    ['65535 ASCII bytes', 'a'.repeat(65535), true],
    ['65536 ASCII bytes', 'a'.repeat(65536), false],
    ['65535 bytes of 3-byte characters', '€'.repeat(21845), true],
    ['65538 bytes of 3-byte characters', '€'.repeat(21846), false],
    ['65532 bytes of 4-byte characters', '🐝'.repeat(16383), true],
    ['65536 bytes of 4-byte characters', '🐝'.repeat(16384), false],
    ['65535 bytes, 2-byte characters last', 'a'.repeat(65533) + 'é', true],
    ['65536 bytes, 2-byte characters last', 'a'.repeat(65534) + 'é', false],
  ]
  for (const [name, topic, valid] of cases) {
    test(name, () => {
      assert.equal(Buffer.byteLength(topic) <= 65535, valid, 'case is labelled right')
      assert.equal(isValidTopicName(topic), valid)
      assert.equal(isValidTopicFilter(topic), valid)
    })
  }
  test('a long shared filter counts the $share prefix', () => {
    assert.equal(isValidTopicFilter('$share/g/' + 'a'.repeat(65535 - 9)), true)
    assert.equal(isValidTopicFilter('$share/g/' + 'a'.repeat(65536 - 9)), false)
  })
})

describe('hasWildcard', () => {
  const cases: Array<[string, boolean]> = [
    ['a/b', false], ['/', false], ['$share/g/a', false], ['+', true], ['a/+/b', true], ['#', true], ['a/#', true],
    ['$share/g/+/x', true],
  ]
  for (const [filter, expected] of cases) {
    test(JSON.stringify(filter), () => assert.equal(hasWildcard(filter), expected))
  }
})

test('matches() agrees with a regular-expression model on generated cases', () => {
  // An independent formulation: '+' is one level of non-'/' characters, a trailing '/#' is an optional
  // suffix, and a leading wildcard excludes topics starting with '$'.
  const model = (filter: string, topic: string): boolean => {
    if (topic.startsWith('$') && /^[+#]/.test(filter)) return false
    if (filter === '#') return true
    const hash = filter.endsWith('/#')
    const body = (hash ? filter.slice(0, -2) : filter).split('/')
      .map((l) => (l === '+' ? '[^/]*' : l.replace(/[$]/g, '\\$'))).join('/')
    return new RegExp(`^${body}${hash ? '(/.*)?' : ''}$`).test(topic)
  }
  const levels = ['a', 'b', '$', '']
  const filterLevels = [...levels, '+']
  const build = (n: number, from: string[], seed: number) =>
    Array.from({length: n}, (_, i) => from[Math.floor(seed / from.length ** i) % from.length]).join('/')
  let matched = 0
  let compared = 0
  for (let n = 1; n <= 3; n++) {
    for (let fs = 0; fs < filterLevels.length ** n; fs++) {
      for (const tail of ['', '/#']) {
        const filter = build(n, filterLevels, fs) + tail
        for (let m = 1; m <= 4; m++) {
          for (let ts = 0; ts < levels.length ** m; ts++) {
            const topic = build(m, levels, ts)
            const expected = model(filter, topic)
            assert.equal(matches(filter, topic), expected, `${filter} vs ${topic}`)
            compared++
            if (expected) matched++
          }
        }
      }
    }
  }
  assert.ok(matched > 1000 && compared - matched > 1000, `both outcomes exercised (${matched}/${compared})`)
})
