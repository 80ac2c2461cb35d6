// No loops: midge bridged to midge both ways on '#' (v3.1.1 with the bridge bit, and v5 with No
// Local), a real Mosquitto bridging into midge both ways on '#' (its try_private bit: midge must not
// echo its messages back), and remotes that refuse the bridge bit or MQTT 5 (the bridge retries without).
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {createServer, connect as netConnect, type Server, type Socket} from 'node:net'
import {after, describe, it} from 'node:test'
import mqtt from 'mqtt'
import {createBroker, type Broker} from '../../src/index.js'
import {bridgeTopic} from '../../src/broker/bridge/index.js'
import {hasMosquitto} from '../helpers/mosquitto.js'
import {runMosquitto} from '../helpers/mosquitto-process.js'
import {engineOf} from '../../src/broker/internal.js'

const skip = hasMosquitto() ? false : 'Debian mosquitto is not installed'

async function eventually(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function counter(url: string, cleanup: Array<() => Promise<unknown>>) {
  const c = await mqtt.connectAsync(url, {reconnectPeriod: 0})
  cleanup.push(() => c.endAsync(true))
  const counts = new Map<string, number>()
  c.on('message', (_t, p) => counts.set(p.toString(), (counts.get(p.toString()) ?? 0) + 1))
  await c.subscribeAsync('loop/#', {qos: 1})
  return {c, n: (p: string) => counts.get(p) ?? 0}
}

/**
 * Publishes A on side 1 and B on side 2, then a marker each way: once the markers have crossed, an
 * echo of A or B would have crossed before them. A loop would make the counts grow without bound.
 */
async function assertNoLoop(one: Awaited<ReturnType<typeof counter>>, two: Awaited<ReturnType<typeof counter>>): Promise<void> {
  await one.c.publishAsync('loop/a', 'A', {qos: 1})
  await two.c.publishAsync('loop/b', 'B', {qos: 1})
  await eventually(() => one.n('B') === 1 && two.n('A') === 1, 'each message on the other side')
  for (let round = 0; round < 3; round++) {
    await one.c.publishAsync('loop/m', `M1-${round}`, {qos: 1})
    await eventually(() => two.n(`M1-${round}`) === 1, 'the marker on side 2')
    await two.c.publishAsync('loop/m', `M2-${round}`, {qos: 1})
    await eventually(() => one.n(`M2-${round}`) === 1, 'the marker on side 1')
  }
  assert.deepEqual([one.n('A'), one.n('B'), two.n('A'), two.n('B')], [1, 1, 1, 1])
  for (let round = 0; round < 3; round++) assert.deepEqual([one.n(`M1-${round}`), two.n(`M2-${round}`)], [1, 1])
}

describe('bridges without loops', {skip}, () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined)
  })

  async function midge(): Promise<{broker: Broker; url: string; port: number}> {
    const broker = createBroker()
    cleanup.push(() => broker.close())
    const {port} = await broker.listen({port: 0})
    return {broker, url: `mqtt://127.0.0.1:${port}`, port}
  }

  for (const protocolVersion of [4, 5] as const) {
    it(`midge to midge, both ways on '#' (MQTT ${protocolVersion === 5 ? '5: No Local' : '3.1.1: the bridge bit'})`, async () => {
      const a = await midge()
      const b = await midge()
      const bridge = await a.broker.addBridge({name: `m2m${protocolVersion}`, addresses: [{host: '127.0.0.1', port: b.port}], protocolVersion,
        topics: [bridgeTopic('#', 'both', 1)], notifications: false})
      await eventually(() => bridge.stats.connected === 1, 'the bridge')
      await assertNoLoop(await counter(a.url, cleanup), await counter(b.url, cleanup))
    })
  }

  it('Mosquitto bridging into midge both ways on \'#\': midge sees the bridge bit and sends nothing back', async () => {
    const m = await midge()
    const bridged: string[] = []
    m.broker.events.on('clientConnected', (e) => bridged.push(e.clientId))
    const mosq = await runMosquitto(() => [
      'connection tomidge', `address 127.0.0.1:${m.port}`, 'remote_clientid mosq-bridge', 'topic loop/# both 1', 'notifications false', 'restart_timeout 1',
    ])
    cleanup.push(() => mosq.stop())
    await eventually(() => bridged.includes('mosq-bridge'), 'Mosquitto\'s bridge to connect')
    const one = await counter(mosq.url, cleanup)
    const two = await counter(m.url, cleanup)
    // the bridge's subscription must exist on midge before messages flow towards it
    await eventually(() => engineOf(m.broker).router.size >= 2, 'Mosquitto\'s subscription on midge')
    await assertNoLoop(one, two)
  })

  /** A proxy to `port` that answers a CONNECT whose protocol level `refuse` rejects as a v3.1.1 broker that does not know it would. */
  async function refusingProxy(port: number, refuse: (level: number) => boolean): Promise<{port: number; levels: number[]}> {
    const levels: number[] = []
    const proxy: Server = createServer((socket: Socket) => {
      socket.once('data', (first: Buffer) => {
        const level = first[8] // fixed header (2 bytes here), protocol name length (2), "MQTT" (4)
        levels.push(level)
        if (refuse(level)) {
          socket.end(Buffer.from([0x20, 0x02, 0x00, 0x01])) // CONNACK: unacceptable protocol version
          return
        }
        const upstream = netConnect({host: '127.0.0.1', port}, () => upstream.write(first))
        socket.pipe(upstream).pipe(socket)
        socket.on('error', () => upstream.destroy())
        upstream.on('error', () => socket.destroy())
      })
    })
    proxy.listen(0, '127.0.0.1')
    await once(proxy, 'listening')
    cleanup.push(() => new Promise((r) => proxy.close(r)))
    return {port: (proxy.address() as {port: number}).port, levels}
  }

  for (const [what, refuse, protocolVersion, expected] of [
    ['the bridge bit: the bridge connects again without it', (l: number) => (l & 0x80) !== 0, 4, [0x84, 0x04]],
    ['MQTT 5: the bridge connects again with 3.1.1 (and the bridge bit)', (l: number) => l === 5, 5, [0x05, 0x84]],
  ] as const) {
    it(`a remote that refuses ${what}`, async () => {
      const target = await midge()
      const proxy = await refusingProxy(target.port, refuse)
      const a = await midge()
      const bridge = await a.broker.addBridge({name: `refused${protocolVersion}`, protocolVersion, addresses: [{host: '127.0.0.1', port: proxy.port}],
        restartTimeout: {base: 1}, topics: [bridgeTopic('p/#', 'out', 1)], notifications: false})
      await eventually(() => bridge.stats.connected === 1, 'the bridge connected')
      assert.deepEqual(proxy.levels, expected)
      const remote = await counter(target.url, cleanup)
      await remote.c.subscribeAsync('p/#', {qos: 1})
      const pub = await mqtt.connectAsync(a.url, {reconnectPeriod: 0})
      cleanup.push(() => pub.endAsync(true))
      await pub.publishAsync('p/1', 'through', {qos: 1})
      await eventually(() => remote.n('through') === 1, 'the message')
    })
  }
})
