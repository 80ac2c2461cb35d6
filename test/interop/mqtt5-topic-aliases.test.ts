// Interop (mqtt npm package, v5): topic aliases in both directions.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {connack, fixture, inbox} from './mqtt5-helpers.js'

describe('mqtt.js v5: topic aliases', () => {
  test('mqtt.js assigning aliases (autoAssignTopicAlias) within our Topic Alias Maximum', async (t) => {
    const f = await fixture(t, {topicAliasMaximum: 3})
    const sub = await f.client({clientId: 'sub'})
    await sub.subscribeAsync('ta/#', {qos: 1})
    const pub = await f.client({clientId: 'pub', autoAssignTopicAlias: true})
    assert.equal(connack(pub).properties?.topicAliasMaximum, 3)
    const topics = ['ta/a', 'ta/b', 'ta/a', 'ta/c', 'ta/d', 'ta/a', 'ta/b', 'ta/d']
    for (const topic of topics) await pub.publishAsync(topic, topic, {qos: 1})
    const box = inbox(sub)
    for (const topic of topics) {
      const m = await box.next()
      assert.equal(m.topic, topic)
      assert.equal(m.payload.toString(), topic)
    }
  })

  test('aliases we send (outboundTopicAliases) are resolved by mqtt.js, never above its maximum', async (t) => {
    const f = await fixture(t, {outboundTopicAliases: true})
    const sub = await f.client({clientId: 'sub', properties: {topicAliasMaximum: 2}})
    await sub.subscribeAsync('tb/#', {qos: 1})
    const pub = await f.client({clientId: 'pub'})
    const topics = ['tb/one', 'tb/one', 'tb/two', 'tb/three', 'tb/one', 'tb/three', 'tb/three']
    for (const topic of topics) await pub.publishAsync(topic, topic, {qos: 1})
    const box = inbox(sub)
    let aliased = 0
    for (const topic of topics) {
      const m = await box.next()
      assert.equal(m.topic, topic)
      const alias = m.packet.properties?.topicAlias
      if (alias !== undefined) {
        aliased++
        assert.ok(alias >= 1 && alias <= 2)
      }
    }
    assert.equal(aliased, topics.length, 'every message went out with an alias')
  })
})
