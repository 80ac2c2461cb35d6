// A broker's connections share mqtt-packet's parsers, one per protocol version (SharedParsers): what
// one connection's frame does to a parser must never reach another connection's packets.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {MqttError, PacketDecoder, SharedParsers, type Packet, type ProtocolVersion} from '../../src/codec/index.js'
import {hex} from '../helpers/wire.js'

function decoders(parsers: SharedParsers, ...versions: ProtocolVersion[]): PacketDecoder[] {
  return versions.map((protocolVersion) => new PacketDecoder({maxPacketSize: 1 << 20, protocolVersion, parsers}))
}

function decode(d: PacketDecoder, bytes: string): Packet[] {
  const out: Packet[] = []
  d.push(hex(bytes), (p) => out.push(p))
  return out
}

// SUBSCRIBE id 1 to 't' (QoS 0, then QoS 1): v3.1.1, and v5 with a Subscription Identifier of 7
const SUB_V4 = '82 06 0001 0001 74 00'
const SUB_V4_QOS1 = '82 06 0001 0001 74 01'
const SUB_V5 = '82 09 0001 02 0b07 0001 74 00'

test('a frame one connection could not parse leaves nothing in the shared parser for the next connection', () => {
  const [a, b] = decoders(new SharedParsers(), 4, 4)
  // the topic's length says 5 bytes, the frame ends after 2: mqtt-packet stops mid-packet
  assert.throws(() => decode(a!, '82 06 0001 0005 74 00'), (e) => e instanceof MqttError)
  assert.deepEqual(decode(b!, SUB_V4).map((p) => p.cmd === 'subscribe' && [p.messageId, p.subscriptions]), [[1, [{topic: 't', qos: 0}]]])
})

test('connections of both versions, interleaved: each packet parsed with its own version, none shared', () => {
  const [v4, v5] = decoders(new SharedParsers(), 4, 5)
  const first = decode(v5!, SUB_V5)[0]!
  const second = decode(v4!, SUB_V4_QOS1)[0]!
  const third = decode(v5!, SUB_V5)[0]!
  assert.ok(first.cmd === 'subscribe' && second.cmd === 'subscribe' && third.cmd === 'subscribe')
  assert.deepEqual(first.properties, {subscriptionIdentifier: 7})
  assert.deepEqual(first.subscriptions, [{topic: 't', qos: 0, nl: false, rap: false, rh: 0}])
  assert.deepEqual(second.subscriptions, [{topic: 't', qos: 1}])
  assert.equal(second.properties, undefined)
  assert.notEqual(first, third, 'a new packet object per frame')
  assert.deepEqual(third, first)
})

test('a v5 CONNECT on one connection does not make the parser read another connection\'s v3.1.1 SUBSCRIBE as v5', () => {
  const parsers = new SharedParsers()
  const [connecting, v4] = decoders(parsers, 4, 4)
  // a broker's decoder parses the CONNECT with its initial version; mqtt-packet's parser then takes its settings from it
  assert.equal(decode(connecting!, '10 0e 0004 4d515454 05 02 003c 00 0001 63')[0]!.cmd, 'connect')
  const sub = decode(v4!, SUB_V4_QOS1)[0]!
  assert.ok(sub.cmd === 'subscribe')
  assert.deepEqual(sub.subscriptions, [{topic: 't', qos: 1}])
})
