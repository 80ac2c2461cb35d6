import assert from 'node:assert/strict'
import {test} from 'node:test'
import {MalformedPacketError, PacketDecoder, type ProtocolVersion} from '../../src/codec/index.js'
import {hex} from '../helpers/wire.js'

// Issue #16: bytes after the last field a packet's flags and lengths announce make it malformed, on
// the client's side of the codec too (the broker's side is in test/protocol/strict-peer/).

function decode(version: ProtocolVersion, bytes: string) {
  const d = new PacketDecoder({maxPacketSize: 1 << 20, protocolVersion: version})
  const out: unknown[] = []
  d.push(hex(bytes), (p) => out.push(p))
  return out
}

const cases: Array<[string, ProtocolVersion, string]> = [
  ['v3.1.1 CONNACK with a third byte', 4, '20 03 00 00 00'],
  ['v5 CONNACK with a byte after its properties', 5, '20 04 00 00 00 00'],
  ['v5 PUBACK with a byte after its properties', 5, '40 05 0001 00 00 00'],
  ['v5 DISCONNECT with a byte after its properties', 5, 'e0 03 00 00 00'],
  ['v5 AUTH with a byte after its properties', 5, 'f0 03 00 00 00'],
]
for (const [name, version, bytes] of cases) {
  test(`${name} is malformed`, () => {
    assert.throws(() => decode(version, bytes), (e) => e instanceof MalformedPacketError && /left over/.test(e.message))
  })
}

test('the same packets without the extra byte decode', () => {
  assert.equal(decode(4, '20 02 00 00').length, 1)
  assert.equal(decode(5, '20 03 00 00 00').length, 1)
  assert.equal(decode(5, '40 04 0001 00 00').length, 1)
  assert.equal(decode(5, 'e0 02 00 00').length, 1)
  assert.equal(decode(5, 'f0 02 00 00').length, 1)
})
