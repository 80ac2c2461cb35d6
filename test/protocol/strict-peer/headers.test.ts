import {ALL, f, refused, s, table, type Row} from './table.js'

// Fixed headers: reserved flag bits of every packet type, packet types a client may not send, the
// Remaining Length, and bodies whose size the specification fixes.

type V = 3 | 4 | 5
const hx = (n: number) => n.toString(16).padStart(2, '0')
const rows: Row[] = []
const row = (v: V, name: string, spec: string, script: string[], extra: Partial<Row> = {}) => rows.push({v, name, spec, script, ...extra})

/** A valid body for each client packet type, per version. */
const bodies = (v: V): Array<[string, number, string]> => [
  ['PUBACK', 0x40, '0001'],
  ['PUBREC', 0x50, '0001'],
  ['PUBREL', 0x62, '0001'],
  ['PUBCOMP', 0x70, '0001'],
  ['SUBSCRIBE', 0x82, v === 5 ? `0001 00 ${s('t')} 00` : `0001 ${s('t')} 00`],
  ['UNSUBSCRIBE', 0xa2, v === 5 ? `0001 00 ${s('t')}` : `0001 ${s('t')}`],
  ['PINGREQ', 0xc0, ''],
  ['DISCONNECT', 0xe0, ''],
]

const flagSpec = (v: V) => v === 3 ? '(v3.1 2.1; midge applies [MQTT-2.2.2-2] of v3.1.1)' : '[MQTT-2.2.2-2]'
for (const v of ALL) {
  for (const [name, first, body] of bodies(v)) {
    const good = first & 0x0f
    for (const flags of [0x1, 0x2, 0x4, 0x8, 0xf, 0x0].filter((x) => x !== good)) {
      row(v, `${name} with header flags ${hx(flags).slice(1)} instead of ${hx(good).slice(1)}`, flagSpec(v),
        [`> ${f((first & 0xf0) | flags, body)}`, ...refused(v, 0x81)])
    }
  }
  // packet types only a server sends [MQTT-3.1.0-?]: a client sending them breaks the protocol
  const serverOnly: Array<[string, string]> = v === 5
    ? [['CONNACK', '20 03 00 00 00'], ['SUBACK', '90 04 0001 00 00'], ['UNSUBACK', 'b0 04 0001 00 00'], ['PINGRESP', 'd0 00']]
    : [['CONNACK', '20 02 00 00'], ['SUBACK', '90 03 0001 00'], ['UNSUBACK', 'b0 02 0001'], ['PINGRESP', 'd0 00']]
  for (const [name, bytes] of serverOnly) {
    row(v, `${name} from a client`, v === 5 ? '(v5 4.13.1: a packet the receiver does not expect is a Protocol Error)' : '(v3.1.1 4.8: close on a protocol violation)',
      [`> ${bytes}`, ...refused(v, 0x82)])
  }
  row(v, 'reserved packet type 0', v === 5 ? '(v5 2.1.2: Reserved)' : '(v3.1.1 2.2.1: Reserved)', ['> 00 00', ...refused(v, 0x81)])
  if (v !== 5) row(v, 'packet type 15 (reserved before v5)', '(v3.1.1 2.2.1: Reserved)', ['> f0 00', 'close'])
  else {
    row(v, 'AUTH without an authentication method in CONNECT', '(v5 4.12: AUTH only in enhanced authentication)', ['> f0 00', ...refused(v, 0x82)])
    row(v, 'AUTH with header flags 1', '[MQTT-2.2.2-2]', ['> f1 00', ...refused(v, 0x81)])
    row(v, 'AUTH with a byte after its properties', '(v5 3.15.2)', ['> f0 03 00 00 00', ...refused(v, 0x81)])
    row(v, 'AUTH with a property length past the packet', '(v5 2.2.2.1)', ['> f0 02 18 05', ...refused(v, 0x81)])
  }
  // the Remaining Length [MQTT-1.5.5-1] (v5; v3.1.1 2.2.3)
  const rl = v === 5 ? '[MQTT-1.5.5-1]' : '(v3.1.1 2.2.3)'
  row(v, 'a Remaining Length of five bytes', rl, ['> 30 ff ff ff ff 01', ...refused(v, 0x81)])
  row(v, 'a Remaining Length of five bytes, all continuation', rl, ['> c0 80 80 80 80 00', ...refused(v, 0x81)])
  row(v, 'PINGREQ with its Remaining Length 0 in two bytes', rl, ['> c0 80 00', ...refused(v, 0x81)])
  row(v, 'PUBLISH with its Remaining Length in two bytes where one will do', rl, [`> 30 84 00 ${s('t')} 6869`, ...refused(v, 0x81)])
  row(v, 'a Remaining Length of 127 in one byte is fine', rl, [`> ${f(0x30, s('t'), '00'.repeat(124))}`])
  row(v, 'a Remaining Length of 128 in two bytes is fine', rl, [`> ${f(0x30, s('t'), '00'.repeat(125))}`])
  row(v, 'a packet above the maximum packet size', v === 5 ? '[MQTT-3.2.2-15] (v5 3.1.2.11.4: Maximum Packet Size)' : '(Mosquitto max_packet_size: closed)',
    [`> ${f(0x30, s('t'), '00'.repeat(200))}`, ...refused(v, 0x95)], {options: {maxPacketSize: 128}})
  // bodies of fixed size
  row(v, 'PINGREQ with a body', v === 5 ? '(v5 3.12: no variable header or payload)' : '(v3.1.1 3.12)', ['> c0 01 00', ...refused(v, 0x81)])
  for (const [name, first] of [['PUBACK', 0x40], ['PUBREC', 0x50], ['PUBREL', 0x62], ['PUBCOMP', 0x70]] as const) {
    row(v, `${name} with a one-byte body`, '(v3.1.1 3.4.2, v5 3.4.2: a two-byte packet identifier)', [`> ${f(first, '00')}`, ...refused(v, 0x81)])
    row(v, `${name} without a body`, '(v3.1.1 3.4.2, v5 3.4.2)', [`> ${f(first, '')}`, ...refused(v, 0x81)])
    if (v !== 5) row(v, `${name} with three bytes`, '(v3.1.1 3.4.1: Remaining Length 2)', [`> ${f(first, '0001 00')}`, 'close'])
    else row(v, `${name} with a byte after its properties`, '(v5 3.4.2.2: nothing after the properties)', [`> ${f(first, '0001 00 00 00')}`, ...refused(v, 0x81)])
  }
  if (v !== 5) row(v, 'DISCONNECT with a body', '[MQTT-3.14.1-1] (v3.1.1 3.14: no variable header or payload)', ['> e0 01 00', 'close'])
  else {
    row(v, 'DISCONNECT with a byte after its properties', '(v5 3.14.2)', ['> e0 03 00 00 00', ...refused(v, 0x81)])
    row(v, 'DISCONNECT with a property length past the packet', '(v5 2.2.2.1)', ['> e0 03 00 05 00', ...refused(v, 0x81)])
    row(v, 'DISCONNECT with reason code 0 and no properties', '(v5 3.14.2.1)', ['> e0 01 00', 'close'])
    row(v, 'DISCONNECT with reason code 0x04 (with will)', '(v5 3.14.2.1)', ['> e0 02 04 00', 'close'])
    // a value the field does not define cannot be parsed as the specification says, as a QoS of 3
    row(v, 'DISCONNECT with an undefined reason code (0x03)', '(v5 3.14.2.1; v5 1.2 Malformed Packet)', ['> e0 02 03 00', ...refused(v, 0x81)])
    row(v, 'DISCONNECT with a Session Expiry Interval after CONNECT set none', '[MQTT-3.14.2-2]', ['> e0 07 00 05 1100000005', ...refused(v, 0x82)])
    row(v, 'DISCONNECT with a Reason String', '(v5 3.14.2.2.3)', [`> ${f(0xe0, '00', '04', '1f', s('x'))}`, 'close'])
    row(v, 'DISCONNECT with a Topic Alias (not a DISCONNECT property)', '(v5 2.2.2.2)', ['> e0 05 00 03 230001', ...refused(v, 0x81)])
  }
}

table('strict peer: fixed headers and sizes', rows)
