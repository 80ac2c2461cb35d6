// `midge pub` with 100k-message bursts through a stdin pipe (-l, --stdin-json) into the built binary:
// every message arrives, in order. Apart from pub.test.ts because these take most of its time, and run
// by one file per broker (pub-bulk-mosquitto.test.ts, pub-bulk-midge.test.ts) to keep each file short.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {BROKERS, receiver, runWithInput, type Target} from './pub-targets.js'

/** The burst tests against the broker named `name` ('mosquitto' or 'midge'). */
export function bulkTests(name: string): void {
  const target = BROKERS.find((b) => b.name === name)!
  describe(`pub bursts against ${target.name}`, {skip: target.skip}, () => {
    let b: Target
    let conn: string[]
    before(async () => {
      b = await target.start()
      conn = ['-h', b.host, '-p', String(b.port)]
    })
    after(async () => { await b.stop() })

    for (const qos of ['0', '1', '2']) {
      it(`-l: 100k lines at QoS ${qos} arrive complete and in order`, async () => {
        const n = 100_000
        const r = await receiver(b, `lines/${qos}`)
        const input = Array.from({length: n}, (_, i) => `line ${i}`).join('\n') + '\n'
        const res = await runWithInput(['pub', ...conn, '-t', `lines/${qos}`, '-l', '-q', qos], input)
        assert.equal(res.code, 0, res.stderr)
        const got = await r.take(n, 60_000)
        assert.equal(got.length, n)
        for (let i = 0; i < n; i++) if (got[i].payload.toString() !== `line ${i}`) assert.fail(`message ${i} is '${got[i].payload}'`)
        await r.close()
      })
    }

    // one QoS for all: Debian's mosquitto 2.0.11 itself reorders a topic's messages when one subscriber gets
    // QoS 1 and QoS 2 traffic mixed under load (seen with mosquitto_pub and mosquitto_sub alone)
    it('--stdin-json: 100k NDJSON messages with their own topics and properties, in order per topic', async () => {
      const n = 100_000
      const r = await receiver(b, 'json/#')
      const lines = Array.from({length: n}, (_, i) => JSON.stringify({topic: `json/${i % 3}`, payload: `m${i}`, qos: 1, retain: false,
        properties: i % 1000 === 0 ? {contentType: 'text/plain', userProperties: {i: String(i)}} : undefined}))
      const res = await runWithInput(['pub', ...conn, '--stdin-json'], lines.join('\n') + '\n')
      assert.equal(res.code, 0, res.stderr)
      const got = await r.take(n, 60_000)
      assert.equal(got.length, n)
      // MQTT orders messages per topic, not across topics
      for (const k of [0, 1, 2]) {
        const seq = got.filter((m) => m.topic === `json/${k}`).map((m) => m.payload.toString())
        const want = Array.from({length: n}, (_, i) => i).filter((i) => i % 3 === k).map((i) => `m${i}`)
        assert.equal(seq.length, want.length)
        for (let i = 0; i < want.length; i++) if (seq[i] !== want[i]) assert.fail(`json/${k}: message ${i} is '${seq[i]}', expected '${want[i]}'`)
      }
      const withProps = got.find((m) => m.payload.toString() === 'm1000')!
      assert.equal(withProps.properties?.contentType, 'text/plain')
      assert.deepEqual({...withProps.properties?.userProperties}, {i: '1000'})
      await r.close()
    })
  })
}
