import type {Redis} from 'ioredis'

/*
 * The atomic steps of session ownership, as Lua scripts run by Redis. Keys under a prefix p:
 *   p:owner:<clientId>  "<nodeId>|<seq>": the node that holds the session, and the claim that made it so
 *   p:owned:<nodeId>    set of the client ids a node holds (what another node adopts when it dies)
 *   p:wills:<nodeId>    hash client id -> will of the client's live connection there
 *   p:claimseq          counter numbering the claims: a later claim waits only for earlier ones
 */

// The ownership steps of one event-loop turn on one node, in the order they were asked for (one
// script call for all: session-batch.ts). KEYS: the owner key of each step's client. ARGV: nodeId,
// prefix, then per step its kind, client id and will ('' for none):
//   'c' claim: the node becomes the owner, with the next claim number; its will is recorded (or any
//       deleted). Returns {previous owner or '', the previous node's recorded will or '', new owner
//       value, 1 if the store holds a session for the client (its row in p:sessions) else 0}.
//   'e' ended: drops the ownership if this node still has it, and its recorded will. Returns 1 if dropped.
//   'w' will gone: deletes the will this node recorded for the client. Returns 0.
const OWNERSHIP = `
local me, p = ARGV[1], ARGV[2]
local seq = p .. ':claimseq'
local out = {}
for i = 1, #KEYS do
  local kind, c, will = ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2]
  local key = KEYS[i]
  if kind == 'c' then
    local prev = redis.call('GET', key)
    local value = me .. '|' .. redis.call('INCR', seq)
    redis.call('SET', key, value)
    redis.call('SADD', p .. ':owned:' .. me, c)
    local lost = ''
    if prev then
      local node = string.match(prev, '^(.*)|')
      if node ~= me then
        redis.call('SREM', p .. ':owned:' .. node, c)
        lost = redis.call('HGET', p .. ':wills:' .. node, c) or ''
        redis.call('HDEL', p .. ':wills:' .. node, c)
      end
    end
    if will ~= '' then redis.call('HSET', p .. ':wills:' .. me, c, will) else redis.call('HDEL', p .. ':wills:' .. me, c) end
    out[i] = {prev or '', lost, value, redis.call('HEXISTS', p .. ':sessions', c)}
  elseif kind == 'e' then
    redis.call('HDEL', p .. ':wills:' .. me, c)
    local owner = redis.call('GET', key)
    out[i] = 0
    if owner and string.sub(owner, 1, #me + 1) == me .. '|' then
      redis.call('DEL', key)
      redis.call('SREM', p .. ':owned:' .. me, c)
      out[i] = 1
    end
  else
    redis.call('HDEL', p .. ':wills:' .. me, c)
    out[i] = 0
  end
end
return out`

// KEYS: owner, seq counter. ARGV: dead nodeId, nodeId, clientId, prefix.
// Takes a session from a dead node if it still holds it: returns {new owner value, will or ''}, or false.
const ADOPT = `
local dead, me, c, p = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('SREM', p .. ':owned:' .. dead, c)
local will = redis.call('HGET', p .. ':wills:' .. dead, c) or ''
redis.call('HDEL', p .. ':wills:' .. dead, c)
local owner = redis.call('GET', KEYS[1])
if not owner or string.sub(owner, 1, #dead + 1) ~= dead .. '|' then return false end
local value = me .. '|' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], value)
redis.call('SADD', p .. ':owned:' .. me, c)
return {value, will}`

// KEYS: seq counter. ARGV: nodeId, prefix, mode, then pairs (clientId, will or ''). After a Redis
// outage, for the sessions a node holds (mode 'keep'): one that another node claimed or adopted
// meanwhile (its owner key names that node) is left alone and returned; every other one has its rows
// deleted (the node writes them afresh next), its owner key kept or, when gone, set again with a new
// claim number, and its connection's will recorded again. For sessions that ended on the node while
// Redis was away (mode 'drop'): their rows and ownership are deleted if the node still owns them.
const RECLAIM = `
local me, p, mode = ARGV[1], ARGV[2], ARGV[3]
local lost = {}
local function wipe(c)
  for _, id in ipairs(redis.call('SMEMBERS', p .. ':oi:' .. c)) do
    local meta = redis.call('HGET', p .. ':out', id)
    if meta then
      local row = cjson.decode(meta)
      redis.call('HDEL', p .. ':out', id)
      redis.call('HDEL', p .. ':outm', id)
      if row.i == 0 and redis.call('HINCRBY', p .. ':mref', row.m, -1) <= 0 then
        redis.call('HDEL', p .. ':mref', row.m)
        redis.call('HDEL', p .. ':msg', row.m)
      end
    end
  end
  redis.call('DEL', p .. ':oi:' .. c, p .. ':sub:' .. c, p .. ':in:' .. c)
  redis.call('HDEL', p .. ':sessions', c)
end
for i = 4, #ARGV, 2 do
  local c, will = ARGV[i], ARGV[i + 1]
  local key = p .. ':owner:' .. c
  local owner = redis.call('GET', key)
  local mine = owner and string.sub(owner, 1, #me + 1) == me .. '|'
  if owner and not mine then
    redis.call('SREM', p .. ':owned:' .. me, c)
    redis.call('HDEL', p .. ':wills:' .. me, c)
    lost[#lost + 1] = c
  elseif mode == 'keep' then
    wipe(c)
    if not owner then redis.call('SET', key, me .. '|' .. redis.call('INCR', KEYS[1])) end
    redis.call('SADD', p .. ':owned:' .. me, c)
    if will ~= '' then redis.call('HSET', p .. ':wills:' .. me, c, will) else redis.call('HDEL', p .. ':wills:' .. me, c) end
  else
    if mine then
      wipe(c)
      redis.call('DEL', key)
    end
    redis.call('SREM', p .. ':owned:' .. me, c)
    redis.call('HDEL', p .. ':wills:' .. me, c)
  end
end
return lost`

export interface SessionScripts {
  /** OWNERSHIP: the number of steps, their owner keys, nodeId, prefix, then (kind, clientId, will) per step. */
  midgeOwnership(steps: number, ...keysAndArgs: string[]): Promise<Array<[string, string, string, number] | number>>
  midgeAdopt(owner: string, seq: string, dead: string, nodeId: string, clientId: string, prefix: string): Promise<[string, string] | null>
  midgeReclaim(seq: string, nodeId: string, prefix: string, mode: 'keep' | 'drop', ...clientsAndWills: string[]): Promise<string[]>
}

export function sessionScripts(redis: Redis): Redis & SessionScripts {
  const r = redis as Redis & SessionScripts
  if (typeof r.midgeOwnership !== 'function') {
    redis.defineCommand('midgeOwnership', {lua: OWNERSHIP}) // the number of keys is the first argument
    redis.defineCommand('midgeAdopt', {numberOfKeys: 2, lua: ADOPT})
    redis.defineCommand('midgeReclaim', {numberOfKeys: 1, lua: RECLAIM})
  }
  return r
}
