import {ALL, f, props, refused, s, table, type Row} from './table.js'

// SUBSCRIBE and UNSUBSCRIBE: filters, options, packet identifiers, v5 properties.

type V = 3 | 4 | 5
const rows: Row[] = []
const row = (v: V, name: string, spec: string, script: string[]) => rows.push({v, name, spec, script})

/** SUBSCRIBE (packet id 1) with [filter field hex, options hex] pairs; v5 with the given properties. */
const subscribe = (v: V, entries: Array<[string, string]>, p = '00', id = '0001') =>
  f(0x82, id, v === 5 ? p : '', ...entries.flatMap(([filter, options]) => [filter, options]))
const unsubscribe = (v: V, filters: string[], p = '00', id = '0001') => f(0xa2, id, v === 5 ? p : '', ...filters)
/** SUBACK for packet id 1 with these codes (v5: with an empty property section). */
const suback = (v: V, ...codes: number[]) => `< ${f(0x90, '0001', v === 5 ? '00' : '', ...codes.map((c) => c.toString(16).padStart(2, '0')))}`
/** UNSUBACK for packet id 1: v3 has no codes, v5 one per filter. */
const unsuback = (v: V, ...codes: number[]) => `< ${f(0xb0, '0001', ...(v === 5 ? ['00', ...codes.map((c) => c.toString(16).padStart(2, '0'))] : []))}`
const invalid = (v: V) => v === 5 ? 0x8f : 0x80

