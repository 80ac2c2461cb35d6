// A Redis that stops answering (paused, wedged, a proxy whose backend hangs) never hangs a node: the
// start fails with one line (exit 17), SIGINT or SIGTERM during that wait stops it at once (exit 0, one
// line), a SIGINT stops a node whose Redis stalled. A TCP proxy in front
// of a real redis-server stalls on demand (test/helpers/stalling-proxy.ts).
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {collect, runMidge, spawnMidge} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {startStallingProxy, type StallingProxy} from '../helpers/stalling-proxy.js'
import {mqttClient} from '../helpers/cluster.js'

let redis: RedisServer
const proxies: StallingProxy[] = []
const brokers: MidgeBroker[] = []

async function proxy(target: number | undefined): Promise<StallingProxy> {
  const p = await startStallingProxy(target)
  proxies.push(p)
  return p
}

describe('a Redis that does not answer', {timeout: 120_000}, () => {
  before(async () => { redis = await startRedis() })
  after(async () => {
    for (const b of brokers) await b.stop('SIGKILL')
    for (const p of proxies) await p.close()
    await redis?.stop()
  })

  it('fails the start of a node with exit 17 and one line, instead of hanging it', async () => {
    const silent = await proxy(undefined)
    const r = await runMidge(['broker', 'start', '--port', '0', '--cluster', silent.url], {timeoutMs: 60_000})
    assert.equal(r.signal, null, 'the node exited on its own')
    assert.equal(r.code, 17)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /^midge broker start: --cluster: cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+\/?: no answer within 10 s$/m)
    assert.ok(silent.connections >= 1, 'the node did reach the proxy')
  })

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`stops at once on ${sig} while the start waits for Redis: exit 0, one line`, async () => {
      const silent = await proxy(undefined)
      const child = spawnMidge(['broker', 'start', '--port', '0', '--cluster', silent.url])
      const done = collect(child, 60_000)
      // the node is waiting for Redis's answer (it reached the proxy), not yet listening
      while (silent.connections < 1 && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 20))
      child.kill(sig)
      const r = await done
      assert.equal(r.signal, null, 'the node exited on its own')
      // without the signal's effect it would give up after 10 s with exit 17 ("no answer within 10 s")
      assert.equal(r.code, 0, r.stderr)
      assert.doesNotMatch(r.stderr, /no answer within/)
      const lines = r.stderr.trim().split('\n').filter((l) => l.includes('shutting down'))
      assert.equal(lines.length, 1, r.stderr)
      assert.match(lines[0]!, new RegExp(`shutting down \\(${sig}\\) before the start finished, while waiting for Redis`))
      assert.equal(r.stdout, '', 'nothing announced')
    })
  }

  it('fails the start of --workers with exit 17 too (each worker gives up; the primary stops)', async () => {
    const silent = await proxy(undefined)
    const r = await runMidge(['broker', 'start', '--port', '0', '--workers', '2', '--cluster', silent.url], {timeoutMs: 60_000})
    assert.equal(r.signal, null, 'the primary exited on its own')
    assert.equal(r.code, 17)
    assert.match(r.stderr, /no answer within 10 s/)
  })

  it('stops on SIGINT once its Redis stalled, saying so', async () => {
    const p = await proxy(redis.port)
    const node = await startMidgeBroker(['--cluster', p.url, '--shutdown-timeout', '3'])
    brokers.push(node)
    // the node serves: a client connects through it (its claim is a Redis round trip through the proxy)
    const c = await mqttClient(node, {clientId: 'before-stall', clean: false, protocolVersion: 5, properties: {sessionExpiryInterval: 60}})
    c.end(true)
    p.stall()
    const r = await node.stop('SIGINT')
    assert.equal(r.signal, null, 'the node exited on its own')
    assert.ok(r.code === 0 || r.code === 1, `exit code ${r.code}`)
    if (r.code === 1) assert.match(r.stderr, /shutdown did not finish within 3 s/)
  })
})
