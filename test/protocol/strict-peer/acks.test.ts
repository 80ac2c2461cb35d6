import {ALL, f, props, refused, s, table, type Row} from './table.js'

// Acknowledgements from a client: of the right kind for the flow, unsolicited, packet id 0, and
// (v5) their reason codes and properties.

type V = 3 | 4 | 5
const rows: Row[] = []
const row = (v: V, name: string, spec: string, script: string[]) => rows.push({v, name, spec, script})
const hx = (n: number) => n.toString(16).padStart(2, '0')

/**
 * The client subscribes to 't' at QoS 2 and publishes to it at `qos` (packet id 5): the broker
 * delivers the message back with packet id 1, then acknowledges the PUBLISH.
 */
function delivered(v: V, qos: 1 | 2): string[] {
  const first = qos === 1 ? 0x32 : 0x34
  return [
    `> ${f(0x82, '0001', v === 5 ? '00' : '', s('t'), '02')}`, `< ${f(0x90, '0001', v === 5 ? '00' : '', '02')}`,
    `> ${f(first, s('t'), '0005', v === 5 ? '00' : '', '6869')}`,
    `< ${f(first, s('t'), '0001', v === 5 ? '00' : '', '6869')}`,
    `< ${qos === 1 ? '40' : '50'} 02 0005`,
  ]
}
const wrongKind = '(v5 4.3.2, 4.3.3; v5 1.2: a Protocol Error is a packet inconsistent with the state; Mosquitto closes too)'

for (const v of ALL) {
  // the right acknowledgements
  row(v, 'QoS 1 delivery answered with PUBACK', '(v3.1.1 4.3.2, v5 4.3.2)', [...delivered(v, 1), '> 40 02 0001'])
  row(v, 'QoS 1 delivery answered with PUBACK twice: the second is ignored', '(v3.1.1 4.3.2, v5 4.3.2)', [...delivered(v, 1), '> 40 02 0001', '> 40 02 0001'])
  row(v, 'QoS 2 delivery: PUBREC, PUBREL, PUBCOMP', '(v3.1.1 4.3.3, v5 4.3.3)', [...delivered(v, 2), '> 50 02 0001', '< 62 02 0001', '> 70 02 0001'])
  row(v, 'QoS 2 delivery: PUBREC twice, PUBREL twice', '(v5 4.3.3, v3.1.1 4.3.3: a PUBREC again is answered with PUBREL again)', [...delivered(v, 2), '> 50 02 0001', '< 62 02 0001', '> 50 02 0001', '< 62 02 0001', '> 70 02 0001'])
  row(v, 'QoS 2 delivery: PUBCOMP twice, the second ignored', '(v3.1.1 4.3.3, v5 4.3.3)', [...delivered(v, 2), '> 50 02 0001', '< 62 02 0001', '> 70 02 0001', '> 70 02 0001'])
  // the wrong ones
  row(v, 'QoS 1 delivery answered with PUBREC', wrongKind, [...delivered(v, 1), '> 50 02 0001', ...refused(v, 0x82)])
  row(v, 'QoS 1 delivery answered with PUBCOMP', wrongKind, [...delivered(v, 1), '> 70 02 0001', ...refused(v, 0x82)])
  row(v, 'QoS 2 delivery answered with PUBACK', wrongKind, [...delivered(v, 2), '> 40 02 0001', ...refused(v, 0x82)])
  row(v, 'QoS 2 delivery answered with PUBCOMP before PUBREC', wrongKind, [...delivered(v, 2), '> 70 02 0001', ...refused(v, 0x82)])
  row(v, 'QoS 2 delivery answered with PUBACK after PUBREC', wrongKind, [...delivered(v, 2), '> 50 02 0001', '< 62 02 0001', '> 40 02 0001', ...refused(v, 0x82)])
  row(v, 'QoS 2 inbound: PUBREL answered before PUBREC is fine (the broker sent PUBREC)', '(v3.1.1 4.3.3, v5 4.3.3)', [...delivered(v, 2), '> 62 02 0005', '< 70 02 0005', '> 50 02 0001', '< 62 02 0001', '> 70 02 0001'])
  // unsolicited
  const unsolicitedPubrel = v === 5 ? '< 62 04 0007 92 00' : '< 62 02 0007'
  const unsolicitedPubcomp = v === 5 ? '< 70 04 0007 92 00' : '< 70 02 0007'
  row(v, 'PUBACK for an id not in flight: ignored', '(v5 4.3.2; Mosquitto ignores it too)', ['> 40 02 0007'])
  row(v, 'PUBCOMP for an id not in flight: ignored', '(v5 4.3.3; Mosquitto ignores it too)', ['> 70 02 0007'])
  row(v, 'PUBREC for an id not in flight: PUBREL', v === 5 ? '(v5 3.6.2.1: 0x92 Packet Identifier not found)' : '(v3.1.1 4.3.3)', ['> 50 02 0007', unsolicitedPubrel])
  row(v, 'PUBREL for an id not in flight: PUBCOMP', v === 5 ? '(v5 3.7.2.1: 0x92 Packet Identifier not found)' : '(v3.1.1 4.3.3)', ['> 62 02 0007', unsolicitedPubcomp])
  // packet identifier 0
  for (const [name, first] of [['PUBACK', 0x40], ['PUBREC', 0x50], ['PUBREL', 0x62], ['PUBCOMP', 0x70]] as const) {
    row(v, `${name} with packet identifier 0`, v === 5 ? '[MQTT-2.2.1-3]' : '[MQTT-2.3.1-1]', [`> ${hx(first)} 02 0000`, ...refused(v, 0x82)])
  }
}

