import {ALL, CONNACK, f, props, s, table, V3, type Row} from './table.js'

// CONNECT: every rule of sections 3.1 (v3.1.1 and v5) and the 3.1 spec's CONNECT, on raw bytes.

type V = 3 | 4 | 5
const hx = (n: number) => n.toString(16).padStart(2, '0')

/** A CONNECT in hex (v5: with Request Problem Information 0 unless props are given). */
function connect(v: V, o: {flags?: number; props?: string; payload?: string[]; name?: string; level?: number} = {}): string {
  const name = o.name ?? (v === 3 ? 'MQIsdp' : 'MQTT')
  return f(0x10, s(name), hx(o.level ?? v), hx(o.flags ?? 0x02), '0000', v === 5 ? (o.props ?? props('1700')) : '',
    ...(o.payload ?? [s('c')]))
}

/** A malformed CONNECT: v5 CONNACK 0x81 (any properties) then close; v3: close. */
const malformed = (v: V) => v === 5 ? ['< 20 .. 00 81 *', 'close'] : ['close']
/** A CONNECT that breaks a rule: v5 CONNACK with the code, then close; v3: close. */
const violation = (v: V, code = 0x82) => v === 5 ? [`< 20 .. 00 ${hx(code)} *`, 'close'] : ['close']

const rows: Row[] = []
const raw = (v: V, name: string, spec: string, script: string[]) => rows.push({v, name, spec, script, raw: true})

const WILL = [s('c'), s('w'), s('x')]
const willProps = (v: V, p = '') => v === 5 ? [s('c'), props(p), s('w'), s('x')] : WILL

