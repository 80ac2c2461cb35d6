// Interop (mqtt npm package, v5): request/response metadata, Response Information, reason codes and
// reason strings, server-initiated DISCONNECT.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {ReasonCode} from '../../src/index.js'
import {connack, fixture, inbox, nextEvent} from './mqtt5-helpers.js'

describe('mqtt.js v5: request/response, reason codes, DISCONNECT', () => {
  test('Response Topic, Correlation Data, User Properties, Content Type and Payload Format pass through', async (t) => {
    const f = await fixture(t, {responseInformation: 'reply/%c/'})
    const responder = await f.client({clientId: 'responder'})
    await responder.subscribeAsync('rr/req', {qos: 1})
    const requester = await f.client({clientId: 'requester', properties: {requestResponseInformation: true}})
    const base = connack(requester).properties?.responseInformation
    assert.equal(base, 'reply/requester/')
    await requester.subscribeAsync(`${base}#`, {qos: 1})
    let answered: Promise<unknown> | undefined
    responder.on('message', (_topic, payload, packet) => {
      const p = packet.properties!
      answered = responder.publishAsync(p.responseTopic!, `echo ${payload}`, {qos: 1, properties: {correlationData: p.correlationData}})
    })
    const properties = {responseTopic: `${base}1`, correlationData: Buffer.from([1, 2, 3]), contentType: 'text/plain',
      payloadFormatIndicator: true, userProperties: {trace: 'abc', multi: ['x', 'y']}}
    await requester.publishAsync('rr/req', 'ping', {qos: 1, properties})
    const req = await inbox(responder).next()
    assert.equal(req.packet.properties?.contentType, 'text/plain')
    assert.equal(req.packet.properties?.payloadFormatIndicator, true)
    assert.deepEqual(JSON.parse(JSON.stringify(req.packet.properties?.userProperties)), {trace: 'abc', multi: ['x', 'y']})
    const resp = await inbox(requester).next()
    assert.equal(resp.topic, `${base}1`)
    assert.equal(resp.payload.toString(), 'echo ping')
    assert.deepEqual(resp.packet.properties?.correlationData, Buffer.from([1, 2, 3]))
    await answered
  })

  test('PUBACK 0x10 when nobody subscribes, 0x87 with a reason string when not authorized, 0x99 for a bad UTF-8 payload', async (t) => {
    const f = await fixture(t, {auth: {authorizePublish: (_c, topic) => !topic.startsWith('secret')}})
    const c = await f.client({clientId: 'c'})
    const puback = nextEvent(c, 'packetreceive')
    await c.publishAsync('nobody/here', 'x', {qos: 1})
    const [ack] = await puback
    assert.equal(ack.cmd, 'puback')
    assert.equal(ack.reasonCode, ReasonCode.NoMatchingSubscribers)
    const refusal = nextEvent(c, 'packetreceive')
    await assert.rejects(c.publishAsync('secret/x', 'x', {qos: 1}), (e: Error & {code?: number}) => e.code === ReasonCode.NotAuthorized)
    const [refused] = await refusal
    assert.equal(refused.reasonCode, ReasonCode.NotAuthorized)
    assert.match(refused.properties?.reasonString ?? '', /not authorized/)
    await assert.rejects(c.publishAsync('t', Buffer.from([0xff]), {qos: 1, properties: {payloadFormatIndicator: true}}),
      (e: Error & {code?: number}) => e.code === ReasonCode.PayloadFormatInvalid)
  })

  test('SUBACK reason codes: the granted QoS, 0x87 for a refused filter', async (t) => {
    const f = await fixture(t, {maxQos: 1, auth: {authorizeSubscribe: (_c, filter) => !filter.startsWith('secret')}})
    const c = await f.client({clientId: 'c'})
    assert.deepEqual((await c.subscribeAsync({'ok/#': {qos: 2}})).map((g) => g.qos), [1])
    const suback = nextEvent(c, 'packetreceive')
    await assert.rejects(c.subscribeAsync({'fine/#': {qos: 0}, 'secret/#': {qos: 0}}))
    const [packet] = await suback
    assert.deepEqual(packet.granted, [0, ReasonCode.NotAuthorized])
  })

  test('DISCONNECT from the broker: 0x8E on takeover, 0x8B on shutdown', async (t) => {
    const f = await fixture(t)
    const old = await f.client({clientId: 'same'})
    const taken = nextEvent(old, 'disconnect')
    const neu = await f.client({clientId: 'same'})
    assert.equal((await taken)[0].reasonCode, ReasonCode.SessionTakenOver)
    const shut = nextEvent(neu, 'disconnect')
    await f.broker.close()
    assert.equal((await shut)[0].reasonCode, ReasonCode.ServerShuttingDown)
  })

  test('reason strings are left out when mqtt.js sets Request Problem Information 0', async (t) => {
    const f = await fixture(t, {auth: {authorizePublish: () => false}})
    const c = await f.client({clientId: 'quiet', properties: {requestProblemInformation: false}})
    const refusal = nextEvent(c, 'packetreceive')
    await assert.rejects(c.publishAsync('x', 'x', {qos: 1}))
    const [refused] = await refusal
    assert.equal(refused.reasonCode, ReasonCode.NotAuthorized)
    assert.equal(refused.properties?.reasonString, undefined)
  })
})
