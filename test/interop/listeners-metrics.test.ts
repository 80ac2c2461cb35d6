// /healthz and /metrics over HTTP, after a known workload on a TCP and a WebSocket listener; the
// exposition is read by a strict Prometheus text-format parser.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import type {MqttClient} from 'mqtt'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import type {Listener} from '../../src/broker/listeners/index.js'
import {serveOps, type OpsServer} from '../../src/broker/metrics-http.js'
import {listenerFor, roundTrip, tryConnect} from '../helpers/listeners.js'
import {parsePrometheus, sample} from '../helpers/prometheus.js'

describe('/healthz and /metrics', () => {
  let broker: Broker
  let tcp: Listener
  let ws: Listener
  let ops: OpsServer
  let base: string
  const clients: MqttClient[] = []

  before(async () => {
    broker = createBroker()
    tcp = (await listenerFor(broker, {protocol: 'mqtt', port: 0})).listener
    ws = (await listenerFor(broker, {protocol: 'ws', port: 0, maxConnections: 1})).listener
    ops = await serveOps({broker, listeners: () => [tcp, ws]}, {port: 0})
    base = `http://127.0.0.1:${ops.address().port}`
  })
  after(async () => {
    for (const c of clients) c.end(true)
    await broker.close()
    await Promise.all([tcp.close(), ws.accepting ? ws.close() : undefined, ops.close()])
  })

  async function client(url: string, options: Record<string, unknown> = {}): Promise<MqttClient> {
    const a = await tryConnect(url, options)
    assert.ok(a.ok)
    clients.push(a.client)
    return a.client
  }

  test('metrics after a known workload', async () => {
    const tcpUrl = `mqtt://127.0.0.1:${tcp.address().port}`
    const wsUrl = `ws://127.0.0.1:${ws.address().port}/mqtt`
    const sub = await client(tcpUrl, {clientId: 'm-sub', protocolVersion: 5})
    const pub = await client(wsUrl, {clientId: 'm-pub', protocolVersion: 5})
    const refused = await tryConnect(wsUrl, {clientId: 'm-refused', protocolVersion: 5})
    assert.equal(refused.ok, false)
    await sub.subscribeAsync(['m/a', 'm/b', '$share/g/m/c'], {qos: 1})
    assert.equal(await roundTrip(sub, pub, 'm/a', 'one'), 'one')
    await pub.publishAsync('m/retained', 'kept', {qos: 1, retain: true})

    const res = await fetch(`${base}/metrics`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    const m = parsePrometheus(await res.text())
    for (const f of m.values()) {
      assert.ok(f.help, `${f.name} has HELP`)
      assert.ok(f.type === 'counter' ? f.name.endsWith('_total') : !f.name.endsWith('_total'), f.name)
    }
    const at = (l: Listener) => ({listener: l.url})
    assert.equal(sample(m, 'midge_listener_up', at(tcp)), 1)
    assert.equal(sample(m, 'midge_listener_connections', at(tcp)), 1)
    assert.equal(sample(m, 'midge_listener_connections', at(ws)), 1)
    assert.equal(sample(m, 'midge_listener_connections_accepted_total', at(ws)), 1)
    assert.equal(sample(m, 'midge_listener_connections_refused_total', at(ws)), 1)
    assert.ok(sample(m, 'midge_listener_bytes_received_total', at(tcp)) > 0)
    assert.ok(sample(m, 'midge_listener_bytes_sent_total', at(ws)) > 0)
    assert.equal(sample(m, 'midge_listener_messages_received_total', at(ws)), 2)
    assert.equal(sample(m, 'midge_listener_messages_sent_total', at(tcp)), 1)
    assert.equal(sample(m, 'midge_listener_messages_received_total', at(tcp)), 0)
    assert.ok(sample(m, 'midge_packets_received_total') > 2)
    assert.ok(sample(m, 'midge_bytes_sent_total') > 0)
    assert.equal(sample(m, 'midge_clients_connected'), 2)
    assert.equal(sample(m, 'midge_messages_received_total'), 2)
    assert.equal(sample(m, 'midge_messages_sent_total'), 1)
    assert.equal(sample(m, 'midge_retained_messages'), 1)
    assert.equal(sample(m, 'midge_subscriptions'), 3)
    assert.equal(sample(m, 'midge_sessions'), 2)
    assert.equal(sample(m, 'midge_queued_messages'), 0)
    assert.equal(sample(m, 'midge_auth_failures_total'), 0)
    for (const reason of ['queue-full', 'slow-reader', 'expired', 'too-large']) {
      assert.equal(sample(m, 'midge_messages_dropped_total', {reason}), 0)
    }
    assert.ok(sample(m, 'midge_uptime_seconds') >= 0)
  })

  test('/healthz: 200 while every listener accepts, 503 once one stops', async () => {
    const ok = await fetch(`${base}/healthz`)
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), {status: 'ok', listeners: [{url: tcp.url, accepting: true}, {url: ws.url, accepting: true}]})
    const wsUrl = ws.url
    void ws.close()
    const down = await fetch(`${base}/healthz`)
    assert.equal(down.status, 503)
    assert.deepEqual(await down.json(), {status: 'unavailable', listeners: [{url: tcp.url, accepting: true}, {url: wsUrl, accepting: false}]})
    const m = parsePrometheus(await (await fetch(`${base}/metrics`)).text())
    assert.equal(sample(m, 'midge_listener_up', {listener: wsUrl}), 0)
  })

  test('other paths are 404, other methods 405; HEAD has no body', async () => {
    assert.equal((await fetch(`${base}/`)).status, 404)
    assert.equal((await fetch(`${base}/metrics`, {method: 'POST'})).status, 405)
    const head = await fetch(`${base}/metrics`, {method: 'HEAD'})
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
  })
})

test('/metrics: persistence latency when the broker has a store', async () => {
  const {MemoryStore} = await import('../../src/broker/store/index.js')
  const store = await MemoryStore.open()
  const broker = createBroker({store})
  await broker.restore()
  const tcp = (await listenerFor(broker, {protocol: 'mqtt', port: 0})).listener
  const ops = await serveOps({broker, listeners: () => [tcp]}, {port: 0})
  const a = await tryConnect(`mqtt://127.0.0.1:${tcp.address().port}`, {clientId: 'p-pub', protocolVersion: 5})
  assert.ok(a.ok)
  // retained: the PUBACK waits for the commit (a message nobody stores would not)
  for (let i = 0; i < 3; i++) await a.client.publishAsync('p/x', `m${i}`, {qos: 1, retain: true})
  const m = parsePrometheus(await (await fetch(`http://127.0.0.1:${ops.address().port}/metrics`)).text())
  assert.ok((sample(m, 'midge_persistence_commits_total') ?? 0) >= 1)
  assert.ok((sample(m, 'midge_persistence_commit_seconds_total') ?? -1) >= 0)
  assert.ok((sample(m, 'midge_persistence_commit_seconds_max') ?? -1) >= 0)
  // without a store the families are absent
  const plain = createBroker()
  const noStore = parsePrometheus((await import('../../src/broker/metrics-http.js')).renderPrometheus(
    (await import('../../src/broker/metrics-http.js')).collectMetrics({broker: plain, listeners: () => []})))
  assert.equal(noStore.has('midge_persistence_commits_total'), false)
  a.client.end(true)
  await broker.close()
  await Promise.all([tcp.close(), ops.close(), store.close()])
})