for (const v of ALL) {
  const ok = `< ${CONNACK[v]}`
  // Left-over bytes: the flags say which fields follow; bytes they do not account for cannot be parsed
  const leftover = '(v3.1.1 3.1.3, v5 3.1.3: the fields present are those the flags announce; v5 1.4 Malformed Packet)'
  raw(v, 'a byte after the client id with no other fields announced', leftover, [`> ${connect(v, {payload: [s('c'), '00']})}`, ...malformed(v)])
  raw(v, 'two bytes after the client id', leftover, [`> ${connect(v, {payload: [s('c'), '0000']})}`, ...malformed(v)])
  raw(v, 'a byte after the will payload', leftover, [`> ${connect(v, {flags: 0x06, payload: [...willProps(v), '00']})}`, ...malformed(v)])
  raw(v, 'a byte after the user name', leftover, [`> ${connect(v, {flags: 0x82, payload: [s('c'), s('u'), '00']})}`, ...malformed(v)])
  raw(v, 'a byte after the password', leftover, [`> ${connect(v, {flags: 0xc2, payload: [s('c'), s('u'), s('p'), '00']})}`, ...malformed(v)])
  // Fields announced but missing or cut off
  const short = '(v3.1.1 3.1.3, v5 3.1.3: every announced field is present)'
  raw(v, 'user name flag without a user name', short, [`> ${connect(v, {flags: 0x82})}`, ...malformed(v)])
  raw(v, 'will flag without a will topic', short, [`> ${connect(v, {flags: 0x06, payload: v === 5 ? [s('c'), '00'] : [s('c')]})}`, ...malformed(v)])
  raw(v, 'will flag without a will payload', short, [`> ${connect(v, {flags: 0x06, payload: v === 5 ? [s('c'), '00', s('w')] : [s('c'), s('w')]})}`, ...malformed(v)])
  raw(v, 'client id longer than the packet', short, [`> ${connect(v, {payload: ['0005 6364'] })}`, ...malformed(v)])
  raw(v, 'no client id at all', short, [`> ${connect(v, {payload: []})}`, ...malformed(v)])
  raw(v, 'cut off inside the keepalive', '(v3.1.1 3.1.2.10, v5 3.1.2.10)', [`> ${f(0x10, s(v === 3 ? 'MQIsdp' : 'MQTT'), hx(v), '02', '00')}`, ...malformed(v)])
  // Flags
  raw(v, 'reserved connect flag set', '[MQTT-3.1.2-3]', [`> ${connect(v, {flags: 0x03})}`, ...malformed(v)])
  raw(v, 'will QoS 3', v === 5 ? '[MQTT-3.1.2-12]' : '[MQTT-3.1.2-14]', [`> ${connect(v, {flags: 0x1e, payload: willProps(v)})}`, ...malformed(v)])
  raw(v, 'will QoS 1 without the will flag', '[MQTT-3.1.2-11] (v5; v3.1.1 [MQTT-3.1.2-13])', [`> ${connect(v, {flags: 0x0a})}`, ...violation(v)])
  raw(v, 'will QoS 2 without the will flag', '[MQTT-3.1.2-11] (v5; v3.1.1 [MQTT-3.1.2-13])', [`> ${connect(v, {flags: 0x12})}`, ...violation(v)])
  raw(v, 'will retain without the will flag', '[MQTT-3.1.2-13] (v5; v3.1.1 [MQTT-3.1.2-15])', [`> ${connect(v, {flags: 0x22})}`, ...violation(v)])
  raw(v, 'fixed header flags 0x2', '[MQTT-2.2.2-2]', [`> ${connect(v).replace(/^10/, '12')}`, ...malformed(v)])
  raw(v, 'fixed header flags 0xf', '[MQTT-2.2.2-2]', [`> ${connect(v).replace(/^10/, '1f')}`, ...malformed(v)])
  if (v === 5) {
    raw(v, 'password without a user name is allowed', '(v5 3.1.2.9)', [`> ${connect(v, {flags: 0x42, payload: [s('c'), s('p')]})}`, ok])
  } else {
    raw(v, 'password without a user name', '[MQTT-3.1.2-22]', [`> ${connect(v, {flags: 0x42, payload: [s('c'), s('p')]})}`, 'close'])
  }
  // Strings: well-formed UTF-8 without U+0000 (MUST); control characters and non-characters (SHOULD
  // NOT, MAY close): refused as Mosquitto does
  const strings: Array<[string, string, string]> = [
    ['U+0000', '0x6300', v === 5 ? '[MQTT-1.5.4-2]' : '[MQTT-1.5.3-2]'],
    ['a lone continuation byte', '0x80', v === 5 ? '[MQTT-1.5.4-1]' : '[MQTT-1.5.3-1]'],
    ['an overlong encoding', '0xc0af', v === 5 ? '[MQTT-1.5.4-1]' : '[MQTT-1.5.3-1]'],
    ['a UTF-16 surrogate', '0xeda080', v === 5 ? '[MQTT-1.5.4-1]' : '[MQTT-1.5.3-1]'],
    ['a cut-off sequence', '0x63e282', v === 5 ? '[MQTT-1.5.4-1]' : '[MQTT-1.5.3-1]'],
    ['U+0001', '0x6301', '(v5 1.5.4, v3.1.1 1.5.3: control characters; midge closes, like Mosquitto)'],
    ['a line feed', '0x630a', '(v5 1.5.4, v3.1.1 1.5.3: control characters; midge closes, like Mosquitto)'],
    ['ESC', '0x1b5b326a', '(v5 1.5.4, v3.1.1 1.5.3: control characters; midge closes, like Mosquitto)'],
    ['U+001F', '0x1f', '(v5 1.5.4, v3.1.1 1.5.3: control characters; midge closes, like Mosquitto)'],
    ['DEL (U+007F)', '0x637f', '(v5 1.5.4, v3.1.1 1.5.3: control characters; midge closes, like Mosquitto)'],
    ['U+0085', '0x63c285', '(v5 1.5.4, v3.1.1 1.5.3: control characters; midge closes, like Mosquitto)'],
    ['U+009F', '0xc29f', '(v5 1.5.4, v3.1.1 1.5.3: control characters; midge closes, like Mosquitto)'],
    ['the non-character U+FFFF', '0xefbfbf', '(v5 1.5.4, v3.1.1 1.5.3: non-characters; midge closes, like Mosquitto)'],
    ['the non-character U+FDD0', '0xefb790', '(v5 1.5.4, v3.1.1 1.5.3: non-characters; midge closes, like Mosquitto)'],
  ]
  for (const [what, bytes, spec] of strings) {
    raw(v, `client id with ${what}`, spec, [`> ${connect(v, {payload: [s(bytes)]})}`, ...malformed(v)])
    raw(v, `user name with ${what}`, spec, [`> ${connect(v, {flags: 0x82, payload: [s('c'), s(bytes)]})}`, ...malformed(v)])
    raw(v, `will topic with ${what}`, spec, [`> ${connect(v, {flags: 0x06, payload: v === 5 ? [s('c'), '00', s(bytes), s('x')] : [s('c'), s(bytes), s('x')]})}`, ...malformed(v)])
  }
  raw(v, 'a password may hold any bytes', '(v5 3.1.3.6, v3.1.1 3.1.3.5: binary data)', [`> ${connect(v, {flags: 0xc2, payload: [s('c'), s('u'), s('0x000a1b')]})}`, ok])
  raw(v, 'a will payload may hold any bytes', '(v5 3.1.3.4, v3.1.1 3.1.3.3: binary data)', [`> ${connect(v, {flags: 0x06, payload: v === 5 ? [s('c'), '00', s('w'), s('0x000a')] : [s('c'), s('w'), s('0x000a')]})}`, ok])
  raw(v, 'client id with non-ASCII letters', '(v5 1.5.4, v3.1.1 1.5.3)', [`> ${connect(v, {payload: [s('ça')]})}`, ok])
  raw(v, 'will topic with a wildcard', '[MQTT-3.3.2-2] (will topics are topic names)', [`> ${connect(v, {flags: 0x06, payload: v === 5 ? [s('c'), '00', s('w/#'), s('x')] : [s('c'), s('w/#'), s('x')]})}`, ...violation(v, 0x90)])
  raw(v, 'empty will topic', '[MQTT-4.7.3-1]', [`> ${connect(v, {flags: 0x06, payload: v === 5 ? [s('c'), '00', s(''), s('x')] : [s('c'), s(''), s('x')]})}`, ...violation(v, 0x90)])
  // Protocol name and level
  raw(v, 'protocol name MQTX: closed without a CONNACK', '[MQTT-3.1.2-1]', [`> ${connect(v, {name: 'MQTX'})}`, 'close'])
  raw(v, 'protocol name in lower case: closed without a CONNACK', '[MQTT-3.1.2-1]', [`> ${connect(v, {name: v === 3 ? 'mqisdp' : 'mqtt'})}`, 'close'])
  // the sequence
  raw(v, 'a second CONNECT', '[MQTT-3.1.0-2]', [`> ${connect(v)}`, ok, `> ${connect(v)}`, ...(v === 5 ? ['< e0 02 82 00'] : []), 'close'])
  raw(v, 'PINGREQ before CONNECT', '[MQTT-3.1.0-1]', ['> c0 00', 'close'])
  raw(v, 'PUBLISH before CONNECT', '[MQTT-3.1.0-1]', [`> ${f(0x30, s('t'), '68')}`, 'close'])
  raw(v, 'SUBSCRIBE before CONNECT', '[MQTT-3.1.0-1]', [`> ${f(0x82, '0001', s('t'), '00')}`, 'close'])
  raw(v, 'DISCONNECT before CONNECT', '[MQTT-3.1.0-1]', ['> e0 00', 'close'])
  // sessions
  const resumed = v === 3 ? '< 20 02 00 00' : v === 4 ? '< 20 02 01 00' : '< 20 09 01 00 *'
  raw(v, 'resuming a session', v === 3 ? '(v3.1 3.2: the first CONNACK byte is reserved, 0)' : '[MQTT-3.2.2-2]',
    [`> ${connect(v, {flags: 0x00, props: props('1700 11ffffffff')})}`, v === 5 ? '< 20 .. 00 00 *' : ok, '> e0 00', 'close', 'new',
      `> ${connect(v, {flags: 0x00, props: props('1700 11ffffffff')})}`, resumed])
  raw(v, 'a clean session after a stored one', v === 3 ? '(v3.1 3.2)' : '[MQTT-3.2.2-1]',
    [`> ${connect(v, {flags: 0x00, props: props('1700 11ffffffff')})}`, v === 5 ? '< 20 .. 00 00 *' : ok, '> e0 00', 'close', 'new',
      `> ${connect(v)}`, v === 5 ? '< 20 09 00 00 *' : ok])
}

