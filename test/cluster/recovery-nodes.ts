// In-process cluster nodes wired as `broker start --cluster` wires them (startClusterNode: Redis store,
// session directory, recovery after a Redis outage, the cluster's routes), with their log lines kept
// for the test to wait on; and a TCP proxy in front of Redis that a test cuts to take one node away
// from Redis while the others keep it.
import {EventEmitter, once} from 'node:events'
import net from 'node:net'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import type {Logger} from '../../src/broker/logger.js'
import type {IClientOptions, MqttClient} from 'mqtt'
import {connect} from './session-nodes.js'
import {startClusterNode, type ClusterNode, type StartedClusterNode} from '../../src/cluster/index.js'
import type {ClusterNodeSettings} from '../../src/cluster/start.js'

/** Log lines of one node; `wait(re)` resolves with the first line (from `from` on) that matches. */
export class Lines extends EventEmitter<{line: [string]}> {
  readonly all: string[] = []
  readonly logger: Logger
  constructor() {
    super()
    const add = (level: string) => (_o: unknown, m?: string) => {
      const line = `${level} ${m ?? String(_o)}`
      this.all.push(line)
      this.emit('line', line)
    }
    this.logger = {trace() {}, debug() {}, info: add('info'), warn: add('warn'), error: add('error')} as Logger
  }

  async wait(re: RegExp, from = 0): Promise<string> {
    for (;;) {
      const found = this.all.slice(from).find((l) => re.test(l))
      if (found !== undefined) return found
      await once(this, 'line')
    }
  }
}

export interface RecoveringNode {
  readonly id: string
  readonly broker: Broker
  readonly started: StartedClusterNode
  readonly node: ClusterNode
  readonly url: string
  readonly lines: Lines
  close(): Promise<void>
}

/** A node as `broker start --cluster URL --node-id ID` makes it (short heartbeat; `ttlMs` and other settings as given). */
export async function startRecoveringNode(redisUrl: string, id: string, ttlMs?: number,
  settings: Partial<Pick<ClusterNodeSettings, 'commandTimeoutMs' | 'rewriteChunk'>> = {}): Promise<RecoveringNode> {
  const lines = new Lines()
  const started = await startClusterNode({url: redisUrl, nodeId: id, logger: lines.logger, heartbeatMs: 200, ...(ttlMs === undefined ? {} : {ttlMs}), ...settings})
  const broker = createBroker({store: started.store, sessions: started.sessions, logger: lines.logger})
  await broker.restore()
  const address = await broker.listen({port: 0})
  const node = await started.join(broker)
  let closed: Promise<void> | undefined
  return {
    id, broker, started, node, lines, url: `mqtt://127.0.0.1:${address.port}`,
    close: () => (closed ??= (async () => {
      await node.close()
      await broker.close().catch(() => undefined) // its last flush fails when Redis is away
      await started.close()
      await started.store.close()
    })()),
  }
}

/** A TCP proxy to Redis: `cut()` drops every connection and refuses new ones until `mend()`. */
export interface RedisProxy {
  readonly url: string
  cut(): void
  mend(): void
  close(): Promise<void>
}

export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const sockets = new Set<net.Socket>()
  let open = true
  const server = net.createServer((client) => {
    if (!open) return void client.destroy()
    const upstream = net.connect(redisPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy() })
    }
    client.pipe(upstream).pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as net.AddressInfo
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false
      for (const s of sockets) s.destroy()
    },
    mend() { open = true },
    async close() {
      open = false
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** What one recovery test starts: its nodes and its clients (their errors expected), stopped by close(). */
export interface RecoveryKit {
  readonly nodes: RecoveringNode[]
  /** A client whose connection errors are expected (Redis goes away, sessions are taken over). */
  client(url: string, options: IClientOptions): Promise<Awaited<ReturnType<typeof connect>>>
  /** Ends the clients, closes the nodes, then the servers given (a proxy before the Redis behind it). */
  close(...servers: Array<{close(): Promise<void>} | {stop(): Promise<void>} | undefined>): Promise<void>
}

export function recoveryKit(): RecoveryKit {
  const nodes: RecoveringNode[] = []
  const clients: MqttClient[] = []
  return {
    nodes,
    async client(url, options) {
      const c = await connect(url, options)
      c.client.on('error', () => undefined)
      clients.push(c.client)
      return c
    },
    async close(...servers) {
      for (const c of clients) c.end(true)
      for (const n of nodes) await n.close()
      for (const s of servers) {
        if (s === undefined) continue
        await ('close' in s ? s.close() : s.stop())
      }
    },
  }
}
