import {ALL, f, props, refused, s, table, type Row} from './table.js'

// PUBLISH from a client: header bits, topic names, packet identifiers, v5 properties, $SYS and $share.

type V = 3 | 4 | 5
const rows: Row[] = []
const row = (v: V, name: string, spec: string, script: string[], extra: Partial<Row> = {}) => rows.push({v, name, spec, script, ...extra})

/** A PUBLISH in hex: first byte, topic field (hex), packet id (QoS > 0), v5 properties, payload. */
function pub(v: V, first: number, topic: string, o: {id?: string; props?: string; payload?: string} = {}): string {
  const qos = (first >> 1) & 3
  return f(first, topic, qos > 0 ? (o.id ?? '0001') : '', v === 5 ? (o.props ?? '00') : '', o.payload ?? '6869')
}
/** The PUBACK/PUBREC for packet id 1 (v5: with a reason code, 0x10 no subscribers by default; v3: the code is not sent). */
const ack = (v: V, type: 0x40 | 0x50, code = 0x10) => v === 5 ? `< ${type.toString(16)} 04 0001 ${code.toString(16).padStart(2, '0')} 00` : `< ${type.toString(16)} 02 0001`
/** SUBSCRIBE to a filter with QoS 2, and its SUBACK. */
const sub = (v: V, filter: string) => [`> ${f(0x82, '0001', v === 5 ? '00' : '', s(filter), '02')}`, v === 5 ? '< 90 04 0001 00 02' : '< 90 03 0001 02']

