// The encoder turns mqtt-packet's number cache off for its own calls only (issue #15): an embedder's
// mqtt-packet, in the same process, keeps its default.
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {test} from 'node:test'
import mqtt from 'mqtt-packet'
import {encodePacket} from '../../src/codec/index.js'

const numbers = createRequire(import.meta.url)('mqtt-packet/numbers.js') as {cache: Record<number, Buffer>}

test('encoding leaves mqtt-packet\'s cacheNumbers as it was, and fills no 65,536-entry cache', () => {
  assert.equal(mqtt.writeToStream.cacheNumbers, true) // mqtt-packet's default
  const bytes = encodePacket({cmd: 'subscribe', messageId: 7, subscriptions: [{topic: 't', qos: 1}]}, 4)
  assert.deepEqual([...bytes], [0x82, 6, 0, 7, 0, 1, 0x74, 1])
  assert.equal(mqtt.writeToStream.cacheNumbers, true)
  assert.equal(Object.keys(numbers.cache).length, 0)
  // the embedder's own use still gets the cache
  mqtt.generate({cmd: 'subscribe', messageId: 7, subscriptions: [{topic: 't', qos: 1}]})
  assert.equal(Object.keys(numbers.cache).length, 65_536)
  mqtt.writeToStream.cacheNumbers = false // an embedder that turned it off keeps it off
  encodePacket({cmd: 'unsubscribe', messageId: 8, unsubscriptions: ['t']}, 4)
  assert.equal(mqtt.writeToStream.cacheNumbers, false)
})
