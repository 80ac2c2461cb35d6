import assert from 'node:assert/strict'
import {test} from 'node:test'
import {OutboundAliases} from '../../src/broker/topic-alias.js'

/** Sends topics through an alias table the way Connection does, returning what went on the wire. */
function run(max: number, topics: string[]): string[] {
  const aliases = new OutboundAliases(max)
  return topics.map((topic) => {
    const a = aliases.lookup(topic)
    if (!a.known) aliases.commit(topic, a.alias)
    return a.known ? `=${a.alias}` : `${topic}>${a.alias}`
  })
}

test('aliases are handed out 1..max, then reused least recently used first', () => {
  assert.deepEqual(run(2, ['a', 'a', 'b', 'b', 'a', 'c', 'a', 'b']), ['a>1', '=1', 'b>2', '=2', '=1', 'c>2', '=1', 'b>2'])
})

test('a maximum of 1 keeps the last topic', () => {
  assert.deepEqual(run(1, ['a', 'a', 'b', 'a']), ['a>1', '=1', 'b>1', 'a>1'])
})

test('an uncommitted lookup (a packet not sent) leaves the table as it was', () => {
  const aliases = new OutboundAliases(1)
  aliases.commit('a', 1)
  assert.deepEqual(aliases.lookup('b'), {alias: 1, known: false})
  assert.deepEqual(aliases.lookup('a'), {alias: 1, known: true})
})
