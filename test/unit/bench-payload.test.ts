import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {encodePublish} from '../../src/codec/index.js'
import {HEADER_SIZE, hasHeader, MAGIC, payloadTemplate, readHeader, writeHeader} from '../../src/bench/payload.js'

describe('bench payload header', () => {
  test('a template holds the magic, a zeroed header and the filler', () => {
    const p = payloadTemplate(30)
    assert.equal(p.length, 30)
    assert.equal(p.readUInt32LE(0), MAGIC)
    assert.deepEqual(readHeader(p), {stream: 0, seq: 0, time: 0})
    assert.equal(p.subarray(HEADER_SIZE).toString(), 'uvwxyzabcd')
  })

  test('stream, sequence and time round-trip, including the largest values', () => {
    const p = payloadTemplate(HEADER_SIZE)
    writeHeader(p, 0, 4_294_967_295, 4_294_967_295, 1_234_567_890_123.5)
    assert.deepEqual(readHeader(p), {stream: 4_294_967_295, seq: 4_294_967_295, time: 1_234_567_890_123.5})
  })

  test('payloads under 20 bytes carry no header and are filler only', () => {
    const p = payloadTemplate(19)
    assert.equal(readHeader(p), undefined)
    assert.equal(p.toString(), 'abcdefghijklmnopqrs')
    assert.equal(payloadTemplate(0).length, 0)
  })

  test('a payload from elsewhere is not mistaken for a bench message', () => {
    assert.equal(readHeader(Buffer.alloc(64)), undefined)
    assert.equal(hasHeader(Buffer.from('x'.repeat(40)), 0, 40), false)
  })

  test('patched in place inside an encoded PUBLISH, at the payload offset (v3.1.1 and v5, QoS 0 and 1)', () => {
    for (const version of [4, 5] as const) {
      for (const qos of [0, 1] as const) {
        const payload = payloadTemplate(100)
        const {bytes} = encodePublish({topic: 'bench/7', payload, qos, retain: false}, version)
        const offset = bytes.length - payload.length
        writeHeader(bytes, offset, 7, 41, 99.25)
        assert.ok(hasHeader(bytes, offset, bytes.length))
        assert.deepEqual(readHeader(bytes.subarray(offset)), {stream: 7, seq: 41, time: 99.25})
      }
    }
  })
})
