// The NDJSON schema of `sub --json`, read back by `pub --stdin-json`.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {fromJsonLine, toJsonLine} from '../../src/cli/common/format/ndjson.js'

const at = new Date('2024-01-02T03:04:05.678Z')

describe('sub --json lines', () => {
  it('text payload, flags, message id and properties', () => {
    const line = toJsonLine({topic: 't', payload: Buffer.from('hé'), qos: 1, retain: true, dup: false, messageId: 4,
      properties: {contentType: 'text/plain', userProperties: {a: '1', b: ['2', '3']}, correlationData: Buffer.from('id-1'), payloadFormatIndicator: true}}, at)
    assert.ok(line.endsWith('\n'))
    assert.deepEqual(JSON.parse(line), {topic: 't', payload: 'hé', qos: 1, retain: true, dup: false, messageId: 4,
      properties: {contentType: 'text/plain', userProperties: {a: '1', b: ['2', '3']}, correlationData: 'id-1', payloadFormatIndicator: true},
      receivedAt: '2024-01-02T03:04:05.678Z'})
  })
  it('binary payload and correlation data are base64 with an encoding field; QoS 0 has no messageId', () => {
    const o = JSON.parse(toJsonLine({topic: 't', payload: Buffer.from([0xff, 0]), qos: 0, retain: false, messageId: 0,
      properties: {correlationData: Buffer.from([0xfe])}}, at))
    assert.equal(o.payload, '/wA=')
    assert.equal(o.encoding, 'base64')
    assert.equal(o.messageId, undefined)
    assert.deepEqual(o.properties, {correlationData: '/g==', correlationDataEncoding: 'base64'})
  })
})

describe('pub --stdin-json lines', () => {
  const defaults = {qos: 0 as const, retain: false}
  it('round-trips what sub --json prints', () => {
    const original = {topic: 'x/y', payload: Buffer.from([1, 2, 255]), qos: 2 as const, retain: true,
      properties: {contentType: 'a/b', correlationData: Buffer.from([0xfe]), userProperties: {k: 'v'}, messageExpiryInterval: 9}}
    const back = fromJsonLine(toJsonLine({...original, messageId: 3}, at), defaults)
    assert.deepEqual(back, original)
  })
  it('fills topic, qos and retain from the flags', () => {
    assert.deepEqual(fromJsonLine('{"payload":"p"}', {topic: 'd', qos: 1, retain: true}), {topic: 'd', payload: Buffer.from('p'), qos: 1, retain: true, properties: undefined})
  })
  it('a non-string payload is sent as its JSON text', () => {
    assert.equal(fromJsonLine('{"topic":"t","payload":{"a":1}}', defaults).payload.toString(), '{"a":1}')
  })
  const bad: Array<[string, RegExp]> = [
    ['nope', /not JSON/], ['[1]', /object/], ['{"payload":"x"}', /topic/], ['{"topic":"t","qos":3}', /qos/],
    ['{"topic":"t","retain":"yes"}', /retain/], ['{"topic":"t","encoding":"hex"}', /encoding/],
    ['{"topic":"t","properties":{"bogus":1}}', /bogus/], ['{"topic":"t","properties":{"contentType":1}}', /contentType/],
  ]
  for (const [line, error] of bad) it(`rejects ${line}`, () => assert.throws(() => fromJsonLine(line, defaults), error))
})
