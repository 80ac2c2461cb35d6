// Who the run's clients are (ids, topics, filters and -L shares from the templates), how many
// subscribers each publisher's messages should reach, and which shard drives each client.
import {topicMatches} from '../client/index.js'
import type {BenchConfig} from './config.js'
import type {ClientPlan, Role} from './shard-protocol.js'

/** Expands %i, %r and %c in a template. */
export function expand(template: string, index: number, role: string, clientId = ''): string {
  return template.replace(/%([irc%])/g, (_, c: string) => c === 'i' ? String(index) : c === 'r' ? role : c === 'c' ? clientId : '%')
}

/** Every client of the run, in connection order within each role. */
export function planClients(c: BenchConfig): ClientPlan[] {
  const out: ClientPlan[] = []
  const role = (r: Role) => r === 'idle' ? 'conn' : r
  const count = (r: Role) => r === 'idle' ? c.connections : r === 'pub' ? c.publishers : c.subscribers
  const roles: Role[] = c.mode === 'conn' ? ['idle'] : c.mode === 'pub' ? ['pub'] : c.mode === 'sub' ? ['sub'] : ['sub', 'pub']
  for (const r of roles) {
    const n = count(r)
    for (let i = 0; i < n; i++) {
      const index = i + c.startNumber
      const clientId = expand(c.clientId, index, role(r))
      const plan: ClientPlan = {role: r, index: i, clientId}
      if (r === 'pub') {
        plan.topic = expand(c.topic, index, 'pub', clientId)
        plan.stream = index
        plan.limit = c.limit > 0 ? Math.floor(c.limit / n) + (i < c.limit % n ? 1 : 0) : 0
      } else if (r === 'sub') {
        plan.filters = c.subscribeTopics.map((t) => expand(t, index, 'sub', clientId))
      }
      out.push(plan)
    }
  }
  return out
}

/** For each publisher (by index): how many of the subscribed subscribers match its topic. */
export function fanout(clients: ClientPlan[], subscribed: Set<number>): Map<number, number> {
  const subs = clients.filter((c) => c.role === 'sub' && subscribed.has(c.index))
  const out = new Map<number, number>()
  for (const p of clients) {
    if (p.role !== 'pub') continue
    let n = 0
    for (const s of subs) if (s.filters!.some((f) => topicMatches(f, p.topic!))) n++
    out.set(p.index, n)
  }
  return out
}

/**
 * Spreads the clients over the shards, round robin within each role. With two shards or more, an
 * end-to-end run keeps subscribers and publishers on different threads (half the shards each), so
 * that receiving, and the latency it measures, never waits behind a publisher's turn.
 */
export function assignShards(clients: ClientPlan[], shards: number): ClientPlan[][] {
  const out: ClientPlan[][] = Array.from({length: shards}, () => [])
  const subs = clients.filter((c) => c.role === 'sub')
  const pubs = clients.filter((c) => c.role === 'pub')
  if (shards >= 2 && subs.length > 0 && pubs.length > 0) {
    const subShards = Math.min(subs.length, Math.ceil(shards / 2))
    const pubShards = shards - subShards
    subs.forEach((c, i) => { out[i % subShards].push(c) })
    pubs.forEach((c, i) => { out[subShards + (i % pubShards)].push(c) })
    return out
  }
  const counters: Record<Role, number> = {pub: 0, sub: 0, idle: 0}
  for (const c of clients) out[counters[c.role]++ % shards].push(c)
  return out
}