// protocol levels [MQTT-3.1.2-2]: a client framing its CONNECT as 3.x is answered in the 3.x form; 0x84
// only for MQTT above level 5 framed as v5 (a property section after the keep alive)
for (const [name, level, answer] of [
  ['MQIsdp', 6, '20 02 00 01'], ['MQIsdp', 4, '20 02 00 01'], ['MQIsdp', 5, '20 02 00 01'], ['MQIsdp', 0x85, '20 02 00 01'],
  ['MQTT', 3, '20 02 00 01'], ['MQTT', 2, '20 02 00 01'], ['MQTT', 0, '20 02 00 01'], ['MQTT', 6, '20 02 00 01'], ['MQTT', 0x7f, '20 02 00 01'],
] as const) {
  raw(level === 3 ? 3 : 4, `protocol ${name} level ${level}, framed as 3.x: CONNACK ${answer}`, '[MQTT-3.1.2-2]',
    [`> ${f(0x10, s(name), hx(level), '02', '0000', s('c'))}`, `< ${answer}`, 'close'])
}
for (const [name, level, answer, flags, payload] of [
  ['MQTT', 6, '20 03 00 84 00', 0x02, [s('c')]],
  ['MQTT', 0x7f, '20 03 00 84 00', 0x02, [s('c')]],
  ['MQTT', 6, '20 03 00 84 00', 0xc6, [s('c'), '00', s('w'), s('x'), s('u'), s('p')]],
  ['MQIsdp', 6, '20 02 00 01', 0x02, [s('c')]],
] as const) {
  raw(5, `protocol ${name} level ${level}, framed as v5 (flags ${hx(flags)}): CONNACK ${answer}`, '[MQTT-3.1.2-2]',
    [`> ${f(0x10, s(name), hx(level), hx(flags), '0000', '00', ...payload)}`, `< ${answer}`, 'close'])
}

