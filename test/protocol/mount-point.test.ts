// Mosquitto's mount_point (issue #17): a listener's clients publish, subscribe, retain and leave wills
// under a topic prefix, and see their topics without it.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import type {ListenerLink} from '../../src/broker/connection.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'
import {engineOf} from '../../src/broker/internal.js'

const site = (mountPoint: string): ListenerLink => ({stats: {messagesReceived: 0, messagesSent: 0}, released: () => undefined, mountPoint})

for (const v of VERSIONS) {
  describe(`mount_point ${versionName(v)}`, () => {
    test('publish and subscribe under the prefix; clients elsewhere see the full topic', async (t) => {
      const broker = startBroker(t)
      const outside = new Wire(broker, v)
      await outside.connect({clientId: 'outside'})
      await outside.subscribe('#', 0)
      const a = new Wire(broker, v, 'test', {listener: site('site-a/')})
      await a.connect({clientId: 'a'})
      await a.subscribe(['t/#', '$share/g/s/#'], 0)
      const b = new Wire(broker, v, 'test', {listener: site('site-b/')})
      await b.connect({clientId: 'b'})
      await b.subscribe('#', 0)

      a.publish('t/1', 'from a')
      assert.equal((await outside.expect('publish')).topic, 'site-a/t/1')
      assert.equal((await a.expect('publish')).topic, 't/1') // its own subscription, without the prefix
      await b.quiet() // another mount point sees nothing of it

      outside.publish('site-a/s/2', 'to a')
      assert.equal((await a.expect('publish')).topic, 's/2') // through the shared subscription
      assert.equal((await outside.expect('publish')).topic, 'site-a/s/2')
      outside.publish('t/1', 'unmounted')
      await outside.expect('publish')
      await a.quiet()

      await a.unsubscribe('t/#')
      outside.publish('site-a/t/3', 'gone')
      await outside.expect('publish')
      await a.quiet()
    })

    test('retained messages and wills live under the prefix', async (t) => {
      const broker = startBroker(t)
      const a = new Wire(broker, v, 'test', {listener: site('m/')})
      await a.connect({clientId: 'a', will: {topic: 'will', payload: Buffer.from('bye'), qos: 0, retain: true}})
      a.publish('kept', 'k', 1, {messageId: 1, retain: true})
      await a.expect('puback')
      assert.deepEqual([...engineOf(broker).retained.entries()].map((m) => m.topic), ['m/kept'])
      a.sendRaw('00 00') // dies: the will goes out
      await a.closed()
      const later = new Wire(broker, v, 'test', {listener: site('m/')})
      await later.connect({clientId: 'later'})
      await later.subscribe('#', 0)
      const got = (await later.take(2)).map((p) => p.cmd === 'publish' ? p.topic : p.cmd).sort()
      assert.deepEqual(got, ['kept', 'will'])
    })
  })
}
