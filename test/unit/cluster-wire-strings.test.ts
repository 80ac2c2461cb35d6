import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {RepeatedString, readString, writeString} from '../../src/cluster/wire-strings.js'

const samples = ['', 'a', 'node-1', 'q1/0', 'été/ü', '日本/トピック', '😀', 'x'.repeat(64), 'y'.repeat(65), `${'z'.repeat(62)}é`, 'é'.repeat(70)]

/** The bytes writeString should make: a u16 length, then the UTF-8 bytes. */
function expected(s: string): Buffer {
  const n = Buffer.byteLength(s)
  return Buffer.concat([Buffer.from([n >> 8, n & 0xff]), Buffer.from(s)])
}

describe('cluster wire strings', () => {
  it('writes and reads back every string', () => {
    for (const s of samples) {
      const out = Buffer.alloc(2 + Buffer.byteLength(s) + 2, 0xee)
      const end = writeString(out, 1, s)
      assert.deepEqual(out.subarray(1, end), expected(s), s)
      assert.equal(out[0], 0xee) // nothing written outside
      assert.equal(out[end], 0xee)
      const r = {at: 1, end}
      assert.equal(readString(out, r), s)
      assert.equal(r.at, end)
    }
  })

  it('writes a repeated string, and a changed one, as writeString does', () => {
    const repeated = new RepeatedString()
    for (const s of [...samples, ...samples.slice().reverse(), 'node-1', 'node-1', 'node-2', 'y'.repeat(65), 'y'.repeat(65), 'node-2', '', '']) {
      assert.equal(repeated.byteLength(s), Buffer.byteLength(s), s)
      const out = Buffer.alloc(2 + Buffer.byteLength(s) + 1, 0xee)
      const end = repeated.write(out, 0, s)
      assert.deepEqual(out.subarray(0, end), expected(s), s)
      assert.equal(out[end], 0xee)
      assert.equal(repeated.byteLength(s), Buffer.byteLength(s), s)
    }
  })

  it('reads a repeated string, and a changed one, as it now is', () => {
    const repeated = new RepeatedString()
    for (const s of [...samples, ...samples.slice().reverse(), 'node-1', 'node-1', 'node-2', 'y'.repeat(65), 'y'.repeat(65), 'node-2', '']) {
      const bytes = expected(s)
      const r = {at: 0, end: bytes.length}
      assert.equal(repeated.read(bytes, r), s)
      assert.equal(r.at, bytes.length)
    }
  })

  it('throws on a string that runs past the end it is given', () => {
    const bytes = Buffer.alloc(8)
    writeString(bytes, 0, 'abcdef')
    for (let end = 0; end < 8; end++) {
      assert.throws(() => readString(bytes, {at: 0, end}), /ends inside a string/)
      assert.throws(() => new RepeatedString().read(bytes, {at: 0, end}), /ends inside a string/)
    }
  })
})
