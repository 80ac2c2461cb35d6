// Topic names and filters with control characters or non-characters are refused (v5 1.5.4 allows a
// receiver to treat them as malformed; Mosquitto refuses them). Found by the fuzzer: a retained
// message on `x/a\u0001b` made every libmosquitto subscriber on `#` (mosquitto_sub -V 5 and -V
// mqttv311) drop its connection and reconnect for good, never receiving anything.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'

const BAD = ['\u0001', '\u001f', '\u007f', '\u0085', '\u009f', '\ufdd0', '\ufffe', '\uffff', '\u{1ffff}', '\u{10fffe}']
const FINE = ['\ufeff', '\ufffd', '\u00a0', '\u{1fffd}', '🐝']

for (const v of VERSIONS) {
  test(`a PUBLISH to a topic with a control character or non-character is refused, and nothing is retained (${versionName(v)})`, async (t) => {
    const broker = startBroker(t)
    for (const ch of BAD) {
      const w = new Wire(broker, v)
      await w.connect({clientId: 'p'})
      w.publish(`x/a${ch}b`, 'poison', 0, {retain: true})
      if (v === 5) {
        const d = await w.expect('disconnect')
        assert.equal(d.reasonCode, 0x90, JSON.stringify(ch)) // Topic Name invalid
      }
      await w.closed()
    }
    // the characters that are allowed still are
    const ok = new Wire(broker, v)
    await ok.connect({clientId: 'ok'})
    for (const ch of FINE) ok.publish(`x/a${ch}b`, 'fine', 0, {retain: true})
    await ok.quiet()
    const sub = new Wire(broker, v)
    await sub.connect({clientId: 's'})
    await sub.subscribe('#')
    const topics = (await sub.take(FINE.length)).map((p) => (p as {topic: string}).topic).sort()
    assert.deepEqual(topics, FINE.map((ch) => `x/a${ch}b`).sort())
    await sub.quiet()
  })

  test(`a SUBSCRIBE filter with a control character is refused (${versionName(v)})`, async (t) => {
    const broker = startBroker(t)
    const w = new Wire(broker, v)
    await w.connect()
    const suback = await w.subscribe(['x/\u0001', 'x/\u0085/#', 'x/ok'])
    assert.deepEqual(suback.granted, v === 5 ? [0x8f, 0x8f, 0] : [0x80, 0x80, 0])
  })
}
