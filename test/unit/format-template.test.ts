// The -F format language, cJSON output and strftime, table-driven. Expected values come from Debian's
// mosquitto_sub 2.0.11 and glibc's strftime (see test/interop/pubsub-format.test.ts for the live comparison).
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {formatNumber, parseJson, printJson} from '../../src/cli/common/format/cjson.js'
import type {FormatMessage, Timestamp} from '../../src/cli/common/format/message.js'
import {Printer} from '../../src/cli/common/format/printer.js'
import {strftime1} from '../../src/cli/common/format/strftime.js'
import {checkFormat, Template} from '../../src/cli/common/format/template.js'

process.env.TZ = 'UTC'

const at = (seconds: number, ns = 0): Timestamp => ({date: new Date(seconds * 1000 + Math.floor(ns / 1e6)), ns})
const T = at(1_700_000_000, 123_456_789)
const msg = (o: Partial<FormatMessage> = {}): FormatMessage => ({topic: 'a/b', payload: Buffer.from('hello world'), qos: 1, retain: false, messageId: 7, ...o})
const render = (format: string, m = msg(), pretty = false) => new Template(format, pretty).render(m, T).bytes.toString('latin1')

describe('-F format validation (mosquitto_sub check_format)', () => {
  const cases: Array<[string, string | undefined]> = [
    ['%t %p', undefined], ['%%', undefined], ['%-10t', undefined], ['%05l', undefined], ['%10.3t', undefined], ['@Y@@', undefined],
    ['\\n\\t\\0\\a\\e\\r\\v\\\\', undefined], ['@Q', undefined],
    ['%', 'Incomplete format specifier.'], ['%-', 'Incomplete format specifier.'], ['%10', 'Incomplete format specifier.'],
    ['%10.', 'Incomplete format specifier.'], ['%.5', 'Incomplete format specifier.'], ['@', 'Incomplete format specifier.'],
    ['%z', "Invalid format specifier 'z'."], ['%-0t', undefined], ['%-0', 'Incomplete format specifier.'], ['\\', 'Incomplete escape specifier.'],
    ['\\z', "Invalid escape specifier 'z'."],
  ]
  for (const [format, error] of cases) it(JSON.stringify(format), () => assert.equal(checkFormat(format), error))
  it('Template throws the message', () => assert.throws(() => new Template('%z'), /Invalid format specifier 'z'/))
})

describe('-F fields', () => {
  const cases: Array<[string, string, Partial<FormatMessage>?]> = [
    ['%t|%10t|%-10t|%.2t|%5.2t|%03.1t', 'a/b|       a/b|a/b       |a/|   a/|  a'],
    ['%p|%10p|%-10p|%2p|%-05p|%010p', 'hello world|hello worl|hello worl|he|hello|hello worl'],
    ['%p|%10p|%-10p|%010p', '{"x":1}|   {"x":1}|{"x":1}   |000{"x":1}', {payload: Buffer.from('{"x":1}')}],
    ['%x|%10x|%X|%3x', '68656c6c6f20776f726c64|68656c6c6f|68656C6C6F20776F726C64| 68'],
    ['%l|%05l|%-5l|%m|%-3m|%q|%5q|%r', '11|00011|11   |7|7  |1|1|0'],
    ['%r%m', '10', {retain: true, messageId: undefined}],
    ['%%|@@|\\t|\\\\', '%|@|\t|\\'],
    ['%C|%10C|%E|%5E|%05E|%F|%P|%R|%S|%A|%D', '|          ||     |00000||||||'],
    ['%C|%10C|%-8C|%.2C|%E|%5E|%F|%P|%R|%S|%3S|%A|%D', 'text/x|    text/x|text/x  |te|100|  100|1|k:v k:w k2:v2|rt|3|  3|5|cd', {properties: {
      contentType: 'text/x', messageExpiryInterval: 100, payloadFormatIndicator: true, userProperties: {k: ['v', 'w'], k2: 'v2'},
      responseTopic: 'rt', subscriptionIdentifier: 3, topicAlias: 5, correlationData: Buffer.from('cd')}}],
    ['%I|%20.10I|%U|@N', '2023-11-14T22:13:20+0000|          2023-11-14|1700000000.123456789|123456789'],
    ['%p|%x|%l', '||0', {payload: Buffer.alloc(0)}],
    ['%p', 'a\0b', {payload: Buffer.from('a\0b')}],
  ]
  for (const [format, expected, o] of cases) it(format, () => assert.equal(render(format, msg(o)), expected))
})

