import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/codec/index.js'
import {startBroker, Wire} from '../helpers/wire.js'

describe('v5 request/response and metadata passthrough', () => {
  test('[MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-20] properties reach subscribers unchanged', async (t) => {
    const broker = startBroker(t)
    const responder = new Wire(broker, 5)
    await responder.connect({clientId: 'responder'})
    await responder.subscribe('req', 1)
    const requester = new Wire(broker, 5)
    await requester.connect({clientId: 'requester'})
    await requester.subscribe('resp/requester', 1)
    const props = {
      responseTopic: 'resp/requester', correlationData: Buffer.from([0, 1, 2, 255]), contentType: 'application/json',
      payloadFormatIndicator: true, userProperties: {a: '1', b: ['2', '3'], 'ü': 'ñ'},
    }
    requester.publish('req', '{"q":1}', 1, {messageId: 1, properties: props})
    await requester.expect('puback')
    const req = await responder.expect('publish')
    assert.equal(req.properties?.responseTopic, 'resp/requester')
    assert.deepEqual(req.properties?.correlationData, props.correlationData)
    assert.equal(req.properties?.contentType, 'application/json')
    assert.equal(req.properties?.payloadFormatIndicator, true)
    assert.deepEqual(JSON.parse(JSON.stringify(req.properties?.userProperties)), {a: '1', b: ['2', '3'], 'ü': 'ñ'})
    await responder.ack(req)
    responder.publish(req.properties!.responseTopic!, '{"a":2}', 1, {messageId: 2, properties: {correlationData: req.properties!.correlationData}})
    await responder.expect('puback')
    const resp = await requester.expect('publish')
    assert.deepEqual(resp.properties?.correlationData, props.correlationData)
    assert.equal(resp.payload.toString(), '{"a":2}')
  })

  test('messages with properties keep their order', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    await w.subscribe('t', 0)
    for (let i = 0; i < 20; i++) w.publish('t', String(i), 0, {properties: {correlationData: Buffer.from([i]), userProperties: {i: String(i)}}})
    for (let i = 0; i < 20; i++) {
      const p = await w.expect('publish')
      assert.equal(p.payload.toString(), String(i))
      assert.deepEqual(p.properties?.correlationData, Buffer.from([i]))
    }
  })

  test('[MQTT-3.3.2-4] Payload Format Indicator 1 with a payload that is not UTF-8: PUBACK/PUBREC 0x99, not delivered', async (t) => {
    const broker = startBroker(t)
    const sub = new Wire(broker, 5)
    await sub.connect({clientId: 'sub'})
    await sub.subscribe('t', 0)
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('t', Buffer.from([0xc3, 0x28]), 1, {messageId: 1, properties: {payloadFormatIndicator: true}})
    assert.equal((await w.expect('puback')).reasonCode, ReasonCode.PayloadFormatInvalid)
    w.publish('t', Buffer.from([0xff]), 2, {messageId: 2, properties: {payloadFormatIndicator: true}})
    assert.equal((await w.expect('pubrec')).reasonCode, ReasonCode.PayloadFormatInvalid)
    w.publish('t', Buffer.from([0xff]), 1, {messageId: 3}) // without the indicator bytes are bytes
    await w.expect('puback')
    assert.deepEqual((await sub.expect('publish')).payload, Buffer.from([0xff]))
    await sub.quiet()
  })

  test('[MQTT-3.3.2-4] Payload Format Indicator 1 with a bad payload on QoS 0: DISCONNECT 0x99', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('t', Buffer.from([0xff]), 0, {properties: {payloadFormatIndicator: true}})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.PayloadFormatInvalid)
  })

  test('[MQTT-3.3.2-14] a Response Topic with a wildcard is a protocol error', async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('t', 'x', 0, {properties: {responseTopic: 'resp/#'}})
    assert.equal((await w.expect('disconnect')).reasonCode, ReasonCode.ProtocolError)
  })

  test('a v3 subscriber gets the payload only', async (t) => {
    const broker = startBroker(t)
    const v3 = new Wire(broker, 4)
    await v3.connect({clientId: 'v3'})
    await v3.subscribe('t', 0)
    const w = new Wire(broker, 5)
    await w.connect()
    w.publish('t', 'x', 0, {properties: {responseTopic: 'r', correlationData: Buffer.from('c'), userProperties: {a: 'b'}}})
    const p = await v3.expect('publish')
    assert.equal(p.payload.toString(), 'x')
    assert.equal(p.properties, undefined)
  })
})
