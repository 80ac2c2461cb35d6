// fast-check arbitraries for every MQTT packet type and version, valid by construction: what our
// encoder writes and our decoder must read back unchanged (test/unit/codec-properties.test.ts).
import fc from 'fast-check'
import {hasDiscouragedText} from '../../src/codec/checks.js'
import type {Packet, ProtocolVersion} from '../../src/codec/index.js'

/**
 * A UTF-8 string field: any code points but U+0000 ([MQTT-1.5.4-2]) and the control characters and
 * non-characters that midge refuses as malformed (v5 1.5.4, src/codec/checks.ts).
 */
const text = (maxLength = 12) => fc.string({unit: 'binary', maxLength}).filter((s) => !s.includes('\0') && !hasDiscouragedText(s))
const topicName = text().map((s) => s.replace(/[+#]/g, '_')).filter((s) => s.length > 0)
const filter = fc.tuple(fc.array(fc.oneof(text(6).map((s) => s.replace(/[+#/]/g, '_')), fc.constant('+')), {minLength: 1, maxLength: 4}), fc.boolean())
  .map(([levels, multi]) => [...levels, ...(multi ? ['#'] : [])].join('/'))
const qos = fc.constantFrom(0 as const, 1 as const, 2 as const)
const packetId = fc.integer({min: 1, max: 65_535})
const u16 = fc.integer({min: 0, max: 65_535})
const u32 = fc.integer({min: 0, max: 0xffffffff})
const bytes = (maxLength = 32) => fc.uint8Array({maxLength}).map((a) => Buffer.from(a))
const userProperties = fc.dictionary(text(6).filter((k) => k.length > 0 && k !== '__proto__'), text(8), {minKeys: 1, maxKeys: 3})
const reasonString = text(20)

/** Optional fields: each key present or absent (never present as undefined). */
function props<T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) {
  return fc.record(fields, {requiredKeys: []})
}

const publishProps = props({
  payloadFormatIndicator: fc.boolean(), messageExpiryInterval: u32, topicAlias: fc.integer({min: 1, max: 65_535}),
  responseTopic: topicName, correlationData: bytes(), userProperties, contentType: text(),
  subscriptionIdentifier: fc.integer({min: 1, max: 268_435_455}),
})

const willProps = props({
  willDelayInterval: u32, payloadFormatIndicator: fc.boolean(), messageExpiryInterval: u32, contentType: text(),
  responseTopic: topicName, correlationData: bytes(), userProperties,
})

function connect(v: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc.record({
    clientId: v === 3 ? text(23).filter((s) => s.length > 0) : text(23),
    clean: fc.boolean(), keepalive: u16,
    will: fc.option(fc.record({topic: topicName, payload: bytes(), qos, retain: fc.boolean(), ...(v === 5 ? {properties: willProps} : {})}), {nil: undefined}),
    login: fc.option(fc.record({username: text(), password: fc.option(bytes(), {nil: undefined})}), {nil: undefined}),
    properties: props({
      sessionExpiryInterval: u32, receiveMaximum: fc.integer({min: 1, max: 65_535}), maximumPacketSize: fc.integer({min: 1, max: 0xffffffff}),
      topicAliasMaximum: u16, requestResponseInformation: fc.boolean(), requestProblemInformation: fc.boolean(), userProperties,
    }),
  }).map(({login, will, properties, ...c}) => {
    // (mqtt-packet writes an empty client id only with a clean start)
    const p: Record<string, unknown> = {cmd: 'connect', protocolId: v === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: v, ...c, clientId: c.clientId || (c.clean ? '' : 'c')}
    if (will) p.will = will
    if (login) { p.username = login.username; if (login.password) p.password = login.password }
    if (v === 5) p.properties = properties
    return p as unknown as Packet
  })
}

function withProps(v: ProtocolVersion, base: Record<string, unknown>, properties: Record<string, unknown>): Packet {
  return (v === 5 ? {...base, properties} : base) as unknown as Packet
}

// (v5 3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1) the reason codes each acknowledgement may carry
const ackReasons = {
  puback: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99], pubrec: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99],
  pubrel: [0x00, 0x92], pubcomp: [0x00, 0x92],
}
const ackProps = props({reasonString, userProperties})

/** Every packet of version v, in both directions (client to server and server to client). */
export function packet(v: ProtocolVersion): fc.Arbitrary<Packet> {
  const arbitraries: Array<fc.Arbitrary<Packet>> = [
    connect(v),
    fc.record({sessionPresent: fc.boolean(), code: fc.constantFrom(...(v === 5 ? [0x00, 0x80, 0x85, 0x86, 0x87, 0x8c] : [0, 1, 2, 3, 4, 5])),
      properties: props({sessionExpiryInterval: u32, receiveMaximum: fc.integer({min: 1, max: 65_535}), maximumQoS: fc.constantFrom(0, 1),
        retainAvailable: fc.boolean(), maximumPacketSize: fc.integer({min: 1, max: 0xffffffff}), assignedClientIdentifier: text(),
        topicAliasMaximum: u16, reasonString, userProperties, wildcardSubscriptionAvailable: fc.boolean(),
        subscriptionIdentifiersAvailable: fc.boolean(), sharedSubscriptionAvailable: fc.boolean(), serverKeepAlive: u16,
        responseInformation: text(), serverReference: text()})})
      .map(({sessionPresent, code, properties}) => withProps(v, {cmd: 'connack', sessionPresent, ...(v === 5 ? {reasonCode: code} : {returnCode: code})}, properties)),
    fc.record({topic: topicName, payload: bytes(64), qos, retain: fc.boolean(), dup: fc.boolean(), messageId: packetId, properties: publishProps})
      .map(({qos: q, dup, messageId, properties, ...p}) => withProps(v, {cmd: 'publish', qos: q, dup: q > 0 && dup, ...(q > 0 ? {messageId} : {}), ...p}, properties)),
    ...(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const).map((cmd) =>
      fc.record({messageId: packetId, reasonCode: fc.constantFrom(...ackReasons[cmd]), properties: ackProps})
        .map(({messageId, reasonCode, properties}) => v === 5 ? {cmd, messageId, reasonCode, properties} as Packet : {cmd, messageId} as Packet)),
    fc.record({messageId: packetId, subscriptions: fc.array(fc.record({topic: filter, qos, nl: fc.boolean(), rap: fc.boolean(), rh: fc.constantFrom(0, 1, 2)}), {minLength: 1, maxLength: 4}),
      properties: props({subscriptionIdentifier: fc.integer({min: 1, max: 268_435_455}), userProperties})})
      .map(({messageId, subscriptions, properties}) => withProps(v, {cmd: 'subscribe', messageId,
        subscriptions: v === 5 ? subscriptions : subscriptions.map(({topic, qos: q}) => ({topic, qos: q}))}, properties)),
    fc.record({messageId: packetId, granted: fc.array(fc.constantFrom(...(v === 5 ? [0, 1, 2, 0x80, 0x87, 0x8f, 0x9e, 0xa1, 0xa2] : [0, 1, 2, 0x80])), {minLength: 1, maxLength: 4}), properties: ackProps})
      .map(({messageId, granted, properties}) => withProps(v, {cmd: 'suback', messageId, granted}, properties)),
    fc.record({messageId: packetId, unsubscriptions: fc.array(filter, {minLength: 1, maxLength: 4}), properties: props({userProperties})})
      .map(({messageId, unsubscriptions, properties}) => withProps(v, {cmd: 'unsubscribe', messageId, unsubscriptions}, properties)),
    fc.constant({cmd: 'pingreq'} as Packet),
    fc.constant({cmd: 'pingresp'} as Packet),
  ]
  if (v === 5) {
    arbitraries.push(
      fc.record({messageId: packetId, codes: fc.array(fc.constantFrom(0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91), {minLength: 1, maxLength: 4}), properties: ackProps})
        .map(({messageId, codes, properties}) => ({cmd: 'unsuback', messageId, granted: codes, properties}) as unknown as Packet),
      fc.record({reasonCode: fc.constantFrom(0x00, 0x04, 0x80, 0x81, 0x82, 0x8b, 0x8e, 0x93), properties: props({sessionExpiryInterval: u32, reasonString, userProperties, serverReference: text()})})
        .map((d) => ({cmd: 'disconnect', ...d}) as Packet),
      fc.record({reasonCode: fc.constantFrom(0x00, 0x18, 0x19), properties: props({authenticationMethod: text(), authenticationData: bytes(), reasonString, userProperties})})
        .map((a) => ({cmd: 'auth', ...a}) as Packet),
    )
  } else {
    arbitraries.push(fc.record({messageId: packetId}).map(({messageId}) => ({cmd: 'unsuback', messageId}) as Packet), fc.constant({cmd: 'disconnect'} as Packet))
  }
  return fc.oneof(...arbitraries)
}
