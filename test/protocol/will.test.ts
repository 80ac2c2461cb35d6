import assert from 'node:assert/strict'
import {describe, test, type TestContext} from 'node:test'
import {ReasonCode, type ConnectPacket, type ProtocolVersion} from '../../src/codec/index.js'
import {FakeTimers} from '../helpers/fake-timers.js'
import {frame, hex, startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import type {Broker} from '../../src/broker/broker.js'
import {engineOf} from '../../src/broker/internal.js'

const will = (extra: Partial<NonNullable<ConnectPacket['will']>> = {}) => ({will: {topic: 'will/c1', payload: Buffer.from('gone'), qos: 0 as const, retain: false, ...extra}})

async function watcher(broker: Broker, v: ProtocolVersion, qos: 0 | 1 | 2 = 0): Promise<Wire> {
  const w = new Wire(broker, v)
  await w.connect({clientId: 'watcher'})
  await w.subscribe('will/#', qos)
  return w
}

for (const v of VERSIONS) {
  describe(`will messages ${versionName(v)}`, () => {
    const setup = async (t: TestContext, fields: Partial<ConnectPacket> = will(), opts = {}) => {
      const broker = startBroker(t, opts)
      const watch = await watcher(broker, v, 2)
      const c = new Wire(broker, v)
      assert.equal((await c.connect({clientId: 'c1', ...fields})).sessionPresent, false)
      return {broker, watch, c}
    }

    test('a will into $SYS is not published; a bridge state notification is (issue #16, as Mosquitto)', async (t) => {
      const broker = startBroker(t)
      const watch = new Wire(broker, v)
      await watch.connect({clientId: 'watcher'})
      await watch.subscribe('$SYS/#', 0)
      for (const [id, topic] of [['forger', '$SYS/broker/uptime'], ['sharer', '$share/g/t'], ['bridge', '$SYS/broker/connection/b/state']]) {
        const c = new Wire(broker, v)
        await c.connect({clientId: id, ...will({topic})})
        c.end()
        await c.closed()
      }
      const p = await watch.expect('publish')
      assert.deepEqual([p.topic, p.payload.toString()], ['$SYS/broker/connection/b/state', 'gone'])
      await watch.quiet()
    })

    test('[MQTT-3.1.2-8] published when the connection closes without DISCONNECT', async (t) => {
      const {watch, c} = await setup(t)
      c.end()
      const p = await watch.expect('publish')
      assert.equal(p.topic, 'will/c1')
      assert.equal(p.payload.toString(), 'gone')
      assert.equal(p.qos, 0)
    })

    test('[MQTT-3.1.2-10] [MQTT-3.14.4-3] not published after DISCONNECT', async (t) => {
      const {watch, c} = await setup(t)
      c.send({cmd: 'disconnect'})
      await c.closed()
      await watch.quiet()
    })

    test('published when the keepalive times out', async (t) => {
      const timers = new FakeTimers()
      const {watch, c} = await setup(t, {keepalive: 10, ...will()}, {timers})
      timers.advance(15_000)
      await c.closed()
      assert.equal((await watch.expect('publish')).topic, 'will/c1')
    })

    test('published on a protocol error (a second CONNECT)', async (t) => {
      const {watch, c} = await setup(t)
      c.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: 'c1', clean: true, keepalive: 0})
      await c.closed()
      assert.equal((await watch.expect('publish')).topic, 'will/c1')
    })

    test('published on a malformed packet', async (t) => {
      const {watch, c} = await setup(t)
      c.sendRaw(frame(0x00, hex('')))
      await c.closed()
      assert.equal((await watch.expect('publish')).topic, 'will/c1')
    })

    test('published when the session is taken over', async (t) => {
      const {broker, watch, c} = await setup(t)
      const c2 = new Wire(broker, v)
      await c2.connect({clientId: 'c1'})
      await c.closed()
      assert.equal((await watch.expect('publish')).topic, 'will/c1')
    })

    test('[MQTT-3.1.2-17] will retain 1: stored as a retained message', async (t) => {
      const {broker, watch, c} = await setup(t, will({retain: true}))
      c.end()
      assert.equal((await watch.expect('publish')).retain, false, 'live subscribers see RETAIN 0')
      const late = new Wire(broker, v)
      await late.connect({clientId: 'late'})
      await late.subscribe('will/c1', 0)
      const p = await late.expect('publish')
      assert.equal(p.payload.toString(), 'gone')
      assert.equal(p.retain, true)
    })

    test('[MQTT-3.1.2-16] will retain 0: not retained', async (t) => {
      const {broker, watch, c} = await setup(t)
      c.end()
      await watch.expect('publish')
      assert.equal(engineOf(broker).retained.size, 0)
    })

    test('will QoS is honoured: QoS 1 will to a QoS 2 subscription arrives at QoS 1, to QoS 0 at QoS 0', async (t) => {
      const {broker, watch, c} = await setup(t, will({qos: 1}))
      const low = new Wire(broker, v)
      await low.connect({clientId: 'low'})
      await low.subscribe('will/c1', 0)
      c.end()
      const p = await watch.expect('publish')
      assert.equal(p.qos, 1)
      assert.equal((await low.expect('publish')).qos, 0)
    })

    test('will QoS 2 is delivered at QoS 2', async (t) => {
      const {watch, c} = await setup(t, will({qos: 2}))
      c.end()
      assert.equal((await watch.expect('publish')).qos, 2)
    })

    test('a will the authorizer refuses is not published', async (t) => {
      const {watch, c} = await setup(t, will(), {auth: {authorizePublish: (_c: unknown, topic: string) => topic !== 'will/c1'}})
      c.end()
      await c.closed()
      await watch.quiet()
    })

    test(`a will topic with a wildcard is refused${v === 5 ? ' with CONNACK 0x90' : ': closed'}`, async (t) => {
      const broker = startBroker(t)
      const c = new Wire(broker, v)
      c.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId: 'c1', clean: true, keepalive: 0, ...will({topic: 'will/#'})})
      if (v === 5) assert.equal((await c.expect('connack')).reasonCode, ReasonCode.TopicNameInvalid)
      await c.closed()
      assert.equal(c.buffered.length, 0)
    })

    test('not published when the broker shuts down', async (t) => {
      const {broker, c} = await setup(t)
      const published: string[] = []
      const publish = engineOf(broker).publish.bind(broker)
      engineOf(broker).publish = (m) => { published.push(m.topic); return publish(m) }
      await broker.close()
      await c.closed()
      assert.deepEqual(published, [])
    })
  })
}

