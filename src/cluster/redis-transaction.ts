import type {ChainableCommander, Redis} from 'ioredis'
import {StoreError} from '../broker/store/errors.js'
import {OpKind, type WriteOp} from '../broker/store/write-ops.js'
import {encodeMessage, encodeOptions, encodeOutbound, encodeSession} from './redis-rows.js'
import type {RedisKeys} from './redis-keys.js'

/*
 * A batch of the Redis store's row operations as MULTI/EXEC transactions (redis-store.ts commits them).
 */

/** Sessions per MULTI/EXEC when a node writes everything it holds again (after an outage): see splitAtSessions. */
export const REWRITE_CHUNK = 500

// Removes outbound rows (ARGV[2..]), their inline messages, their ids from their clients' sets, and
// their references to shared messages (deleting a message with its last reference, whichever node held
// the others).
const DELETE_OUTBOUND = `
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local meta = redis.call('HGET', KEYS[1], id)
  if meta then
    local row = cjson.decode(meta)
    redis.call('HDEL', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('SREM', ARGV[1] .. row.c, id)
    if row.i == 0 and redis.call('HINCRBY', KEYS[3], row.m, -1) <= 0 then
      redis.call('HDEL', KEYS[3], row.m)
      redis.call('HDEL', KEYS[4], row.m)
    end
    n = n + 1
  end
end
return n`

// Deletes a shared message that no outbound row references any more.
const DELETE_MESSAGE = `
local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if n <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return n`

export type Scripted = Redis & {
  midgeDeleteOutbound(out: string, outm: string, refs: string, msg: string, oiPrefix: string, ...ids: string[]): Promise<number>
  midgeDeleteMessage(refs: string, msg: string, id: string): Promise<number>
}
type ScriptedMulti = ChainableCommander & {
  midgeDeleteOutbound(out: string, outm: string, refs: string, msg: string, oiPrefix: string, ...ids: string[]): ChainableCommander
  midgeDeleteMessage(refs: string, msg: string, id: string): ChainableCommander
}

export function defineScripts(redis: Redis): Scripted {
  const r = redis as Scripted
  if (typeof r.midgeDeleteOutbound !== 'function') {
    redis.defineCommand('midgeDeleteOutbound', {numberOfKeys: 4, lua: DELETE_OUTBOUND})
    redis.defineCommand('midgeDeleteMessage', {numberOfKeys: 2, lua: DELETE_MESSAGE})
  }
  return r
}


/**
 * One MULTI/EXEC for `ops` (not yet sent). Outbound rows are written with one command per key for the
 * whole batch, and removed by one script call after them: a row is written at most once per batch,
 * and a shared message gains its new references before it loses old ones.
 */
export function transaction(redis: Scripted, k: RedisKeys, ops: readonly WriteOp[], storesRetained: boolean): ScriptedMulti {
const m = redis.multi() as ScriptedMulti
  const rows: string[] = []
  const inline: string[] = []
  const idsOf = new Map<string, string[]>()
  const deleted: string[] = []
  const messagesDeleted: string[] = []
  for (const op of ops) {
    switch (op.k) {
      case OpKind.PutSession:
        if (!op.cancelled) m.hset(k.sessions, op.session.clientId, encodeSession(op.session))
        break
      case OpKind.DeleteSession:
        m.hdel(k.sessions, op.clientId).del(k.subscriptions(op.clientId), k.inbound(op.clientId))
        break
      case OpKind.PutSubscription:
        m.hset(k.subscriptions(op.clientId), op.filter, encodeOptions(op.options))
        break
      case OpKind.DeleteSubscription:
        m.hdel(k.subscriptions(op.clientId), op.filter)
        break
      case OpKind.PutMessage:
        if (!op.cancelled) m.hset(k.messages, String(op.id), encodeMessage(op.message))
        break
      case OpKind.DeleteMessage:
        messagesDeleted.push(String(op.id))
        break
      case OpKind.PutOutbound: {
        if (op.cancelled) break
        const row = op.row
        const id = String(row.id)
        rows.push(id, encodeOutbound(row))
        let ids = idsOf.get(row.clientId)
        if (ids === undefined) idsOf.set(row.clientId, (ids = []))
        ids.push(id)
        if (row.inline !== undefined) inline.push(id, encodeMessage(row.inline))
        else m.hincrby(k.messageRefs, String(row.messageId), 1)
        break
      }
      case OpKind.UpdateOutbound:
        if (!op.cancelled) rows.push(String(op.row.id), encodeOutbound(op.row))
        break
      case OpKind.DeleteOutbound:
        deleted.push(String(op.id))
        break
      case OpKind.PutInbound:
        m.sadd(k.inbound(op.clientId), String(op.packetId))
        break
      case OpKind.DeleteInbound:
        m.srem(k.inbound(op.clientId), String(op.packetId))
        break
      case OpKind.PutRetained:
        if (!op.cancelled && storesRetained) m.hset(k.retained, op.message.topic, encodeMessage(op.message))
        break
      case OpKind.DeleteRetained:
        if (!op.cancelled && storesRetained) m.hdel(k.retained, op.topic)
        break
    }
  }
  if (rows.length > 0) m.hset(k.out, ...rows)
  if (inline.length > 0) m.hset(k.outMessages, ...inline)
  for (const [clientId, ids] of idsOf) m.sadd(k.outIds(clientId), ...ids)
  if (deleted.length > 0) m.midgeDeleteOutbound(k.out, k.outMessages, k.messageRefs, k.messages, `${k.prefix}:oi:`, ...deleted)
  for (const id of messagesDeleted) m.midgeDeleteMessage(k.messageRefs, k.messages, id)
  return m
}

/** Sends one transaction and waits for its answer: 'unavailable' when Redis did not answer, 'failed' when it refused a write. */
export async function execute(m: ChainableCommander): Promise<void> {
  let results: Awaited<ReturnType<typeof m.exec>>
  try {
    results = await m.exec()
  } catch (error) {
    // not sent, or no answer: Redis is away (as opposed to a write it refused, below)
    throw new StoreError('unavailable', `Redis is unavailable: ${(error as Error)?.message ?? String(error)}`, {cause: error})
  }
  if (results === null) throw new StoreError('failed', 'the Redis transaction was aborted')
  for (const [error] of results) if (error) throw new StoreError('failed', `Redis refused a write: ${error.message}`, {cause: error})
}

/**
 * Splits a rewrite's operations (Persistence.rewrite: each session's record, then its rows) before
 * every `perPart`-th session record, so that each part holds whole sessions. A message row shared by
 * sessions of several parts is written in the first and referenced by the others: sent in order on
 * one connection, the parts are applied in order.
 */
export function splitAtSessions(ops: readonly WriteOp[], perPart: number): WriteOp[][] {
  const parts: WriteOp[][] = []
  let part: WriteOp[] = []
  let sessions = 0
  for (const op of ops) {
    if (op.k === OpKind.PutSession) {
      if (sessions > 0 && sessions % perPart === 0) {
        parts.push(part)
        part = []
      }
      sessions++
    }
    part.push(op)
  }
  if (part.length > 0) parts.push(part)
  return parts
}