describe('%j and %J (cJSON)', () => {
  const tst = '"tst":"2023-11-14T22:13:20.123456Z+0000"'
  it('%j escapes the payload as a C string', () => {
    assert.equal(render('%j', msg({payload: Buffer.from('\x01\x1f\x7f\xc3\xa9\xff\t\n"\\', 'latin1')})),
      `{${tst},"topic":"a/b","qos":1,"retain":0,"payloadlen":10,"mid":7,"payload":"\\u0001\\u001f\x7f\xc3\xa9\xff\\t\\n\\"\\\\"}`)
    assert.equal(render('%j', msg({payload: Buffer.from('ab\0cd'), qos: 0})), `{${tst},"topic":"a/b","qos":0,"retain":0,"payloadlen":5,"payload":"ab"}`)
    assert.equal(render('%j', msg({payload: Buffer.alloc(0), qos: 0})), `{${tst},"topic":"a/b","qos":0,"retain":0,"payloadlen":0,"payload":null}`)
  })
  it('%j lists properties in wire order', () => {
    const m = msg({qos: 0, properties: {contentType: 'text/x', userProperties: {k: 'v', k2: 'v2'}, responseTopic: 'rt', correlationData: Buffer.from('cd'), payloadFormatIndicator: true}})
    assert.equal(render('%j', m), `{${tst},"topic":"a/b","qos":0,"retain":0,"payloadlen":11,"properties":{"content-type":"text/x","user-properties":{"k":"v","k2":"v2"},"response-topic":"rt","correlation-data":"cd","payload-format-indicator":1},"payload":"hello world"}`)
  })
  it('%J re-prints a JSON payload the way cJSON does', () => {
    const payload = Buffer.from(' {"a" : [1, 2.50, 1e20, -0, 0.1, 1.23456789012345678, {}, [], "\\u00e9\\n\\u0001", true, null], "a":{"b":{}} } ')
    assert.equal(render('%J', msg({payload, qos: 0})),
      `{${tst},"topic":"a/b","qos":0,"retain":0,"payloadlen":${payload.length},"payload":{"a":[1,2.5,1e+20,-0,0.1,1.2345678901234567,{},[],"\xc3\xa9\\n\\u0001",true,null],"a":{"b":{}}}}`)
  })
  it('%J with --pretty uses tabs as cJSON_Print does', () => {
    const out = render('%J', msg({payload: Buffer.from('[1,2,[3,{"x":[]}]]'), qos: 0}), true)
    assert.equal(out, `{\n\t${tst.replace(':', ':\t')},\n\t"topic":\t"a/b",\n\t"qos":\t0,\n\t"retain":\t0,\n\t"payloadlen":\t18,\n\t"payload":\t[1, 2, [3, {\n\t\t\t\t"x":\t[]\n\t\t\t}]]\n}`)
  })
  it('%J on a payload that is not JSON prints nothing for the field and reports the topic', () => {
    const r = new Template('<%J>').render(msg(), T)
    assert.equal(r.bytes.toString(), '<>')
    assert.deepEqual(r.errors, ['Error: Message payload is not valid JSON on topic a/b.'])
  })
  const valid = ['1', '-1.5e3', '"s"', 'true', 'null', ' [ ] ', '\ufeff{}', '{"a":{"b":[1,{"c":null}]}}', '"\\ud83d\\ude00"', '01', '1.', '"\\uZZZZ"']
  const invalid = ['', 'x', '[1,]', '{"a"}', '{"a":1,}', '1 2', '"abc', '"\\q"', '"\\udc00"', '"\\ud800x"', '.5', '+1', '1e', '[1]]', 'nul', '{1:2}', 'a\0']
  for (const v of valid) it(`parses ${JSON.stringify(v)}`, () => assert.ok(parseJson(Buffer.from(v))))
  for (const v of invalid) it(`rejects ${JSON.stringify(v)}`, () => assert.equal(parseJson(Buffer.from(v)), undefined))
  it('nesting deeper than 1000 is rejected', () => {
    assert.ok(parseJson(Buffer.from('['.repeat(1000) + ']'.repeat(1000))))
    assert.equal(parseJson(Buffer.from('['.repeat(1001) + ']'.repeat(1001))), undefined)
  })
  const numbers: Array<[number, string]> = [[1, '1'], [-0, '-0'], [2.5, '2.5'], [1e20, '1e+20'], [0.1, '0.1'],
    // biome-ignore lint/correctness/noPrecisionLoss: a literal beyond the largest double is what is tested
    [1e400, 'null'],
    // biome-ignore lint/correctness/noPrecisionLoss: literals that doubles cannot hold exactly are what is tested
    [1.23456789012345678, '1.2345678901234567'], [12_345_678_901_234_567_890, '1.2345678901234567e+19'], [0.000001, '1e-06'], [1.5e-7, '1.5e-07'],
    [123_456_789_012_345, '123456789012345'], [1_234_567_890_123_456, '1234567890123456'], [0.0001, '0.0001'], [100, '100']]
  for (const [n, s] of numbers) it(`number ${n} -> ${s}`, () => assert.equal(formatNumber(n), s))
  it('strings stop at NUL like C strings', () => assert.equal(printJson({t: 'str', b: Buffer.from('a\0b')}, false).toString(), '"a"'))
})