// client identifiers
raw(3, 'v3.1: empty client id', '(v3.1 3.1: 1 to 23 characters; CONNACK 2)', [`> ${connect(3, {payload: [s('')]})}`, '< 20 02 00 02', 'close'])
raw(4, 'empty client id without clean session', '[MQTT-3.1.3-8]', [`> ${connect(4, {flags: 0x00, payload: [s('')]})}`, '< 20 02 00 02', 'close'])
raw(4, 'empty client id with clean session', '[MQTT-3.1.3-6]', [`> ${connect(4, {payload: [s('')]})}`, '< 20 02 00 00'])
raw(5, 'empty client id: an id is assigned', '[MQTT-3.2.2-16]', [`> ${connect(5, {payload: [s('')]})}`, '< 20 .. 00 00 *'])

// v5 CONNECT properties (v5 3.1.2.11, 2.2.2.2)
const v5 = (p: string) => connect(5, {props: props(p)})
const v5rows: Array<[string, string, string, string[]]> = [
  ['Receive Maximum 0', '(v5 3.1.2.11.3)', '1700 210000', violation(5)],
  ['Maximum Packet Size 0', '(v5 3.1.2.11.4)', '1700 2700000000', violation(5)],
  ['Session Expiry Interval twice', '(v5 3.1.2.11.2)', '1700 1100000001 1100000001', violation(5)],
  ['Receive Maximum twice', '(v5 3.1.2.11.3)', '1700 210005 210005', violation(5)],
  ['Maximum Packet Size twice', '(v5 3.1.2.11.4)', '1700 2700001000 2700001000', violation(5)],
  ['Topic Alias Maximum twice', '(v5 3.1.2.11.5)', '1700 220005 220005', violation(5)],
  ['Request Response Information twice', '(v5 3.1.2.11.6)', '1700 1901 1901', violation(5)],
  ['Request Response Information 2', '(v5 3.1.2.11.6)', '1700 1902', violation(5)],
  ['Request Problem Information twice', '(v5 3.1.2.11.7)', '1700 1700', violation(5)],
  ['Request Problem Information 2', '(v5 3.1.2.11.7)', '1702', violation(5)],
  ['Authentication Method twice', '(v5 3.1.2.11.9)', '1700 15' + s('x') + '15' + s('x'), violation(5)],
  ['Authentication Data without a method', '(v5 3.1.2.11.10)', '1700 16 0001 aa', violation(5)],
  ['a Payload Format Indicator (not a CONNECT property)', '(v5 2.2.2.2)', '1700 0101', malformed(5)],
  ['a Topic Alias (not a CONNECT property)', '(v5 2.2.2.2)', '1700 230001', malformed(5)],
  ['a Subscription Identifier (not a CONNECT property)', '(v5 2.2.2.2)', '1700 0b01', malformed(5)],
  ['a Will Delay Interval outside the will', '(v5 2.2.2.2)', '1700 1800000001', malformed(5)],
  ['an unknown property 0x7f', '(v5 2.2.2.2)', '1700 7f00', malformed(5)],
  ['a property length past the packet', '(v5 2.2.2.2)', '', malformed(5)],
  ['a User Property with a control character', '(v5 1.5.4; midge closes, like Mosquitto)', '1700 26' + s('k') + s('0x0a'), malformed(5)],
  ['a User Property cut off', '(v5 1.5.7)', '1700 26' + s('k') + '0005 61', malformed(5)],
  ['a User Property', '(v5 3.1.2.11.8)', '1700 26' + s('k') + s('v'), [`< ${CONNACK[5]}`]],
  ['an Authentication Method we do not know', '(v5 4.12)', '1700 15' + s('x'), ['< 20 03 00 8c 00', 'close']],
]
for (const [name, spec, p, script] of v5rows) {
  const bytes = name === 'a property length past the packet' ? f(0x10, s('MQTT'), '05', '02', '0000', '09 1700', s('c')) : v5(p)
  raw(5, `CONNECT with ${name}`, spec, [`> ${bytes}`, ...script])
}
// v5 will properties (v5 3.1.3.2)
const will5 = (p: string, payload = s('x')) => connect(5, {flags: 0x06, payload: [s('c'), props(p), s('w'), payload]})
const willRows: Array<[string, string, string, string[], string?]> = [
  ['Will Delay Interval twice', '(v5 3.1.3.2.2)', '1800000001 1800000001', violation(5)],
  ['Payload Format Indicator 2', '(v5 3.1.3.2.3)', '0102', violation(5)],
  ['Payload Format Indicator 1 and a payload that is not UTF-8', '(v5 3.1.3.2.3)', '0101', violation(5, 0x99), s('0xff')],
  ['Content Type with a control character', '(v5 1.5.4; midge closes, like Mosquitto)', '03' + s('0x0a'), malformed(5)],
  ['Response Topic with a wildcard', '(v5 3.1.3.2.5)', '08' + s('r/#'), violation(5)],
  ['an empty Response Topic', '[MQTT-4.7.3-1] (v5 3.1.3.2.5)', '08' + s(''), violation(5)],
  ['a Session Expiry Interval (not a will property)', '(v5 2.2.2.2)', '1100000001', malformed(5)],
  ['a Topic Alias (not a will property)', '(v5 2.2.2.2)', '230001', malformed(5)],
  ['Correlation Data', '(v5 3.1.3.2.6)', '09 0002 0a00', [`< ${CONNACK[5]}`]],
]
for (const [name, spec, p, script, payload] of willRows) raw(5, `will with ${name}`, spec, [`> ${will5(p, payload)}`, ...script])