for (const v of ALL) {
  const name = v === 5 ? '[MQTT-1.5.4-1]' : '[MQTT-1.5.3-1]'
  const nul = v === 5 ? '[MQTT-1.5.4-2]' : '[MQTT-1.5.3-2]'
  const ctl = '(v5 1.5.4, v3.1.1 1.5.3: SHOULD NOT; midge closes, like Mosquitto)'
  row(v, 'QoS 0', '(v3.1.1 3.3, v5 3.3)', [`> ${pub(v, 0x30, s('t'))}`])
  row(v, 'QoS 1: PUBACK', '(v3.1.1 4.3.2, v5 4.3.2)', [`> ${pub(v, 0x32, s('t'))}`, ack(v, 0x40)])
  row(v, 'QoS 2: PUBREC, PUBREL, PUBCOMP', '(v3.1.1 4.3.3, v5 4.3.3)', [`> ${pub(v, 0x34, s('t'))}`, ack(v, 0x50), '> 62 02 0001', '< 70 02 0001'])
  row(v, 'QoS 2 sent twice before PUBREL: PUBREC twice, delivered once', '[MQTT-4.3.3-9] (v5; v3.1.1 4.3.3)',
    [...sub(v, 't'), `> ${pub(v, 0x34, s('t'))}`, `< ${pub(v, 0x34, s('t'))}`, '< 50 02 0001', `> ${pub(v, 0x3c, s('t'))}`, '< 50 02 0001'])
  row(v, 'QoS 1 delivered to its own subscription, then PUBACK', '(v3.1.1 4.6, v5 4.6: order)',
    [...sub(v, 't'), `> ${pub(v, 0x32, s('t'))}`, `< ${pub(v, 0x32, s('t'))}`, '< 40 02 0001', '> 40 02 0001'])
  row(v, 'retained QoS 0', '(v3.1.1 3.3.1.3, v5 3.3.1.3)', [`> ${pub(v, 0x31, s('t'))}`, ...sub(v, 't'), `< ${v === 5 ? '31 06 74'.replace('31 06 74', f(0x31, s('t'), '00', '6869')) : f(0x31, s('t'), '6869')}`])
  row(v, 'QoS 3', '[MQTT-3.3.1-4]', [`> ${pub(v, 0x36, s('t'), {id: '0001'})}`, ...refused(v, 0x81)])
  row(v, 'QoS 3 with retain and DUP', '[MQTT-3.3.1-4]', [`> ${pub(v, 0x3f, s('t'), {id: '0001'})}`, ...refused(v, 0x81)])
  row(v, 'DUP on QoS 0', '[MQTT-3.3.1-2]', [`> ${pub(v, 0x38, s('t'))}`, ...refused(v, 0x81)])
  row(v, 'DUP on QoS 1 is fine', '(v3.1.1 3.3.1.1, v5 3.3.1.1)', [`> ${pub(v, 0x3a, s('t'))}`, ack(v, 0x40)])
  // topic names
  for (const topic of ['+', '#', 'a/+', 'a/#', 'a+', '#a', '+/b']) {
    row(v, `topic name '${topic}'`, '[MQTT-3.3.2-2] [MQTT-4.7.1-1]', [`> ${pub(v, 0x30, s(topic))}`, ...refused(v, 0x90)])
  }
  row(v, 'empty topic name', v === 5 ? '(v5 3.3.2.1: an empty topic needs a Topic Alias) [MQTT-4.7.3-1]' : '[MQTT-4.7.3-1]', [`> ${pub(v, 0x30, s(''))}`, ...refused(v, 0x82)])
  row(v, 'QoS 1 with an empty topic name', '[MQTT-4.7.3-1]', [`> ${pub(v, 0x32, s(''))}`, ...refused(v, 0x82)])
  for (const [what, bytes, spec] of [
    ['U+0000', '0x7400', nul], ['a lone continuation byte', '0x74bf', name], ['an overlong slash', '0xc0af', name], ['a surrogate', '0xedb080', name],
    ['a cut-off sequence', '0x74e2', name], ['a line feed', '0x740a', ctl], ['ESC', '0x1b5b3331', ctl], ['a carriage return', '0x0d', ctl], ['DEL', '0x747f', ctl],
    ['U+0080', '0xc280', ctl], ['U+009B (CSI)', '0xc29b', ctl], ['the non-character U+FFFE', '0xefbfbe', ctl], ['the non-character U+10FFFF', '0xf48fbfbf', ctl],
  ]) {
    row(v, `topic name with ${what}`, spec, [`> ${pub(v, 0x30, s(bytes))}`, ...refused(v, 0x81)])
    row(v, `QoS 1 topic name with ${what}`, spec, [`> ${pub(v, 0x32, s(bytes))}`, ...refused(v, 0x81)])
  }
  row(v, 'topic name with non-ASCII letters', name, [`> ${pub(v, 0x32, s('ça/ü/€/😀'))}`, ack(v, 0x40)])
  row(v, 'a payload may hold any bytes', '(v5 3.3.3, v3.1.1 3.3.3)', [`> ${pub(v, 0x32, s('t'), {payload: '000a1b7fc280ffff'})}`, ack(v, 0x40)])
  row(v, 'topic length past the packet', '(v3.1.1 3.3.2.1, v5 3.3.2.1)', [`> ${f(0x30, '0005 74')}`, ...refused(v, 0x81)])
  row(v, 'topic length cut off', '(v3.1.1 3.3.2.1, v5 3.3.2.1)', [`> ${f(0x30, '00')}`, ...refused(v, 0x81)])
  row(v, 'QoS 1 without a packet identifier', '(v3.1.1 3.3.2.2, v5 3.3.2.2)', [`> ${f(0x32, s('t'))}`, ...refused(v, 0x81)])
  row(v, 'QoS 1 with half a packet identifier', '(v3.1.1 3.3.2.2, v5 3.3.2.2)', [`> ${f(0x32, s('t'), '00')}`, ...refused(v, 0x81)])
  row(v, 'QoS 1 packet identifier 0', v === 5 ? '[MQTT-2.2.1-3]' : '[MQTT-2.3.1-1]', [`> ${pub(v, 0x32, s('t'), {id: '0000'})}`, ...refused(v, 0x82)])
  row(v, 'QoS 2 packet identifier 0', v === 5 ? '[MQTT-2.2.1-3]' : '[MQTT-2.3.1-1]', [`> ${pub(v, 0x34, s('t'), {id: '0000'})}`, ...refused(v, 0x82)])
  // $SYS and $share: Mosquitto refuses them (acl__check_dollar); v5 is told 0x87, v3 acknowledged and dropped
  const sys = '(midge, as Mosquitto: clients cannot publish into $SYS; v5 3.4.2.1 0x87)'
  for (const topic of ['$SYS/broker/uptime', '$SYS/broker/clients/connected', '$SYS/anything', '$SYS']) {
    row(v, `QoS 1 into ${topic}: refused, not delivered`, sys, [...sub(v, '$SYS/#'), `> ${pub(v, 0x32, s(topic))}`, ack(v, 0x40, 0x87)])
    row(v, `QoS 0 into ${topic}: dropped`, sys, [...sub(v, '$SYS/#'), `> ${pub(v, 0x30, s(topic))}`])
  }
  row(v, 'QoS 1 into $SYS/broker/connection/b/state: allowed (a bridge\'s notification)', '(Mosquitto: $SYS/broker/connection/+/state)',
    [...sub(v, '$SYS/#'), `> ${pub(v, 0x32, s('$SYS/broker/connection/b/state'), {payload: '31'})}`,
      `< ${f(0x32, s('$SYS/broker/connection/b/state'), '0001', v === 5 ? '00' : '', '31')}`, '< 40 02 0001'])
  row(v, 'QoS 2 into $SYS/broker/load: refused', sys, [`> ${pub(v, 0x34, s('$SYS/broker/load'))}`, v === 5 ? '< 50 04 0001 87 00' : '< 50 02 0001', '> 62 02 0001', v === 5 ? '< 70 04 0001 92 00' : '< 70 02 0001'])
  row(v, 'QoS 1 into $share/g/t: refused', '(v5 4.8.2: $share/ is a filter, not a topic; Mosquitto refuses it)', [...sub(v, '$share/g/t'), `> ${pub(v, 0x32, s('$share/g/t'))}`, ack(v, 0x40, 0x87)])
  row(v, 'QoS 1 into $other/t: allowed, matches no #', '[MQTT-4.7.2-1]', [...sub(v, '#'), `> ${pub(v, 0x32, s('$other/t'))}`, ack(v, 0x40)])
}

