import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {InboundAliases, MqttError, ProtocolError, ReasonCode} from '../../src/codec/index.js'
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

describe('InboundAliases: one table for the broker\'s and the client\'s inbound aliases', () => {
  test('a topic with an alias maps it; an empty topic uses the mapping; a new topic remaps it', () => {
    const aliases = new InboundAliases(3)
    assert.equal(aliases.resolve('a/b', 1), 'a/b')
    assert.equal(aliases.resolve('', 1), 'a/b')
    assert.equal(aliases.resolve('c', 1), 'c')
    assert.equal(aliases.resolve('', 1), 'c')
    assert.equal(aliases.resolve('d', 3), 'd')
    assert.equal(aliases.size, 2)
  })

  test('0 and aliases above the maximum are Topic Alias invalid (0x94); an unmapped one a Protocol Error (0x82)', () => {
    const aliases = new InboundAliases(3)
    for (const bad of [0, 4]) {
      assert.throws(() => aliases.resolve('t', bad), (e: unknown) => e instanceof MqttError && e.reasonCode === ReasonCode.TopicAliasInvalid && e.message === `topic alias ${bad} is outside 1..3`)
    }
    assert.throws(() => aliases.resolve('', 2), (e: unknown) => e instanceof ProtocolError && e.message === 'unknown topic alias 2')
    assert.throws(() => new InboundAliases(0).resolve('t', 1), (e: unknown) => e instanceof MqttError && e.reasonCode === ReasonCode.TopicAliasInvalid)
    assert.equal(aliases.size, 0, 'nothing mapped by a refused alias')
  })
})
