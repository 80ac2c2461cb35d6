import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type ProtocolVersion, type PublishPacket} from '../../src/codec/index.js'
import {frame, hex, startBroker, str, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

/** [filter, topic, delivered] */
const MATCHING: Array<[string, string, boolean]> = [
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/#', 'sport', true],
  ['#', 'a/b/c', true],
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/tennis/+', 'sport/tennis', false],
  ['sport/+', 'sport/', true],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+', '/finance', false],
  ['a//b', 'a//b', true],
  ['a/+/c', 'a//c', true],
  ['a//b', 'a/b', false],
  ['a/b', 'a/B', false],
  ['a b/+', 'a b/c d', true],
  ['ünï/+', 'ünï/🐝', true],
  // [MQTT-4.7.2-1] a leading wildcard does not match a topic starting with '$' (clients may not
  // publish into $SYS itself: reserved-topics.ts)
  ['#', '$ops/broker', false],
  ['+/broker', '$ops/broker', false],
  ['+/#', '$ops/broker', false],
  ['$ops/#', '$ops/broker', true],
  ['$ops/+', '$ops/broker', true],
  ['a/#', 'a/$x', true],
  ['+/$x', 'a/$x', true],
]

// ('' is a protocol violation, not a refused filter: test/protocol/strict-peer/subscribe.test.ts)
const BAD_FILTERS = ['a/#/b', 'a#', '#/', 'a+', '+a/b', 'a/++', '$share/', '$share//a', '$share/g', '$share/g+/a']

async function rejected(w: Wire, v: ProtocolVersion, v5Code: number): Promise<void> {
  if (v === 5) assert.equal((await w.expect('disconnect')).reasonCode, v5Code)
  await w.closed()
}

for (const v of VERSIONS) {
  describe(`topics ${versionName(v)}`, () => {
    test('[MQTT-4.7.1-1] [MQTT-4.7.1-2] [MQTT-4.7.2-1] filters match topic names as the spec says', async (t) => {
      const broker = startBroker(t)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (const [i, [filter, topic, delivered]] of MATCHING.entries()) {
        const sub = new Wire(broker, v)
        await sub.connect({clientId: `sub${i}`})
        assert.deepEqual((await sub.subscribe(filter, 0)).granted, [0], filter)
        pub.publish(topic, 'x')
        await pub.quiet()
        if (delivered) {
          const p = await sub.expect('publish')
          // [MQTT-3.3.2-3] the topic name sent is the one published
          assert.equal(p.topic, topic, `${filter} ~ ${topic}`)
        }
        await sub.quiet().catch((e) => assert.fail(`${filter} must not match ${topic}: ${e.message}`))
        sub.send({cmd: 'disconnect'})
      }
    })

    test(`[MQTT-4.7.1-1] [MQTT-4.8.2-1] invalid filters are refused (${v === 5 ? '0x8F' : '0x80'})`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      for (const filter of BAD_FILTERS) {
        assert.deepEqual((await w.subscribe(filter, 0)).granted, [v === 5 ? ReasonCode.TopicFilterInvalid : 0x80], filter)
      }
      assert.equal(engineOf(broker).router.size, 0)
    })

    test(`[MQTT-3.3.2-2] a topic name with a wildcard closes the connection${v === 5 ? ' (0x90)' : ''}`, async (t) => {
      const broker = startBroker(t)
      for (const topic of ['a/+', 'a/#', '#', 'a+b']) {
        const w = new Wire(broker, v)
        await w.connect()
        w.publish(topic, 'x')
        await rejected(w, v, ReasonCode.TopicNameInvalid)
      }
    })

    test(`[MQTT-4.7.3-1] an empty topic name closes the connection${v === 5 ? ' (0x82 without a topic alias)' : ''}`, async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x30, Buffer.concat([str(''), v === 5 ? hex('00') : hex(''), Buffer.from('x')])))
      await rejected(w, v, ReasonCode.ProtocolError)
    })

    test('[MQTT-4.7.3-2] [MQTT-1.5.3-2] a topic name with U+0000 is malformed', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.sendRaw(frame(0x30, Buffer.concat([str(hex('610062')), v === 5 ? hex('00') : hex(''), Buffer.from('x')])))
      await rejected(w, v, ReasonCode.MalformedPacket)
    })

    test('[MQTT-3.3.2-1] [MQTT-1.5.3-1] a topic name that is not UTF-8 is malformed', async (t) => {
      const broker = startBroker(t)
      for (const bad of ['c328', 'eda080', 'ff', 'f8888080']) {
        const w = new Wire(broker, v)
        await w.connect()
        await w.subscribe('#', 0)
        w.sendRaw(frame(0x30, Buffer.concat([str(hex(bad)), v === 5 ? hex('00') : hex(''), Buffer.from('x')])))
        await rejected(w, v, ReasonCode.MalformedPacket)
        assert.equal(w.buffered.length, 0)
      }
    })

    test('[MQTT-3.3.5-1] overlapping subscriptions deliver one copy at the highest QoS', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe([{topic: 'a/#', qos: 0}, {topic: 'a/+', qos: 2}, {topic: 'a/b', qos: 1}, {topic: '#', qos: 0}])
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('a/b', 'x', 2, {messageId: 1})
      await pub.expect('pubrec')
      const p = await sub.expect('publish')
      assert.equal(p.qos, 2)
      await sub.quiet()
      // and at the message's QoS when that is lower
      pub.publish('a/b', 'y', 1, {messageId: 2})
      await pub.expect('puback')
      assert.equal((await sub.expect('publish')).qos, 1)
      await sub.quiet()
    })

    test('a subscription to a $ topic with a leading wildcard still gets ordinary topics', async (t) => {
      const broker = startBroker(t)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('#', 0)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      pub.publish('$internal', 'no')
      pub.publish('ok', 'yes')
      const p = await sub.expect('publish')
      assert.equal(p.topic, 'ok')
      await sub.quiet()
    })

    test('a topic of 65535 bytes is accepted, routed and matched', async (t) => {
      const broker = startBroker(t)
      const topic = 'a/' + 'x'.repeat(65_533)
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('a/+', 0)
      sub.publish(topic, 'long')
      assert.equal((await sub.expect('publish')).topic.length, 65_535)
    })

    test('topics with many levels match without recursion limits', async (t) => {
      const broker = startBroker(t)
      const topic = Array.from({length: 20_000}, () => 'l').join('/')
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe(['l/#', topic.replace(/l$/, '+')], 0)
      sub.publish(topic, 'deep')
      const p: PublishPacket = await sub.expect('publish')
      assert.equal(p.payload.toString(), 'deep')
      await sub.quiet()
    })
  })
}