describe('strftime (glibc, C locale)', () => {
  const CONVERSIONS = 'aAbBcCdDeFgGhHIjklmMpPrRsSTuUVwWxXyYzZ'
  const table: Array<[number, string]> = [
    [0, 'Thu|Thursday|Jan|January|Thu Jan  1 00:00:00 1970|19|01|01/01/70| 1|1970-01-01|70|1970|Jan|00|12|001| 0|12|01|00|AM|am|12:00:00 AM|00:00|0|00|00:00:00|4|00|01|4|00|01/01/70|00:00:00|70|1970|+0000|UTC|'],
    [1_700_000_000, 'Tue|Tuesday|Nov|November|Tue Nov 14 22:13:20 2023|20|14|11/14/23|14|2023-11-14|23|2023|Nov|22|10|318|22|10|11|13|PM|pm|10:13:20 PM|22:13|1700000000|20|22:13:20|2|46|46|2|46|11/14/23|22:13:20|23|2023|+0000|UTC|'],
    [1_704_067_199, 'Sun|Sunday|Dec|December|Sun Dec 31 23:59:59 2023|20|31|12/31/23|31|2023-12-31|23|2023|Dec|23|11|365|23|11|12|59|PM|pm|11:59:59 PM|23:59|1704067199|59|23:59:59|7|53|52|0|52|12/31/23|23:59:59|23|2023|+0000|UTC|'],
    [1_735_689_600, 'Wed|Wednesday|Jan|January|Wed Jan  1 00:00:00 2025|20|01|01/01/25| 1|2025-01-01|25|2025|Jan|00|12|001| 0|12|01|00|AM|am|12:00:00 AM|00:00|1735689600|00|00:00:00|3|00|01|3|00|01/01/25|00:00:00|25|2025|+0000|UTC|'],
    [951_782_400, 'Tue|Tuesday|Feb|February|Tue Feb 29 00:00:00 2000|20|29|02/29/00|29|2000-02-29|00|2000|Feb|00|12|060| 0|12|02|00|AM|am|12:00:00 AM|00:00|951782400|00|00:00:00|2|09|09|2|09|02/29/00|00:00:00|00|2000|+0000|UTC|'],
    [1_230_768_000, 'Thu|Thursday|Jan|January|Thu Jan  1 00:00:00 2009|20|01|01/01/09| 1|2009-01-01|09|2009|Jan|00|12|001| 0|12|01|00|AM|am|12:00:00 AM|00:00|1230768000|00|00:00:00|4|00|01|4|00|01/01/09|00:00:00|09|2009|+0000|UTC|'],
  ]
  for (const [seconds, expected] of table) {
    it(new Date(seconds * 1000).toISOString(), () => {
      const d = new Date(seconds * 1000)
      assert.equal(Array.from(CONVERSIONS, (c) => strftime1(c, d) + '|').join(''), expected)
    })
  }
  it('unknown conversions print as themselves; %n %t %%', () => {
    assert.deepEqual(['Q', 'E', '+', 'n', 't', '%'].map((c) => strftime1(c, new Date(0))), ['%Q', '%E', '%+', '\n', '\t', '%'])
  })
  it('local time follows TZ', () => {
    process.env.TZ = 'America/New_York'
    try {
      assert.equal(['c', 'z', 'Z'].map((c) => strftime1(c, new Date(1_700_000_000_000))).join('|'), 'Tue Nov 14 17:13:20 2023|-0500|EST')
      assert.equal(['z', 'Z'].map((c) => strftime1(c, new Date(1_690_000_000_000))).join('|'), '-0400|EDT')
    } finally {
      process.env.TZ = 'UTC'
    }
  })
})

describe('default, -v and -N printing', () => {
  const run = (o: ConstructorParameters<typeof Printer>[0], messages: FormatMessage[]) => {
    const chunks: Buffer[] = []
    const p = new Printer({...o, out: {write: (c: Buffer | string) => chunks.push(Buffer.from(c))}})
    for (const m of messages) p.print(m)
    return Buffer.concat(chunks).toString()
  }
  const two = [msg({payload: Buffer.from('x')}), msg({topic: 'e', payload: Buffer.alloc(0)})]
  it('payload only; empty payloads print nothing', () => assert.equal(run({}, two), 'x\n'))
  it('-v: topic payload; empty prints (null)', () => assert.equal(run({verbose: true}, two), 'a/b x\ne (null)\n'))
  it('-v -N: empty prints nothing at all', () => assert.equal(run({verbose: true, eol: false}, two), 'a/b x'))
  it('--random-filter 0 prints nothing, 100 everything', () => {
    assert.equal(run({randomFilter: 0}, two), '')
    assert.equal(run({randomFilter: 100}, two), 'x\n')
  })
})
