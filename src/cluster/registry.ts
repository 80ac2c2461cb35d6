import {EventEmitter} from 'node:events'
import type {Redis} from 'ioredis'
import {randomBytes} from 'node:crypto'
import {CLUSTER_SECRET, CONTROL_CHANNEL, NODES, nodeKey, routesKey} from './keys.js'
import type {LinkAddress} from './links.js'

export interface RegistryEvents {
  'node-up': [node: string]
  'node-down': [node: string]
}

/**
 * Which other nodes are alive. Each node keeps a key with a TTL (`midge:node:{id}`) and its id in
 * `midge:nodes`; a node whose key expired is gone: the first node to notice removes it from the set,
 * deletes its routes and tells the others on the control channel. Emits `node-up` and `node-down`.
 */
export class NodeRegistry extends EventEmitter<RegistryEvents> {
  /** The other nodes alive, as last seen. */
  readonly live = new Set<string>()
  /** Until then (ms since the epoch) a node without heartbeat counts as alive (see holdBurials). */
  private graceUntil = 0

  constructor(private readonly redis: Redis, readonly id: string, private readonly ttlMs: number) {
    super()
  }

  /**
   * Refreshes this node's heartbeat and membership. Returns true when the node was not a member: the
   * others took it for dead (it was paused longer than the TTL) and deleted its routes.
   */
  async announce(info: string): Promise<boolean> {
    const r = await this.redis.multi().set(nodeKey(this.id), info, 'PX', this.ttlMs).sadd(NODES, this.id).exec()
    return r?.[1]?.[1] === 1
  }

  /** For one TTL from now, nodes whose heartbeat expired are not buried (after a Redis outage: they reconnect too). */
  holdBurials(): void {
    this.graceUntil = Date.now() + this.ttlMs
  }

  /** The other nodes whose heartbeat is alive; removes (and announces) the ones whose heartbeat expired. */
  async scan(): Promise<string[]> {
    const others = (await this.redis.smembers(NODES)).filter((n) => n !== this.id)
    if (others.length === 0) return []
    const exists = await this.redis.pipeline(others.map((n) => ['exists', nodeKey(n)])).exec()
    const alive: string[] = []
    for (let i = 0; i < others.length; i++) {
      if (exists?.[i]?.[1] === 1 || Date.now() < this.graceUntil) alive.push(others[i]!)
      else await this.bury(others[i]!)
    }
    return alive
  }

  /** Makes `live` the given set, emitting node-up and node-down for the differences. */
  reset(alive: readonly string[]): void {
    const now = new Set(alive)
    for (const n of [...this.live]) if (!now.has(n)) this.down(n)
    for (const n of now) this.up(n)
  }

  up(node: string): void {
    if (node === this.id || this.live.has(node)) return
    this.live.add(node)
    this.emit('node-up', node)
  }

  down(node: string): void {
    if (!this.live.delete(node)) return
    this.emit('node-down', node)
  }

  /** A node whose heartbeat expired: the first node to remove it from the set cleans up after it. */
  private async bury(node: string): Promise<void> {
    if (await this.redis.srem(NODES, node) === 1) {
      await this.redis.multi().del(routesKey(node)).publish(CONTROL_CHANNEL, JSON.stringify({t: 'down', n: node})).exec()
    }
    this.down(node)
  }

  /** The link address `node` advertises in its heartbeat (undefined: none, or it is gone). */
  async linkAddress(node: string): Promise<LinkAddress | undefined> {
    const info = await this.redis.get(nodeKey(node))
    if (info === null) return undefined
    try {
      const link = (JSON.parse(info) as {link?: LinkAddress}).link
      return typeof link?.host === 'string' && typeof link.port === 'number' ? {host: link.host, port: link.port} : undefined
    } catch {
      return undefined
    }
  }

  /** The secret with which nodes prove membership to each other's links: made by the first node that asks (SET NX), read by the others. */
  async clusterSecret(): Promise<string> {
    const r = await this.redis.multi().set(CLUSTER_SECRET, randomBytes(32).toString('hex'), 'NX').get(CLUSTER_SECRET).exec()
    const secret = r?.[1]?.[1]
    if (typeof secret !== 'string') throw new Error('Redis returned no cluster secret')
    return secret
  }

  /** Leaves the cluster cleanly (on shutdown). */
  async leave(): Promise<void> {
    await this.redis.multi().srem(NODES, this.id).del(nodeKey(this.id), routesKey(this.id))
      .publish(CONTROL_CHANNEL, JSON.stringify({t: 'down', n: this.id})).exec()
  }
}
