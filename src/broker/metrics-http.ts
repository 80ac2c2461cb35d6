import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {engineOf, type Broker} from './broker.js'
import type {BrokerEngine} from './engine.js'
import {bridgeFamilies} from './bridge/metrics.js'
import type {ClusterStatus} from './cluster-link.js'
import type {Listener} from './listeners/listener.js'
import {counter, gauge, type MetricFamily} from './metric-family.js'
import type {DropReason} from './session.js'

export type {MetricFamily} from './metric-family.js'


/** The events `broker start` logs through its throttle (src/cli/broker/log.ts). */
const LOGGED_EVENTS = ['messageDropped', 'clientConnected', 'clientDisconnected', 'connectionRefused', 'listenerError', 'denied']
const DROP_REASONS: DropReason[] = ['queue-full', 'slow-reader', 'expired', 'offline-qos0', 'too-large', 'no-packet-id', 'delivery-failed', 'not-authorized']

export interface OpsSource {
  broker: Broker
  /** The listeners whose state /healthz reports and whose counters /metrics shows (default: the broker's own). */
  listeners?(): readonly Listener[]
  /** More families (persistence latency from a store, process metrics, ...). */
  extra?(): MetricFamily[]
}

/** Persistence latency: how long QoS 1/2 acknowledgements waited for their commit (with --persistence). */
function persistenceFamilies(broker: BrokerEngine): MetricFamily[] {
  const commits = broker.persistence?.acks.commits
  if (commits === undefined) return []
  return [
    {name: 'midge_persistence_commits_total', help: 'Store commits that acknowledgements waited for.', type: 'counter', samples: [{value: commits.count}]},
    {name: 'midge_persistence_commit_seconds_total', help: 'Seconds acknowledgements waited for store commits, summed (divide by commits for the mean).', type: 'counter', samples: [{value: commits.seconds}]},
    {name: 'midge_persistence_commit_seconds_max', help: 'The longest wait for a store commit, in seconds.', type: 'gauge', samples: [{value: commits.maxSeconds}]},
  ]
}

/** Every family /metrics serves, read from the broker's counters and state at the time of the scrape. */
export function collectMetrics(source: OpsSource): MetricFamily[] {
  const broker = engineOf(source.broker)
  const m = broker.metrics
  const listeners = source.listeners?.() ?? broker.listeners
  const perListener = (name: string, help: string, type: MetricFamily['type'], read: (l: Listener) => number): MetricFamily =>
    ({name, help, type, samples: listeners.map((l) => ({labels: {listener: l.url}, value: read(l)}))})
  let queued = 0
  let queuedBytes = 0
  let inflight = 0
  let deepest = 0
  for (const s of broker.sessions.values()) {
    queued += s.queued
    queuedBytes += s.queuedBytes
    inflight += s.inflight.size
    if (s.queued > deepest) deepest = s.queued
  }
  return [
    gauge('midge_uptime_seconds', 'Seconds since the broker started.', (Date.now() - m.startedAt) / 1000),
    perListener('midge_listener_up', 'Whether the listener accepts connections (1) or not (0).', 'gauge', (l) => l.accepting ? 1 : 0),
    perListener('midge_listener_connections', 'Connections open on the listener.', 'gauge', (l) => l.stats.connections),
    perListener('midge_listener_connections_accepted_total', 'Connections the listener accepted.', 'counter', (l) => l.stats.accepted),
    perListener('midge_listener_connections_refused_total', 'Connections refused because the listener was at max_connections.', 'counter', (l) => l.stats.refused),
    perListener('midge_listener_tls_handshake_failures_total', 'TLS handshakes that failed (no, unknown or expired client certificate, bad protocol).', 'counter', (l) => l.stats.handshakeFailures),
    perListener('midge_listener_messages_received_total', 'PUBLISH packets received over the listener.', 'counter', (l) => l.stats.messagesReceived),
    perListener('midge_listener_messages_sent_total', 'PUBLISH packets sent over the listener.', 'counter', (l) => l.stats.messagesSent),
    perListener('midge_listener_bytes_received_total', 'Bytes read from the wire by the listener (TLS and WebSocket framing included).', 'counter', (l) => l.bytesReceived),
    perListener('midge_listener_bytes_sent_total', 'Bytes written to the wire by the listener (TLS and WebSocket framing included).', 'counter', (l) => l.bytesSent),
    gauge('midge_clients_connected', 'Clients connected now.', broker.connectionCount),
    gauge('midge_clients_maximum', 'The most clients connected at once.', m.clientsMaximum),
    counter('midge_clients_total', 'CONNECTs accepted.', m.clientsTotal),
    counter('midge_clients_expired_total', 'Sessions that expired while their client was away.', m.clientsExpired),
    gauge('midge_sessions', 'Sessions held, connected or not.', broker.sessions.size),
    counter('midge_messages_received_total', 'PUBLISH packets received.', m.messagesReceived),
    counter('midge_messages_sent_total', 'PUBLISH packets sent.', m.messagesSent),
    counter('midge_packets_received_total', 'MQTT packets of every type received.', m.packetsReceived),
    counter('midge_packets_sent_total', 'MQTT packets of every type sent.', m.packetsSent),
    counter('midge_bytes_received_total', 'MQTT bytes received.', m.bytesReceived),
    counter('midge_bytes_sent_total', 'MQTT bytes sent.', m.bytesSent),
    {
      name: 'midge_messages_dropped_total', help: 'Messages not delivered to a subscriber, by reason.', type: 'counter',
      samples: [...new Set([...DROP_REASONS, ...Object.keys(m.dropped)])].map((reason) => ({labels: {reason}, value: m.dropped[reason] ?? 0})),
    },
    gauge('midge_queued_messages', 'Messages waiting in session queues.', queued),
    gauge('midge_queued_bytes', 'Bytes waiting in session queues.', queuedBytes),
    gauge('midge_session_queue_max', 'The longest session queue, in messages.', deepest),
    gauge('midge_inflight_messages', 'Outbound QoS 1 and 2 messages awaiting acknowledgement.', inflight),
    gauge('midge_retained_messages', 'Retained messages held.', broker.retained.size),
    gauge('midge_subscriptions', 'Subscriptions, shared ones included.', broker.router.size),
    counter('midge_auth_failures_total', 'CONNECTs refused by authentication.', m.authFailures),
    counter('midge_internal_errors_total', 'Exceptions in the broker\'s own code, each contained to one connection or delivery.', m.internalErrors),
    {
      name: 'midge_log_lines_suppressed_total', help: 'Events a client caused that the log counted in an aggregated line instead of a line each, by event.', type: 'counter',
      samples: [...new Set([...LOGGED_EVENTS, ...Object.keys(m.logSuppressed)])].map((event) => ({labels: {event}, value: m.logSuppressed[event] ?? 0})),
    },
    ...persistenceFamilies(broker),
    ...bridgeFamilies(broker.bridges.all),
    ...(broker.router.link?.metrics() ?? []),
    ...(source.extra?.() ?? []),
  ]
}

