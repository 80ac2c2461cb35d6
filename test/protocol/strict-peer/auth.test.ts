import {scramSha256, SCRAM_SHA_256} from '../../../src/broker/auth/scram.js'
import {f, props, s, table, type Row} from './table.js'

// v5 enhanced authentication (v5 4.12, 3.15): what a client may send while it is under way.

const options = {authenticators: [scramSha256({users: {alice: 'wonderland'}})]}
const method = '15' + s(SCRAM_SHA_256)
/** CONNECT with the SCRAM method and a client-first message (Request Problem Information 0). */
const connect = (p = `1700 ${method} 16${s('n,,n=alice,r=abcdefgh')}`) => f(0x10, s('MQTT'), '05', '02', '0000', props(p), s('c'))
/** The server's challenge: AUTH 0x18 with the method and server-first data. */
const challenge = '< f0 .. 18 *'
const refusedDuringAuth = ['< 20 03 00 82 00', 'close']

const rows: Row[] = []
const row = (name: string, spec: string, script: string[]) => rows.push({v: 5, name, spec, script, raw: true, options})

row('a PUBLISH before the CONNACK', '[MQTT-3.1.2-30]', [`> ${connect()}`, challenge, `> ${f(0x30, s('t'), '00', '6869')}`, ...refusedDuringAuth])
row('a SUBSCRIBE before the CONNACK', '[MQTT-3.1.2-30]', [`> ${connect()}`, challenge, `> ${f(0x82, '0001', '00', s('t'), '00')}`, ...refusedDuringAuth])
row('a PINGREQ before the CONNACK', '[MQTT-3.1.2-30]', [`> ${connect()}`, challenge, '> c0 00', ...refusedDuringAuth])
row('a second CONNECT before the CONNACK', '[MQTT-3.1.2-30] [MQTT-3.1.0-2]', [`> ${connect()}`, challenge, `> ${connect()}`, ...refusedDuringAuth])
row('a DISCONNECT before the CONNACK ends it quietly', '[MQTT-3.1.2-30] (AUTH or DISCONNECT)', [`> ${connect()}`, challenge, '> e0 00', 'close'])
row('AUTH with another method', '[MQTT-4.12.0-5]', [`> ${connect()}`, challenge, `> ${f(0xf0, '18', props('15' + s('OTHER') + '16' + s('x')))}`, ...refusedDuringAuth])
row('AUTH without a method', '[MQTT-4.12.0-5]', [`> ${connect()}`, challenge, `> ${f(0xf0, '18', props('16' + s('x')))}`, ...refusedDuringAuth])
row('AUTH with reason code 0x19 (re-authenticate) during the first authentication', '(v5 3.15.2.1; 4.12)', [`> ${connect()}`, challenge, `> ${f(0xf0, '19', props(method + '16' + s('x')))}`, ...refusedDuringAuth])
row('AUTH with reason code 0x00 from the client', '(v5 3.15.2.1: 0x00 is sent by the server)', [`> ${connect()}`, challenge, `> ${f(0xf0, '00', props(method))}`, ...refusedDuringAuth])
row('AUTH with the method twice', '(v5 3.15.2.2.2: a Protocol Error)', [`> ${connect()}`, challenge, `> ${f(0xf0, '18', props(method + method))}`, ...refusedDuringAuth])
row('AUTH with a Topic Alias (not an AUTH property)', '(v5 2.2.2.2)', [`> ${connect()}`, challenge, `> ${f(0xf0, '18', props(method + '230001'))}`, '< 20 03 00 81 00', 'close'])
row('AUTH with an undefined reason code 0x01', '(v5 3.15.2.1)', [`> ${connect()}`, challenge, `> ${f(0xf0, '01', props(method))}`, '< 20 03 00 81 00', 'close'])
row('AUTH with header flags 2', '[MQTT-2.2.2-2]', [`> ${connect()}`, challenge, `> ${f(0xf2, '18', props(method))}`, '< 20 03 00 81 00', 'close'])
row('an unknown method', '(v5 3.2.2.2: 0x8C Bad authentication method)', [`> ${connect(`1700 15${s('KERBEROS')}`)}`, '< 20 03 00 8c 00', 'close'])
row('Authentication Data without a method', '(v5 3.1.2.11.10)', [`> ${connect(`1700 16${s('x')}`)}`, '< 20 03 00 82 00', 'close'])

table('strict peer: enhanced authentication', rows)
