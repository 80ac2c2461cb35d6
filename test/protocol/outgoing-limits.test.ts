// Mosquitto's upgrade_outgoing_qos and max_inflight_bytes (issue #17), for v3.1.1 and v5.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

for (const v of VERSIONS) {
  describe(`outgoing QoS and in-flight bytes ${versionName(v)}`, () => {
    test('upgradeOutgoingQos: delivered at the subscription\'s QoS, retained messages too; off: the lower of the two', async (t) => {
      for (const upgrade of [true, false]) {
        const broker = startBroker(t, {upgradeOutgoingQos: upgrade})
        const sub = new Wire(broker, v)
        await sub.connect({clientId: 'sub'})
        await sub.subscribe('t/#', 2)
        const pub = new Wire(broker, v)
        await pub.connect({clientId: 'pub'})
        pub.publish('t/live', 'x', 0)
        const live = await sub.expect('publish')
        assert.equal(live.qos, upgrade ? 2 : 0)
        await sub.ack(live)
        pub.publish('t/kept', 'y', 1, {messageId: 1, retain: true})
        await pub.expect('puback')
        await sub.ack(await sub.expect('publish'))
        const late = new Wire(broker, v)
        await late.connect({clientId: 'late'})
        await late.subscribe('t/kept', 2)
        const retained = await late.expect('publish')
        assert.equal(retained.qos, upgrade ? 2 : 1)
        assert.equal(retained.retain, true)
      }
    })

    test('maxInflightBytes: messages go while fewer bytes are in flight; one larger message goes alone', async (t) => {
      const broker = startBroker(t, {maxInflightBytes: 100})
      const sub = new Wire(broker, v)
      await sub.connect({clientId: 'sub'})
      await sub.subscribe('t', 1)
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      for (let i = 1; i <= 3; i++) {
        pub.publish('t', Buffer.alloc(60, 48 + i), 1, {messageId: i})
        await pub.expect('puback')
      }
      const first = await sub.expect('publish')
      const second = await sub.expect('publish') // 60 < 100: a second may go; 120 is not below the limit
      await sub.quiet()
      await sub.ack(first)
      const third = await sub.expect('publish')
      assert.deepEqual([first, second, third].map((p) => p.payload[0]), [49, 50, 51])
      await sub.ack(second)
      await sub.ack(third)
      pub.publish('t', Buffer.alloc(150), 1, {messageId: 4})
      pub.publish('t', Buffer.alloc(10), 1, {messageId: 5})
      assert.equal((await sub.expect('publish')).payload.length, 150) // over the limit, but alone
      await sub.quiet()
      assert.equal(engineOf(broker).sessions.get('sub')!.inflightBytes, 150)
    })
  })
}
