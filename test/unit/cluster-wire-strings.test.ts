import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {RepeatedString, readString, utf8Length, writeString} from '../../src/cluster/wire-strings.js'

const samples = ['', 'a', 'node-1', 'q1/0', 'été/ü', '日本/トピック', '😀', 'x'.repeat(64), 'y'.repeat(65), `${'z'.repeat(63)}é`, 'é'.repeat(70)]

describe('cluster wire strings', () => {
  it('measures, writes and reads back every string as Buffer does', () => {
    for (const s of samples) {
      assert.equal(utf8Length(s), Buffer.byteLength(s), s)
      const out = Buffer.alloc(2 + utf8Length(s) + 3, 0xee)
      const end = writeString(out, 1, s)
      assert.equal(end, 3 + Buffer.byteLength(s))
      assert.deepEqual(out.subarray(1, end), Buffer.concat([Buffer.from([Buffer.byteLength(s) >> 8, Buffer.byteLength(s) & 0xff]), Buffer.from(s)]), s)
      assert.equal(out[0], 0xee) // nothing written outside
      assert.equal(out[end], 0xee)
      const r = {at: 1, end}
      assert.equal(readString(out, r), s)
      assert.equal(r.at, end)
    }
  })

  it('gives a repeated string again, and a changed one as it now is', () => {
    const repeated = new RepeatedString()
    for (const s of [...samples, ...samples.slice().reverse(), 'node-1', 'node-1', 'node-2', 'y'.repeat(65), 'y'.repeat(65), 'node-2', '']) {
      const bytes = Buffer.alloc(2 + utf8Length(s))
      writeString(bytes, 0, s)
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