for (const v of ALL) {
  const empty = '[MQTT-4.7.3-1]'
  const nul = v === 5 ? '[MQTT-1.5.4-2]' : '[MQTT-1.5.3-2]'
  const utf8 = v === 5 ? '[MQTT-1.5.4-1]' : '[MQTT-1.5.3-1]'
  const ctl = '(v5 1.5.4, v3.1.1 1.5.3: SHOULD NOT; midge closes, like Mosquitto)'
  // SUBSCRIBE
  row(v, 'SUBSCRIBE QoS 0, 1, 2', '(v3.1.1 3.9.3, v5 3.9.3)', [`> ${subscribe(v, [[s('a'), '00'], [s('b'), '01'], [s('c'), '02']])}`, suback(v, 0, 1, 2)])
  row(v, 'SUBSCRIBE to an empty filter', empty, [`> ${subscribe(v, [[s(''), '00']])}`, ...refused(v, 0x82)])
  row(v, 'SUBSCRIBE to an empty filter after a good one', empty, [`> ${subscribe(v, [[s('a'), '00'], [s(''), '01']])}`, ...refused(v, 0x82)])
  row(v, 'SUBSCRIBE to an empty filter before a good one', empty, [`> ${subscribe(v, [[s(''), '00'], [s('a'), '01']])}`, ...refused(v, 0x82)])
  row(v, 'SUBSCRIBE without filters', v === 5 ? '[MQTT-3.8.3-2]' : '[MQTT-3.8.3-3]', [`> ${subscribe(v, [])}`, ...refused(v, 0x82)])
  row(v, 'SUBSCRIBE with packet identifier 0', v === 5 ? '[MQTT-2.2.1-3]' : '[MQTT-2.3.1-1]', [`> ${subscribe(v, [[s('a'), '00']], '00', '0000')}`, ...refused(v, 0x82)])
  row(v, 'SUBSCRIBE with half a packet identifier', '(v3.1.1 3.8.2, v5 3.8.2)', [`> ${f(0x82, '00')}`, ...refused(v, 0x81)])
  row(v, 'SUBSCRIBE with a filter but no options byte', '(v3.1.1 3.8.3, v5 3.8.3)', [`> ${subscribe(v, [[s('a'), '']])}`, ...refused(v, 0x81)])
  row(v, 'SUBSCRIBE with a filter length past the packet', '(v3.1.1 3.8.3, v5 3.8.3)', [`> ${subscribe(v, [['0009 61', '00']])}`, ...refused(v, 0x81)])
  row(v, 'SUBSCRIBE with a requested QoS of 3', v === 5 ? '(v5 3.8.3.1: a Malformed Packet)' : '[MQTT-3-8.3-4]', [`> ${subscribe(v, [[s('a'), '03']])}`, ...refused(v, 0x81)])
  if (v === 5) {
    row(v, 'SUBSCRIBE with reserved option bit 6', '[MQTT-3.8.3-5]', [`> ${subscribe(v, [[s('a'), '40']])}`, ...refused(v, 0x81)])
    row(v, 'SUBSCRIBE with reserved option bit 7', '[MQTT-3.8.3-5]', [`> ${subscribe(v, [[s('a'), '80']])}`, ...refused(v, 0x81)])
    row(v, 'SUBSCRIBE with Retain Handling 3', '(v5 3.8.3.1: a Protocol Error)', [`> ${subscribe(v, [[s('a'), '30']])}`, ...refused(v, 0x82)])
    row(v, 'SUBSCRIBE with No Local on a shared subscription', '[MQTT-3.8.3-4]', [`> ${subscribe(v, [[s('$share/g/a'), '04']])}`, ...refused(v, 0x82)])
    row(v, 'SUBSCRIBE with every option', '(v5 3.8.3.1)', [`> ${subscribe(v, [[s('a'), '2e']])}`, suback(v, 2)])
    row(v, 'SUBSCRIBE with a Subscription Identifier', '(v5 3.8.2.1.2)', [`> ${subscribe(v, [[s('a'), '00']], props('0b05'))}`, suback(v, 0)])
    row(v, 'SUBSCRIBE with Subscription Identifier 0', '(v5 3.8.2.1.2: a Protocol Error)', [`> ${subscribe(v, [[s('a'), '00']], props('0b00'))}`, ...refused(v, 0x82)])
    row(v, 'SUBSCRIBE with two Subscription Identifiers', '(v5 3.8.2.1.2: a Protocol Error)', [`> ${subscribe(v, [[s('a'), '00']], props('0b01 0b02'))}`, ...refused(v, 0x82)])
    row(v, 'SUBSCRIBE with a User Property', '(v5 3.8.2.1.3)', [`> ${subscribe(v, [[s('a'), '00']], props('26' + s('k') + s('v')))}`, suback(v, 0)])
    row(v, 'SUBSCRIBE with a Message Expiry Interval (not a SUBSCRIBE property)', '(v5 2.2.2.2)', [`> ${subscribe(v, [[s('a'), '00']], props('0200000001'))}`, ...refused(v, 0x81)])
    row(v, 'SUBSCRIBE with a Reason String (not a SUBSCRIBE property)', '(v5 2.2.2.2)', [`> ${subscribe(v, [[s('a'), '00']], props('1f' + s('x')))}`, ...refused(v, 0x81)])
    row(v, 'SUBSCRIBE with a property length past the packet', '(v5 2.2.2.1)', [`> ${f(0x82, '0001', '20', s('a'), '00')}`, ...refused(v, 0x81)])
    row(v, 'SUBSCRIBE with no property length', '(v5 3.8.2.1)', [`> ${f(0x82, '0001')}`, ...refused(v, 0x81)])
  } else {
    row(v, 'SUBSCRIBE with reserved option bits', '[MQTT-3-8.3-4]', [`> ${subscribe(v, [[s('a'), '04']])}`, ...refused(v, 0x81)])
    row(v, 'SUBSCRIBE with reserved option bit 7', '[MQTT-3-8.3-4]', [`> ${subscribe(v, [[s('a'), '80']])}`, ...refused(v, 0x81)])
  }
  for (const filter of ['a/#/b', 'a#', '#/', 'a+', '+a/b', 'a/++', '$share/g', '$share//a', '$share/g+/a']) {
    if (v === 3) {
      row(v, `SUBSCRIBE to the invalid filter '${filter}': closed (3.1 has no failure code)`, '(v3.1 3.9; Mosquitto closes too)',
        [`> ${subscribe(v, [[s('a'), '01'], [s(filter), '01']])}`, 'close'])
      continue
    }
    row(v, `SUBSCRIBE to the invalid filter '${filter}': refused in SUBACK`, v === 5 ? '(v5 3.9.3: 0x8F Topic Filter invalid) [MQTT-4.7.1-1]' : '[MQTT-4.7.1-1] (v3.1.1 3.9.3: 0x80)',
      [`> ${subscribe(v, [[s('a'), '01'], [s(filter), '01']])}`, suback(v, 1, invalid(v))])
  }
  for (const filter of ['#', '+', '+/+', '/', '//', 'a/+/#', '$SYS/#', '$share/g/#', 'ça/+']) {
    row(v, `SUBSCRIBE to the valid filter '${filter}'`, '(v3.1.1 4.7, v5 4.7)', [`> ${subscribe(v, [[s(filter), '01']])}`, suback(v, 1)])
  }
  for (const [what, bytes, spec] of [['U+0000', '0x6100', nul], ['bad UTF-8', '0x61ff', utf8], ['a line feed', '0x610a', ctl], ['ESC', '0x1b', ctl], ['U+0085', '0xc285', ctl], ['U+FFFF', '0xefbfbf', ctl]]) {
    row(v, `SUBSCRIBE to a filter with ${what}`, spec, [`> ${subscribe(v, [[s(bytes), '00']])}`, ...refused(v, 0x81)])
    row(v, `UNSUBSCRIBE from a filter with ${what}`, spec, [`> ${unsubscribe(v, [s(bytes)])}`, ...refused(v, 0x81)])
  }
  // UNSUBSCRIBE
  row(v, 'UNSUBSCRIBE from a filter never subscribed', v === 5 ? '(v5 3.11.3: 0x11)' : '[MQTT-3.10.4-5]', [`> ${unsubscribe(v, [s('a')])}`, unsuback(v, 0x11)])
  row(v, 'UNSUBSCRIBE after SUBSCRIBE', '[MQTT-3.10.4-4]', [`> ${subscribe(v, [[s('a'), '00']])}`, suback(v, 0), `> ${unsubscribe(v, [s('a')])}`, unsuback(v, 0)])
  row(v, 'UNSUBSCRIBE from an empty filter', empty, [`> ${unsubscribe(v, [s('')])}`, ...refused(v, 0x82)])
  row(v, 'UNSUBSCRIBE from an empty filter among others', empty, [`> ${unsubscribe(v, [s('a'), s(''), s('b')])}`, ...refused(v, 0x82)])
  row(v, 'UNSUBSCRIBE without filters', '[MQTT-3.10.3-2]', [`> ${unsubscribe(v, [])}`, ...refused(v, 0x82)])
  row(v, 'UNSUBSCRIBE with packet identifier 0', v === 5 ? '[MQTT-2.2.1-3]' : '[MQTT-2.3.1-1]', [`> ${unsubscribe(v, [s('a')], '00', '0000')}`, ...refused(v, 0x82)])
  row(v, 'UNSUBSCRIBE with a filter length past the packet', '(v3.1.1 3.10.3, v5 3.10.3)', [`> ${unsubscribe(v, ['0009 61'])}`, ...refused(v, 0x81)])
  row(v, 'UNSUBSCRIBE with a byte after the last filter', '(v3.1.1 3.10.3, v5 3.10.3)', [`> ${unsubscribe(v, [s('a'), '00'])}`, ...refused(v, 0x81)])
  if (v === 5) {
    row(v, 'UNSUBSCRIBE with a User Property', '(v5 3.10.2.1.2)', [`> ${unsubscribe(v, [s('a')], props('26' + s('k') + s('v')))}`, unsuback(v, 0x11)])
    row(v, 'UNSUBSCRIBE with a Subscription Identifier (not an UNSUBSCRIBE property)', '(v5 2.2.2.2)', [`> ${unsubscribe(v, [s('a')], props('0b01'))}`, ...refused(v, 0x81)])
    row(v, 'UNSUBSCRIBE with a property length past the packet', '(v5 2.2.2.1)', [`> ${f(0xa2, '0001', '30', s('a'))}`, ...refused(v, 0x81)])
  }
}

// a refused subscription (not authorized, wildcards or shared subscriptions off): 0x80 on 3.1.1, its
// code on v5, and on 3.1, which has no failure code, the QoS on paper with nothing subscribed
for (const v of ALL) {
  const refusal = v === 5 ? 0xa2 : v === 4 ? 0x80 : 1
  rows.push({v, name: 'SUBSCRIBE to a wildcard when wildcards are off', spec: v === 3 ? '(v3.1 3.9: granted QoS only; as Mosquitto)' : '(v3.1.1 3.9.3, v5 3.9.3)',
    options: {wildcardSubscriptionAvailable: false},
    script: [`> ${subscribe(v, [[s('a/+'), '01'], [s('a/b'), '01']])}`, suback(v, refusal, 1),
      `> ${f(0x30, s('a/c'), v === 5 ? '00' : '', '78')}`, `> ${f(0x30, s('a/b'), v === 5 ? '00' : '', '79')}`, `< ${f(0x30, s('a/b'), v === 5 ? '00' : '', '79')}`]})
}

table('strict peer: SUBSCRIBE and UNSUBSCRIBE', rows)
