import {randomUUID} from 'node:crypto'
import type {Redis} from 'ioredis'
import type {BrokerEngine} from '../broker/internal.js'
import {isExpired, type Message} from '../broker/message.js'
import {RETAINED, RETAINED_CHANNEL, RETAINED_CLEARED, RETAINED_GENERATION, RETAINED_RESTORING, RETAINED_SEQ} from './keys.js'
import {decodeNodeMessage, encodeNodeMessage} from './wire.js'

/**
 * How long after Redis came back without the retained messages (restarted without persistence) the
 * nodes write back their copies: long enough for every node that was connected to reconnect and
 * resynchronise; a node back later takes Redis's set as it is then.
 */
export const RESTORE_WINDOW_MS = 60_000
/** Retained messages per write-back script call (one call blocks Redis while it runs). */
const CHUNK = 500

// KEYS: generation, restoring. ARGV: a new generation, the window (ms). The generation names the life
// of the retained hash: when it is missing, Redis lost it (or this is the first node ever) and a new one
// starts, with its write-back window. Returns {generation, 1 if the window is open}.
const GENERATION = `
local g = redis.call('GET', KEYS[1])
if not g then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
  return {ARGV[1], 1}
end
return {g, redis.call('EXISTS', KEYS[2])}`

// KEYS: retained, cleared, seq. ARGV: channel, then pairs (topic, message). A node's copy written back:
// a topic is written only if nobody wrote it since (a newer message) nor cleared it (a tombstone), and
// the other nodes are told.
const WRITE_BACK = `
local n = 0
for i = 2, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 and redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('PUBLISH', ARGV[1], redis.call('INCR', KEYS[3]) .. '|' .. ARGV[i + 1])
    n = n + 1
  end
end
return n`

// KEYS: retained, cleared, restoring, seq. ARGV: topic, message, channel, '1' to clear. A retained
// message set (the tombstone of an earlier clear dropped) or cleared: while write-backs may still
// come, the clear leaves a tombstone so that no node's older copy brings the topic back. Returns the
// change's number.
const CHANGE = `
if ARGV[4] == '1' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  local ttl = redis.call('PTTL', KEYS[3])
  if ttl > 0 then
    redis.call('HSET', KEYS[2], ARGV[1], '1')
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
local seq = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[3], seq .. '|' .. ARGV[2])
return seq`

// KEYS: retained, seq. Every retained message, and the number of the last change they include.
const SNAPSHOT = `return {redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1])}`

/**
 * The cluster's retained messages in Redis (`midge:retained`, changes on the channel `midge:retained`
 * as `N|message`, N numbering the changes), beside the copy every node keeps in memory (the engine's
 * RetainedMessages), across Redis outages:
 *
 * - a change made here (set or clear) is kept here until Redis confirmed it, so one made while Redis
 *   is away, or lost with it, is written when Redis is back: it is newer than anything Redis has;
 * - when Redis came back without the retained hash (no persistence), which the generation key's
 *   absence tells, each node that knew the previous generation writes back its own copy within
 *   RESTORE_WINDOW_MS, topic by topic and only where nobody set or cleared the topic since (clears
 *   leave a tombstone during the window): the copies are the same on every node but for the changes
 *   of the outage, which their own nodes write; a message cleared during the outage is not resurrected;
 * - then the node takes Redis's set as its own (what was cleared elsewhere meanwhile goes here too).
 *
 * The change numbers order what a node hears on the channel against the set it read (another
 * connection, so either may arrive first) and against its own changes: a topic takes a change only
 * if it is newer than the last one it took.
 */
export class ClusterRetained {
  /** Changes made here that Redis has not confirmed, by topic (an empty payload clears). */
  private readonly unconfirmed = new Map<string, Message>()
  /** The generation of the retained hash this node last synchronised with. */
  private generation: string | undefined
  /** The number of the last change in the set read at the last sync: nothing older is taken. */
  private floor = 0
  /** The number of the last change taken, by topic, since that sync. */
  private readonly taken = new Map<string, number>()
  /** Changes heard while sync() reads Redis's set. */
  private heard: Map<string, {seq: number; message: Message}> | undefined

  constructor(private readonly broker: BrokerEngine, private readonly pub: Redis, private readonly nodeId: string) {
    const scripts = [['midgeRetainedGeneration', GENERATION, 2], ['midgeRetainedWriteBack', WRITE_BACK, 3],
      ['midgeRetainedChange', CHANGE, 4], ['midgeRetainedSnapshot', SNAPSHOT, 2]] as const
    for (const [name, lua, keys] of scripts) {
      if (typeof (pub as unknown as Record<string, unknown>)[name] !== 'function') pub.defineCommand(name, {numberOfKeys: keys, lua})
    }
  }

  private get scripts(): Scripts {
    return this.pub as unknown as Scripts
  }

  /** Changes made here and not yet confirmed by Redis (one per topic at most). */
  get unsynced(): number {
    return this.unconfirmed.size
  }

  /** A retained message (or clear) published here, `bytes` its node encoding, while Redis answers. */
  changed(message: Message, bytes: Buffer): void {
    this.unconfirmed.set(message.topic, message)
    this.write(message, bytes).catch(() => undefined)
  }

  /**
   * A retained message (or clear) published here while Redis is away: kept for the next sync. A clear
   * that found no message here (`stored` false) is kept only if it undoes a change of this outage:
   * the node's copy is all it knows of the cluster's set, and so what is kept stays bounded by the
   * retained messages it holds, however many topics clients clear.
   */
  changedWhileAway(message: Message, stored: boolean): void {
    if (stored || this.unconfirmed.has(message.topic)) this.unconfirmed.set(message.topic, message)
  }