describe('will messages v5 only', () => {
  test('[MQTT-3.14.4-3] DISCONNECT with reason 0x04 publishes the will', async (t) => {
    const broker = startBroker(t)
    const watch = await watcher(broker, 5)
    const c = new Wire(broker, 5)
    await c.connect({clientId: 'c1', ...will()})
    c.send({cmd: 'disconnect', reasonCode: ReasonCode.DisconnectWithWill})
    await c.closed()
    assert.equal((await watch.expect('publish')).topic, 'will/c1')
  })

  test('will properties reach the subscriber', async (t) => {
    const broker = startBroker(t)
    const watch = await watcher(broker, 5)
    const c = new Wire(broker, 5)
    await c.connect({clientId: 'c1', ...will({properties: {contentType: 'text/plain', userProperties: {k: 'v'}, responseTopic: 'r', correlationData: Buffer.from('cd')}})})
    c.end()
    const p = await watch.expect('publish')
    assert.equal(p.properties?.contentType, 'text/plain')
    assert.deepEqual({...p.properties?.userProperties}, {k: 'v'})
    assert.equal(p.properties?.responseTopic, 'r')
    assert.deepEqual(p.properties?.correlationData, Buffer.from('cd'))
  })

  test('a will payload that is not UTF-8 with Payload Format Indicator 1 is refused with 0x99', async (t) => {
    const broker = startBroker(t)
    const c = new Wire(broker, 5)
    c.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c1', clean: true, keepalive: 0,
      ...will({payload: Buffer.from([0xff, 0xfe]), properties: {payloadFormatIndicator: true}})})
    assert.equal((await c.expect('connack')).reasonCode, ReasonCode.PayloadFormatInvalid)
    await c.closed()
  })
})