// [MQTT-3.1.2-24] the CONNACK fits the client's Maximum Packet Size: what it can do without goes first
raw(5, 'Maximum Packet Size 8: the CONNACK leaves out the Topic Alias Maximum', '[MQTT-3.1.2-24]',
  [`> ${v5('1700 2700000008')}`, '< 20 06 00 00 03 21 0014'])
raw(5, 'Maximum Packet Size 5: no CONNACK fits, closed', '[MQTT-3.1.2-24]', [`> ${v5('1700 2700000005')}`, 'close'])
raw(5, 'Maximum Packet Size 11: the whole CONNACK', '[MQTT-3.1.2-24]', [`> ${v5('1700 270000000b')}`, `< ${CONNACK[5]}`])
raw(5, 'Maximum Packet Size 11: a SUBACK of 7 bytes fits', '[MQTT-3.1.2-24]',
  [`> ${v5('1700 270000000b')}`, `< ${CONNACK[5]}`, `> ${f(0x82, '0001', '00', s('a'), '00', s('b'), '00')}`, '< 90 05 0001 00 00 00'])
raw(5, 'Maximum Packet Size 11: a SUBACK of 12 bytes does not, and the client is not left waiting', '[MQTT-3.1.2-24]',
  [`> ${v5('1700 270000000b')}`, `< ${CONNACK[5]}`, `> ${f(0x82, '0001', '00', ...Array.from({length: 7}, (_, i) => s(String(i)) + '00'))}`, 'close'])

// v3 has no reason codes: a v5-only refusal is a plain close
for (const v of V3) raw(v, 'will QoS 2 is fine', '(v3.1.1 3.1.2.6)', [`> ${connect(v, {flags: 0x16, payload: WILL})}`, `< ${CONNACK[v]}`])

// what the broker announces, enforced on the will [MQTT-3.2.2-12] [MQTT-3.2.2-13]; 3.x has no code: closed
for (const v of ALL) {
  const willOf = (flags: number) => connect(v, {flags, payload: v === 5 ? [s('c'), '00', s('w'), s('x')] : WILL})
  rows.push({v, name: 'will QoS 2 above Maximum QoS 1', spec: '[MQTT-3.2.2-12]', raw: true, options: {maxQos: 1},
    script: [`> ${willOf(0x16)}`, ...violation(v, 0x9b)]})
  rows.push({v, name: 'will retain when Retain Available is 0', spec: '[MQTT-3.2.2-13]', raw: true, options: {retainAvailable: false},
    script: [`> ${willOf(0x26)}`, ...violation(v, 0x9a)]})
  rows.push({v, name: 'will QoS 1 within Maximum QoS 1', spec: '[MQTT-3.2.2-12]', raw: true, options: {maxQos: 1},
    script: [`> ${willOf(0x0e)}`, v === 5 ? '< 20 .. 00 00 *' : `< ${CONNACK[v]}`]})
}

table('strict peer: CONNECT', rows)