  private async write(message: Message, bytes: Buffer): Promise<void> {
    const seq = await this.scripts.midgeRetainedChange(RETAINED, RETAINED_CLEARED, RETAINED_RESTORING, RETAINED_SEQ, message.topic, bytes,
      RETAINED_CHANNEL, message.payload.length === 0 ? '1' : '0')
    if (this.unconfirmed.get(message.topic) !== message) return // changed here again meanwhile: that change follows
    this.unconfirmed.delete(message.topic)
    // another node's later change may already be here; else this one is the latest (and this node's copy)
    if (seq > (this.taken.get(message.topic) ?? this.floor)) {
      this.taken.set(message.topic, seq)
      this.broker.retained.set(message)
    }
  }

  /** After (re)connecting, once subscribed to the changes: writes back, writes this node's changes, loads Redis's set. Returns how many were written back. */
  async sync(): Promise<number> {
    const now = this.broker.now()
    const [generation, open] = await this.scripts.midgeRetainedGeneration(RETAINED_GENERATION, RETAINED_RESTORING, randomUUID(), String(RESTORE_WINDOW_MS))
    let restored = 0
    if (this.generation !== undefined && generation !== this.generation && open === 1) restored = await this.writeBack(now)
    // Redis's numbers may have started again (restarted empty): this sync's set is the new floor
    this.floor = 0
    this.taken.clear()
    const heard = this.heard = new Map()
    let snapshot: [Buffer, Buffer[]]
    try {
      await Promise.all([...this.unconfirmed.values()].map((message) => this.write(message, encodeNodeMessage(this.nodeId, message, [], now))))
      snapshot = await this.scripts.midgeRetainedSnapshotBuffer(RETAINED, RETAINED_SEQ)
    } finally {
      this.heard = undefined
    }
    const floor = Number(snapshot[0].toString())
    const topics = new Set<string>()
    const stored = snapshot[1]
    for (let i = 1; i < stored.length; i += 2) {
      const m = this.decode(stored[i]!)
      if (m === undefined || isExpired(m.message, now)) continue
      topics.add(m.message.topic)
      if (!this.unconfirmed.has(m.message.topic)) this.broker.retained.set(m.message)
    }
    // Redis's set is the cluster's: what is not there was cleared elsewhere (or lost for good)
    for (const m of [...this.broker.retained.entries()]) {
      if (!topics.has(m.topic) && !isNodeLocal(m.topic) && !this.unconfirmed.has(m.topic)) this.broker.retained.set({...m, payload: Buffer.alloc(0)})
    }
    this.floor = floor
    this.taken.clear()
    for (const [topic, h] of heard) this.take(topic, h.seq, h.message)
    this.generation = generation
    // changed here while this ran (the node is not up yet): written now, after the set read
    for (const message of this.unconfirmed.values()) this.write(message, encodeNodeMessage(this.nodeId, message, [], now)).catch(() => undefined)
    return restored
  }

  /** Another node's change, heard on the channel (`N|message`): applied here if newer; returns its topic, or undefined. */
  received(bytes: Buffer): string | undefined {
    const bar = bytes.indexOf(0x7c) // '|'
    if (bar <= 0 || bar > 20) return undefined
    const seq = Number(bytes.subarray(0, bar).toString())
    const m = this.decode(bytes.subarray(bar + 1))
    if (m === undefined || m.sender === this.nodeId) return undefined
    if (this.heard !== undefined) {
      const h = this.heard.get(m.message.topic)
      if (h === undefined || h.seq < seq) this.heard.set(m.message.topic, {seq, message: m.message})
      return undefined
    }
    return this.take(m.message.topic, seq, m.message) ? m.message.topic : undefined
  }

  private take(topic: string, seq: number, message: Message): boolean {
    if (seq <= (this.taken.get(topic) ?? this.floor)) return false
    this.taken.set(topic, seq)
    // this node's own change, not yet confirmed, follows it
    if (!this.unconfirmed.has(topic)) this.broker.retained.set(message)
    return true
  }

  /** This node's copy, where nobody wrote or cleared the topic since Redis came back. */
  private async writeBack(now: number): Promise<number> {
    const copy = [...this.broker.retained.entries()].filter((m) => !isNodeLocal(m.topic) && !isExpired(m, now) && !this.unconfirmed.has(m.topic))
    let n = 0
    for (let i = 0; i < copy.length; i += CHUNK) {
      const args = copy.slice(i, i + CHUNK).flatMap((m) => [m.topic, encodeNodeMessage(this.nodeId, m, [], now)])
      n += await this.scripts.midgeRetainedWriteBack(RETAINED, RETAINED_CLEARED, RETAINED_SEQ, RETAINED_CHANNEL, ...args)
    }
    return n
  }

  private decode(bytes: Buffer): ReturnType<typeof decodeNodeMessage> | undefined {
    try {
      return decodeNodeMessage(bytes, this.broker.now())
    } catch {
      return undefined
    }
  }
}

interface Scripts {
  midgeRetainedGeneration(gen: string, restoring: string, fresh: string, windowMs: string): Promise<[string, number]>
  midgeRetainedWriteBack(retained: string, cleared: string, seq: string, channel: string, ...topicsAndMessages: Array<string | Buffer>): Promise<number>
  midgeRetainedChange(retained: string, cleared: string, restoring: string, seq: string, topic: string, message: Buffer, channel: string, clear: string): Promise<number>
  midgeRetainedSnapshotBuffer(retained: string, seq: string): Promise<[Buffer, Buffer[]]>
}

/** `$SYS` stays on its node (node.ts): never written to Redis. */
function isNodeLocal(topic: string): boolean {
  return topic.startsWith('$SYS/') || topic === '$SYS'
}
