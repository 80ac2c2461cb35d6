// A bridge's remote going away: a real Mosquitto stopped in the middle of a QoS 1 stream and started
// again (nothing midge acknowledged is lost), failover to a second address and back to the first
// once it answers, and the state topic and /metrics counters along the way.
import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'
import mqtt from 'mqtt'
import {createBroker, type Broker} from '../../src/index.js'
import {collectMetrics} from '../../src/broker/metrics-http.js'
import {bridgeTopic} from '../../src/broker/bridge/index.js'
import {hasMosquitto} from '../helpers/mosquitto.js'
import {runMosquitto} from '../helpers/mosquitto-process.js'
import {engineOf} from '../../src/broker/internal.js'

const skip = hasMosquitto() ? false : 'Debian mosquitto is not installed'

async function eventually(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function metric(broker: Broker, name: string, bridge: string): number | undefined {
  return collectMetrics({broker, listeners: () => engineOf(broker).listeners}).find((f) => f.name === name)?.samples.find((s) => s.labels?.bridge === bridge)?.value
}

describe('a bridge whose remote goes away', {skip}, () => {
  const cleanup: Array<() => Promise<unknown>> = []
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined)
  })

  it('the remote stopped and restarted in the middle of a QoS 1 stream: every message midge acknowledged arrives', async () => {
    // Mosquitto with persistence, so that what it acknowledged survives its own restart
    const mosq = await runMosquitto((dir) => ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 1'])
    cleanup.push(() => mosq.stop())
    const receiver = await mqtt.connectAsync(mosq.url, {clientId: 'receiver', clean: false, protocolVersion: 4, reconnectPeriod: 200})
    cleanup.push(() => receiver.endAsync(true))
    const got = new Set<string>()
    receiver.on('message', (_t, payload) => got.add(payload.toString()))
    await receiver.subscribeAsync('site/stream/#', {qos: 1})

    const log = (level: string) => (o: object, m?: string) => { if (process.env.BRIDGE_DEBUG) console.error(new Date().toISOString(), level, m, JSON.stringify(o)) }
    const broker = createBroker({logger: {trace: log('trace'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error')}})
    cleanup.push(() => broker.close())
    const {port} = await broker.listen({port: 0})
    const bridge = await broker.addBridge({
      name: 'outage', addresses: [{host: '127.0.0.1', port: mosq.port}], restartTimeout: {base: 1},
      topics: [bridgeTopic('stream/#', 'out', 1, undefined, 'site/')],
    })
    await eventually(() => bridge.stats.connected === 1, 'the bridge to connect')
    const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {reconnectPeriod: 0})
    cleanup.push(() => publisher.endAsync(true))
    const N = 300
    let i = 0
    const publish = async (upTo: number) => { for (; i < upTo; i++) await publisher.publishAsync('stream/x', `m${i}`, {qos: 1}) }
    await publish(100)
    await mosq.kill('SIGTERM')
    await eventually(() => bridge.stats.connected === 0, 'the bridge to notice')
    await publish(200) // acknowledged by midge while the remote is down
    assert.ok(bridge.queued > 0, 'messages wait for the remote')
    assert.ok((metric(broker, 'midge_bridge_queued_messages', 'outage') ?? 0) > 0)
    await mosq.restart()
    await publish(N)
    await eventually(() => got.size === N, `all ${N} messages (got ${got.size})`)
    for (let k = 0; k < N; k++) assert.ok(got.has(`m${k}`), `m${k}`)
    assert.equal(bridge.stats.reconnects, 1)
    assert.equal(metric(broker, 'midge_bridge_connected', 'outage'), 1)
    assert.equal(metric(broker, 'midge_bridge_reconnects_total', 'outage'), 1)
    // the last PUBACKs may reach the bridge after the receiver has the messages
    await eventually(() => (metric(broker, 'midge_bridge_messages_out_total', 'outage') ?? 0) >= N, 'every PUBACK counted')
  })

  it('fails over to the second address, and goes back to the first once it answers', async () => {
    const primary = await runMosquitto()
    cleanup.push(() => primary.stop())
    await primary.kill('SIGTERM') // the primary's port is known but nobody listens
    const secondary = await runMosquitto()
    cleanup.push(() => secondary.stop())

    const broker = createBroker()
    cleanup.push(() => broker.close())
    const {port} = await broker.listen({port: 0})
    const connectedTo: string[] = []
    broker.events.on('bridgeConnected', (e) => connectedTo.push(e.address))
    const localState: string[] = []
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {reconnectPeriod: 0})
    cleanup.push(() => watcher.endAsync(true))
    watcher.on('message', (_t, p) => localState.push(p.toString()))
    await watcher.subscribeAsync('$SYS/broker/connection/failover-test/state', {qos: 1})
    const bridge = await broker.addBridge({
      name: 'failover', remoteClientId: 'failover-test', restartTimeout: {base: 1},
      addresses: [{host: '127.0.0.1', port: primary.port}, {host: '127.0.0.1', port: secondary.port}],
      topics: [bridgeTopic('f/#', 'out', 1)],
    })
    await eventually(() => connectedTo.length === 1, 'a connection')
    assert.deepEqual(connectedTo, [`127.0.0.1:${secondary.port}`])
    assert.equal(bridge.stats.connectFailures >= 1, true)
    await eventually(() => localState.at(-1) === '1', 'the local state 1')
    await primary.restart()
    await eventually(() => connectedTo.length === 2, 'the switch back to the primary')
    assert.deepEqual(connectedTo, [`127.0.0.1:${secondary.port}`, `127.0.0.1:${primary.port}`])
    // messages now flow to the primary
    const onPrimary = await mqtt.connectAsync(primary.url, {reconnectPeriod: 0})
    cleanup.push(() => onPrimary.endAsync(true))
    const got: string[] = []
    onPrimary.on('message', (_t, p) => got.push(p.toString()))
    await onPrimary.subscribeAsync('f/#', {qos: 1})
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {reconnectPeriod: 0})
    cleanup.push(() => pub.endAsync(true))
    await pub.publishAsync('f/1', 'after failback', {qos: 1})
    await eventually(() => got.includes('after failback'), 'the message on the primary')
    // the state went to 0 locally while switching, and is 1 again
    assert.ok(localState.includes('0'))
    await eventually(() => localState.at(-1) === '1', 'the local state 1 again')
  })
})