// v5: reason codes and properties of acknowledgements (v5 3.4-3.7, 2.2.2.2)
const ACKS = [['PUBACK', 0x40], ['PUBREC', 0x50], ['PUBREL', 0x62], ['PUBCOMP', 0x70]] as const
for (const [name, first] of ACKS) {
  const ack = (...body: string[]) => `> ${f(first, '0007', ...body)}`
  const answer = name === 'PUBREC' ? ['< 62 04 0007 92 00'] : name === 'PUBREL' ? ['< 70 04 0007 92 00'] : []
  row(5, `${name} with a reason code and no properties`, '(v5 3.4.2.2: the property length may be left out)', [ack(name === 'PUBREL' || name === 'PUBCOMP' ? '92' : '10'), ...answer])
  row(5, `${name} with a Reason String`, '(v5 3.4.2.2.2)', [ack('00', props('1f' + s('why'))), ...answer])
  row(5, `${name} with a User Property`, '(v5 3.4.2.2.3)', [ack('00', props('26' + s('k') + s('v'))), ...answer])
  row(5, `${name} with two User Properties`, '(v5 3.4.2.2.3: may appear more than once)', [ack('00', props('26' + s('k') + s('v') + '26' + s('k') + s('v'))), ...answer])
  row(5, `${name} with a Reason String twice`, '(v5 3.4.2.2.2: a Protocol Error)', [ack('00', props('1f' + s('a') + '1f' + s('b'))), ...refused(5, 0x82)])
  for (const [prop, bytes] of [['Payload Format Indicator', '0101'], ['Content Type', '03' + s('x')], ['Topic Alias', '230001'], ['Session Expiry Interval', '1100000001'], ['Subscription Identifier', '0b01'], ['Server Reference', '1c' + s('x')]]) {
    row(5, `${name} with a ${prop} (not an acknowledgement property)`, '(v5 2.2.2.2)', [ack('00', props(bytes)), ...refused(5, 0x81)])
  }
  row(5, `${name} with an unknown property`, '(v5 2.2.2.2)', [ack('00', props('7f00')), ...refused(5, 0x81)])
  row(5, `${name} with a property length past the packet`, '(v5 2.2.2.1)', [ack('00', '09', '1f' + s('x')), ...refused(5, 0x81)])
  row(5, `${name} with a Reason String cut off`, '(v5 1.5.4)', [ack('00', '04', '1f 0009 61'), ...refused(5, 0x81)])
  row(5, `${name} with a byte after its properties`, '(v5 3.4.2: nothing after the properties)', [ack('00', '00', '00'), ...refused(5, 0x81)])
  row(5, `${name} with a Reason String holding a line feed`, '(v5 1.5.4; midge closes, like Mosquitto)', [ack('00', props('1f' + s('0x0a'))), ...refused(5, 0x81)])
  row(5, `${name} with an undefined reason code 0x01`, '(v5 3.4.2.1; v5 1.2 Malformed Packet)', [ack('01'), ...refused(5, 0x81)])
  row(5, `${name} with packet identifier 0 and a reason code`, '[MQTT-2.2.1-3]', [`> ${f(first, '0000', '00', '00')}`, ...refused(5, 0x82)])
}

table('strict peer: acknowledgements', rows)
