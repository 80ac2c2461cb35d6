// A broker bridging into midge with Mosquitto's bridge bit (0x80 on a v3.1/v3.1.1 protocol level,
// try_private): its subscriptions are No Local and Retain As Published, as Mosquitto treats them
// (handle_subscribe.c), so a bridge both ways on '#' gets neither its own messages back nor live
// messages without their retain flag. A plain client of the same level is the control.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {PublishPacket} from '../../src/codec/index.js'
import {rawConnect, startBroker, str, Wire} from '../helpers/wire.js'

for (const level of [3, 4] as const) {
  describe(`the bridge bit on MQTT ${level === 3 ? '3.1' : '3.1.1'} (protocol level 0x8${level})`, () => {
    for (const bridge of [true, false]) {
      test(bridge ? 'a bridge: no echo of its own messages, retain as published' : 'control, without the bit: its own messages come back, live ones without retain', async (t) => {
        const broker = startBroker(t)
        const b = new Wire(broker, level)
        b.sendRaw(rawConnect({name: level === 3 ? 'MQIsdp' : 'MQTT', level: bridge ? 0x80 | level : level, flags: 0x02, keepalive: 60, payload: [str('remote-bridge')]}))
        assert.equal((await b.expect('connack')).returnCode, 0)
        await b.subscribe('#', 1)
        const other = new Wire(broker, 4)
        await other.connect({clientId: 'other'})
        b.publish('t/own', 'own', 1, {messageId: 7})
        other.publish('t/kept', 'kept', 0, {retain: true})
        // the bridge gets PUBACK and one message; the plain client PUBACK and two (its own echoed)
        const packets = [await b.next(), await b.next(), ...(bridge ? [] : [await b.next()])]
        assert.equal(packets.filter((p) => p.cmd === 'puback').length, 1)
        const got = packets.filter((p): p is PublishPacket => p.cmd === 'publish').map((p) => [p.topic, p.retain])
        assert.deepEqual(got, bridge ? [['t/kept', true]] : [['t/own', false], ['t/kept', false]])
      })
    }
  })
}
