import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode, type ProtocolVersion, type PublishPacket} from '../../src/codec/index.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const persistent = (v: ProtocolVersion) => (v === 5 ? {clean: false, properties: {sessionExpiryInterval: 600}} : {clean: false})

async function member(broker: ReturnType<typeof startBroker>, v: ProtocolVersion, id: string, qos: 0 | 1 | 2 = 1, fields = {}): Promise<Wire> {
  const w = new Wire(broker, v)
  await w.connect({clientId: id, ...fields})
  await w.subscribe(`$share/g/t/#`, qos)
  return w
}

async function publisher(broker: ReturnType<typeof startBroker>, v: ProtocolVersion) {
  const p = new Wire(broker, v)
  await p.connect({clientId: 'pub'})
  let id = 0
  return async (payload: string, qos: 0 | 1 | 2 = 1) => {
    p.publish('t/x', payload, qos, {messageId: ++id})
    if (qos === 1) await p.expect('puback')
    if (qos === 2) {
      await p.expect('pubrec')
      p.send({cmd: 'pubrel', messageId: id})
      await p.expect('pubcomp')
    }
  }
}

for (const v of VERSIONS) {
  describe(`shared subscriptions ${versionName(v)}`, () => {
    test('[MQTT-4.8.2-?] each message goes to one member of the group, round-robin', async (t) => {
      const broker = startBroker(t)
      const a = await member(broker, v, 'a')
      const b = await member(broker, v, 'b')
      const send = await publisher(broker, v)
      for (let i = 0; i < 6; i++) await send(String(i))
      const got = {a: [] as string[], b: [] as string[]}
      for (const [name, w] of [['a', a], ['b', b]] as const) {
        for (let i = 0; i < 3; i++) {
          const p = await w.expect('publish')
          got[name].push(p.payload.toString())
          await w.ack(p)
        }
        await w.quiet()
      }
      assert.deepEqual([...got.a, ...got.b].sort(), ['0', '1', '2', '3', '4', '5'])
    })

    test('every group gets a copy, and so do ordinary subscribers', async (t) => {
      const broker = startBroker(t)
      const g1 = new Wire(broker, v)
      await g1.connect({clientId: 'g1'})
      await g1.subscribe('$share/one/t/#', 0)
      const g2 = new Wire(broker, v)
      await g2.connect({clientId: 'g2'})
      await g2.subscribe('$share/two/t/+', 0)
      const plain = new Wire(broker, v)
      await plain.connect({clientId: 'plain'})
      await plain.subscribe('t/x', 0)
      plain.publish('t/x', 'm')
      for (const w of [g1, g2, plain]) assert.equal((await w.expect('publish')).payload.toString(), 'm')
    })

    test('[MQTT-4.8.2-?] no retained messages on a shared subscription', async (t) => {
      const broker = startBroker(t)
      const w = new Wire(broker, v)
      await w.connect()
      w.publish('t/x', 'kept', 0, {retain: true})
      await w.subscribe('$share/g/t/#', 0)
      await w.quiet()
    })

    test('a member gets the message at its own granted QoS', async (t) => {
      const broker = startBroker(t)
      const a = await member(broker, v, 'a', 0)
      const send = await publisher(broker, v)
      await send('x', 2)
      assert.equal((await a.expect('publish')).qos, 0)
    })

    test('a member with a subscription of its own gets both copies', async (t) => {
      const broker = startBroker(t)
      const a = await member(broker, v, 'a', 0)
      await a.subscribe('t/x', 0)
      const send = await publisher(broker, v)
      await send('x', 0)
      await a.expect('publish')
      await a.expect('publish')
    })

    test('policy: QoS 1 in flight to a member whose connection drops goes to another member at once', async (t) => {
      const broker = startBroker(t)
      const a = await member(broker, v, 'a')
      const b = await member(broker, v, 'b')
      const send = await publisher(broker, v)
      await send('m0')
      await send('m1')
      const toA = await a.expect('publish')
      const toB = await b.expect('publish')
      await b.ack(toB)
      a.end()
      await a.closed()
      const moved = await b.expect('publish')
      assert.equal(moved.payload.toString(), toA.payload.toString())
      assert.equal(moved.dup, false, 'a first delivery to b')
    })

    test('policy: a persistent member that goes away hands its queued messages to a connected member', async (t) => {
      const broker = startBroker(t, {maxInflightMessages: 1})
      const a = await member(broker, v, 'a', 1, persistent(v))
      const send = await publisher(broker, v)
      for (let i = 0; i < 4; i++) await send(String(i))
      const first = await a.expect('publish')
      assert.equal(first.payload.toString(), '0')
      assert.equal(engineOf(broker).sessions.get('a')!.queued, 3)
      const b = await member(broker, v, 'b')
      a.send({cmd: 'disconnect'})
      await a.closed()
      const got: string[] = []
      for (let i = 0; i < 4; i++) {
        const p = await b.expect('publish')
        got.push(p.payload.toString())
        await b.ack(p)
      }
      assert.deepEqual(got.sort(), ['0', '1', '2', '3'])
      assert.equal(engineOf(broker).sessions.get('a')!.queued, 0)
      const again = new Wire(broker, v)
      await again.connect({clientId: 'a', ...persistent(v)})
      await again.quiet()
    })

    test('policy: with no other member connected, a persistent member keeps its messages', async (t) => {
      const broker = startBroker(t)
      const a = await member(broker, v, 'a', 1, persistent(v))
      const b = await member(broker, v, 'b', 1, persistent(v))
      b.send({cmd: 'disconnect'})
      await b.closed()
      const send = await publisher(broker, v)
      await send('m')
      const p = await a.expect('publish')
      a.end()
      await a.closed()
      const back = new Wire(broker, v)
      await back.connect({clientId: 'a', ...persistent(v)})
      const again = await back.expect('publish')
      assert.equal(again.messageId, p.messageId)
      assert.equal(again.dup, true)
    })

    test('[MQTT-4.8.2-4] QoS 2 already sent stays with its member and is completed when it reconnects', async (t) => {
      const broker = startBroker(t)
      const a = await member(broker, v, 'a', 2, persistent(v))
      const send = await publisher(broker, v)
      await send('q2', 2)
      const p = await a.expect('publish')
      const b = await member(broker, v, 'b', 2)
      a.end()
      await a.closed()
      await b.quiet()
      const back = new Wire(broker, v)
      await back.connect({clientId: 'a', ...persistent(v)})
      const again = await back.expect('publish')
      assert.equal(again.messageId, p.messageId)
      assert.equal(again.dup, true)
    })

    test('[MQTT-4.8.2-5] QoS 2 already sent is not sent to another member when its session ends', async (t) => {
      const broker = startBroker(t)
      const a = await member(broker, v, 'a', 2)
      const send = await publisher(broker, v)
      await send('q2', 2)
      await a.expect('publish')
      const b = await member(broker, v, 'b', 2)
      a.end()
      await a.closed()
      await b.quiet()
      assert.equal(engineOf(broker).metrics.dropped['session-ended'], 1)
    })

    test('policy: when a member\'s session ends, its queued messages go to another member, even an offline one', async (t) => {
      const broker = startBroker(t, {maxInflightMessages: 1})
      const b = await member(broker, v, 'b', 1, persistent(v))
      b.send({cmd: 'disconnect'})
      await b.closed()
      const a = await member(broker, v, 'a')
      // b is offline: every message goes to a, which leaves one in flight and queues the rest
      const send = await publisher(broker, v)
      for (let i = 0; i < 3; i++) await send(String(i))
      await a.expect('publish')
      a.end()
      await a.closed()
      assert.equal(engineOf(broker).sessions.get('b')!.queued, 3)
      const back = new Wire(broker, v)
      await back.connect({clientId: 'b', ...persistent(v)})
      const got: string[] = []
      for (let i = 0; i < 3; i++) {
        const p = await back.expect('publish')
        got.push(p.payload.toString())
        await back.ack(p)
      }
      assert.deepEqual(got.sort(), ['0', '1', '2'])
    })
  })
}