// v5 properties on PUBLISH (v5 3.3.2.3, 2.2.2.2)
const p5 = (p: string, o: {first?: number; topic?: string; payload?: string} = {}) => pub(5, o.first ?? 0x32, s(o.topic ?? 't'), {props: props(p), payload: o.payload})
const v5rows: Array<[string, string, string[]]> = [
  ['Payload Format Indicator 1 and UTF-8', '(v5 3.3.2.3.2)', [`> ${p5('0101', {payload: '6869'})}`, '< 40 04 0001 10 00']],
  ['Payload Format Indicator 1 and a payload that is not UTF-8', '[MQTT-3.3.2-4] (v5 3.3.2.3.2: MAY answer 0x99)', [`> ${p5('0101', {payload: 'ff'})}`, '< 40 04 0001 99 00']],
  ['Payload Format Indicator 2', '(v5 3.3.2.3.2: 0 or 1)', [`> ${p5('0102')}`, ...refused(5, 0x82)]],
  ['Payload Format Indicator twice', '(v5 3.3.2.3.2: more than once is a Protocol Error)', [`> ${p5('0101 0101')}`, ...refused(5, 0x82)]],
  ['Message Expiry Interval twice', '(v5 3.3.2.3.3)', [`> ${p5('0200000001 0200000001')}`, ...refused(5, 0x82)]],
  ['Topic Alias 0', '[MQTT-3.3.2-8]', [`> ${p5('230000')}`, ...refused(5, 0x94)]],
  ['Topic Alias above the maximum', '[MQTT-3.3.2-10]', [`> ${p5('23000b')}`, ...refused(5, 0x94)]],
  ['Topic Alias twice', '(v5 3.3.2.3.4)', [`> ${p5('230001 230001')}`, ...refused(5, 0x82)]],
  ['an unknown Topic Alias and an empty topic', '(v5 3.3.2.3.4: a Protocol Error)', [`> ${p5('230001', {topic: ''})}`, ...refused(5, 0x82)]],
  ['a Topic Alias set, then used', '(v5 3.3.2.3.4)', [`> ${p5('230001')}`, '< 40 04 0001 10 00', `> ${p5('230001', {topic: ''}).replace('0001', '0002')}`, '< 40 04 0002 10 00']],
  ['Response Topic with a wildcard', '[MQTT-3.3.2-14]', [`> ${p5('08' + s('r/+'))}`, ...refused(5, 0x82)]],
  ['Response Topic with a control character', '(v5 1.5.4; midge closes, like Mosquitto)', [`> ${p5('08' + s('0x0a'))}`, ...refused(5, 0x81)]],
  ['an empty Response Topic', '[MQTT-4.7.3-1] (v5 3.3.2.3.5: a topic name)', [`> ${p5('08' + s(''))}`, ...refused(5, 0x82)]],
  ['Response Topic twice', '(v5 3.3.2.3.5)', [`> ${p5('08' + s('r') + '08' + s('r'))}`, ...refused(5, 0x82)]],
  ['Correlation Data twice', '(v5 3.3.2.3.6)', [`> ${p5('09 0001 aa 09 0001 aa')}`, ...refused(5, 0x82)]],
  ['Correlation Data with any bytes', '(v5 3.3.2.3.6: binary)', [`> ${p5('09 0002 000a')}`, '< 40 04 0001 10 00']],
  ['a User Property', '(v5 3.3.2.3.7)', [`> ${p5('26' + s('k') + s('v'))}`, '< 40 04 0001 10 00']],
  ['a User Property twice with the same name', '(v5 3.3.2.3.7: may appear more than once)', [`> ${p5('26' + s('k') + s('v') + '26' + s('k') + s('v'))}`, '< 40 04 0001 10 00']],
  ['a User Property with a control character', '(v5 1.5.4; midge closes, like Mosquitto)', [`> ${p5('26' + s('k') + s('0x1b'))}`, ...refused(5, 0x81)]],
  ['a User Property without its value', '(v5 1.5.7)', [`> ${p5('26' + s('k'))}`, ...refused(5, 0x81)]],
  ['a Subscription Identifier', '[MQTT-3.3.4-6]', [`> ${p5('0b01')}`, ...refused(5, 0x82)]],
  ['Content Type twice', '(v5 3.3.2.3.9)', [`> ${p5('03' + s('a') + '03' + s('a'))}`, ...refused(5, 0x82)]],
  ['Content Type with U+0000', '[MQTT-1.5.4-2]', [`> ${p5('03' + s('0x6100'))}`, ...refused(5, 0x81)]],
  ['a Session Expiry Interval (not a PUBLISH property)', '(v5 2.2.2.2)', [`> ${p5('1100000001')}`, ...refused(5, 0x81)]],
  ['a Reason String (not a PUBLISH property)', '(v5 2.2.2.2)', [`> ${p5('1f' + s('x'))}`, ...refused(5, 0x81)]],
  ['a Server Keep Alive (not a PUBLISH property)', '(v5 2.2.2.2)', [`> ${p5('13000a')}`, ...refused(5, 0x81)]],
  ['an unknown property 0x00', '(v5 2.2.2.2)', [`> ${p5('0000')}`, ...refused(5, 0x81)]],
  ['an unknown property 0x7f', '(v5 2.2.2.2)', [`> ${p5('7f00')}`, ...refused(5, 0x81)]],
  ['a property length past the packet', '(v5 2.2.2.1)', [`> ${f(0x32, s('t'), '0001', '09', '0101')}`, ...refused(5, 0x81)]],
  ['a property cut off by the property length', '(v5 2.2.2.1)', [`> ${f(0x32, s('t'), '0001', '02', '020000', '6869')}`, ...refused(5, 0x81)]],
  ['no property length at all', '(v5 3.3.2.3.1)', [`> ${f(0x30, s('t'))}`, ...refused(5, 0x81)]],
]
for (const [name, spec, script] of v5rows) row(5, `PUBLISH with ${name}`, spec, script)


