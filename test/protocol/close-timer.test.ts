// A closing connection whose peer does not read cannot hold its socket: the broker ends it, and
// destroys it 2 s later if the end never completes. The timer runs on the broker's injected clock
// (FakeTimers), so the test decides when those 2 s have passed.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {FakeTimers} from '../helpers/fake-timers.js'
import {startBroker, versionName, VERSIONS, Wire} from '../helpers/wire.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))

for (const v of VERSIONS) {
  describe(`closing a connection that does not read ${versionName(v)}`, () => {
    test('ended at once, destroyed 2 s (of the broker\'s clock) later', async (t) => {
      const timers = new FakeTimers()
      const broker = startBroker(t, {timers})
      const slow = new Wire(broker, v)
      await slow.connect({clientId: 'slow'})
      await slow.subscribe('big', 0)
      slow.pause()
      const pub = new Wire(broker, v)
      await pub.connect({clientId: 'pub'})
      // more than the in-memory stream buffers: the broker's writes to `slow` back up
      for (let i = 0; i < 8; i++) pub.send({cmd: 'publish', topic: 'big', payload: Buffer.alloc(64 * 1024, i), qos: 0, retain: false, dup: false})
      await pub.quiet()
      assert.ok(slow.server.writableLength > 0, 'writes to the slow reader are pending')
      slow.send({cmd: 'disconnect'})
      while (!slow.server.writableEnded) await turn()
      await turn()
      assert.equal(slow.server.destroyed, false, 'the end waits for the pending writes')
      timers.advance(1999)
      await turn()
      assert.equal(slow.server.destroyed, false, 'not before 2 s')
      timers.advance(1)
      await turn()
      assert.equal(slow.server.destroyed, true, 'destroyed at 2 s')
    })
  })
}