describe('shared subscriptions v5 only', () => {
  test('[MQTT-4.8.2-6] a member refusing with PUBACK >= 0x80: the message is not sent to another member', async (t) => {
    const broker = startBroker(t)
    const a = await member(broker, 5, 'a')
    const b = await member(broker, 5, 'b')
    const send = await publisher(broker, 5)
    await send('m0')
    await send('m1')
    const toA = await a.expect('publish')
    await b.ack(await b.expect('publish'))
    a.send({cmd: 'puback', messageId: toA.messageId, reasonCode: ReasonCode.UnspecifiedError})
    await a.quiet()
    a.end()
    await a.closed()
    await b.quiet()
  })

  test('shared subscriptions not available: announced in CONNACK and refused with 0x9E', async (t) => {
    const broker = startBroker(t, {sharedSubscriptionAvailable: false})
    const w = new Wire(broker, 5)
    assert.equal((await w.connect()).properties?.sharedSubscriptionAvailable, false)
    assert.deepEqual((await w.subscribe(['$share/g/t', 't'], 1)).granted, [ReasonCode.SharedSubscriptionsNotSupported, 1])
  })

  test('invalid share names are refused with 0x8F', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    assert.deepEqual((await w.subscribe(['$share/g+/t', '$share//t', '$share/g'], 0)).granted,
      [ReasonCode.TopicFilterInvalid, ReasonCode.TopicFilterInvalid, ReasonCode.TopicFilterInvalid])
  })

  test('a Subscription Identifier on a shared subscription comes with its messages', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    await w.subscribe('$share/g/t', 0, {properties: {subscriptionIdentifier: 42}})
    w.publish('t', 'x')
    const p: PublishPacket = await w.expect('publish')
    assert.equal(p.properties?.subscriptionIdentifier, 42)
  })
})