// what the broker announced in CONNACK, enforced [MQTT-3.2.2-11] [MQTT-3.2.2-14] (v5; 3.x: closed)
const limited: Array<[string, string, Partial<Row['options']>, (v: V) => string, number]> = [
  ['QoS 2 above Maximum QoS 1', '[MQTT-3.2.2-11]', {maxQos: 1}, (v) => pub(v, 0x34, s('t')), 0x9b],
  ['QoS 1 above Maximum QoS 0', '[MQTT-3.2.2-11]', {maxQos: 0}, (v) => pub(v, 0x32, s('t')), 0x9b],
  ['a retained message when Retain Available is 0', '[MQTT-3.2.2-14]', {retainAvailable: false}, (v) => pub(v, 0x31, s('t')), 0x9a],
  ['a topic alias above our Topic Alias Maximum 2', '[MQTT-3.3.2-10]', {topicAliasMaximum: 2}, () => pub(5, 0x30, s('t'), {props: props('230003')}), 0x94],
]
for (const v of ALL) {
  for (const [name, spec, options, bytes, code] of limited) {
    if (name.includes('alias') && v !== 5) continue
    rows.push({v, name: `PUBLISH with ${name}`, spec, options, script: [`> ${bytes(v)}`, ...refused(v, code)]})
  }
}
// [MQTT-3.3.4-9] more QoS 2 PUBLISHes awaiting PUBREL than our Receive Maximum: 0x93
rows.push({v: 5, name: 'a third QoS 2 PUBLISH with Receive Maximum 2', spec: '[MQTT-3.3.4-9]', options: {receiveMaximum: 2},
  script: [`> ${pub(5, 0x34, s('t'), {id: '0001'})}`, '< 50 04 0001 10 00', `> ${pub(5, 0x34, s('t'), {id: '0002'})}`, '< 50 04 0002 10 00',
    `> ${pub(5, 0x34, s('t'), {id: '0003'})}`, ...refused(5, 0x93)]})
rows.push({v: 5, name: 'QoS 2 PUBLISHes within Receive Maximum 2 once one is released', spec: '[MQTT-3.3.4-9]', options: {receiveMaximum: 2},
  script: [`> ${pub(5, 0x34, s('t'), {id: '0001'})}`, '< 50 04 0001 10 00', `> ${pub(5, 0x34, s('t'), {id: '0002'})}`, '< 50 04 0002 10 00',
    '> 62 02 0001', '< 70 02 0001', `> ${pub(5, 0x34, s('t'), {id: '0003'})}`, '< 50 04 0003 10 00']})

table('strict peer: PUBLISH against the announced limits', rows.splice(rows.findIndex((r) => r.options !== undefined)))
table('strict peer: PUBLISH', rows)