/** The Prometheus text exposition format (version 0.0.4). */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  let out = ''
  for (const f of families) {
    out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.type}\n`
    for (const s of f.samples) out += `${f.name}${labels(s.labels)} ${formatValue(s.value)}\n`
  }
  return out
}

function labels(l: Record<string, string> | undefined): string {
  if (l === undefined) return ''
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

/**
 * /healthz: healthy when there is at least one listener and every listener accepts connections. A
 * node of a cluster whose Redis is away is still healthy (it serves its clients: a load balancer
 * should keep it) but degraded, which the status field says.
 */
export function health(source: OpsSource): {healthy: boolean; degraded: boolean; listeners: Array<{url: string; accepting: boolean}>; cluster?: ClusterStatus} {
  const engine = engineOf(source.broker)
  const listeners = (source.listeners?.() ?? engine.listeners).map((l) => ({url: l.url, accepting: l.accepting}))
  const cluster = engine.router.link?.status()
  return {healthy: listeners.length > 0 && listeners.every((l) => l.accepting), degraded: cluster?.connected === false, listeners, ...(cluster && {cluster})}
}

export interface OpsServer {
  readonly server: Server
  address(): AddressInfo
  close(): Promise<void>
}

/**
 * An HTTP server for operations: `GET /healthz` (200 when every listener accepts connections, 503
 * otherwise; a JSON body lists them) and `GET /metrics` (Prometheus text format).
 */
export async function serveOps(source: OpsSource, options: {host?: string; port: number}): Promise<OpsServer> {
  const server = createServer((req, res) => {
    try {
      answer(source, req, res)
    } catch (error) {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(error as Error).message}\n`)
      else res.destroy()
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    server,
    address: () => server.address() as AddressInfo,
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}

function answer(source: OpsSource, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname
  if (path !== '/healthz' && path !== '/metrics') return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz or /metrics\n')
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD')
    return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n')
  }
  if (path === '/healthz') {
    const h = health(source)
    const status = !h.healthy ? 'unavailable' : h.degraded ? 'degraded' : 'ok'
    return send(res, h.healthy ? 200 : 503, 'application/json', JSON.stringify({status, listeners: h.listeners, ...(h.cluster && {cluster: h.cluster})}) + '\n', req.method === 'HEAD')
  }
  send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', renderPrometheus(collectMetrics(source)), req.method === 'HEAD')
}

function send(res: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store'})
  res.end(headOnly ? undefined : body)
}
