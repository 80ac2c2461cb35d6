import type {Redis} from 'ioredis'

/*
 * The atomic steps of session ownership, as Lua scripts run by Redis. Keys under a prefix p:
 *   p:owner:<clientId>  "<nodeId>|<seq>": the node that holds the session, and the claim that made it so
 *   p:owned:<nodeId>    set of the client ids a node holds (what another node adopts when it dies)
 *   p:wills:<nodeId>    hash client id -> will of the client's live connection there
 *   p:claimseq          counter numbering the claims: a later claim waits only for earlier ones
 */

// KEYS: owner, seq counter. ARGV: nodeId, clientId, prefix, will ('' for none).
// Returns {previous owner or '', the previous node's recorded will or '', new owner value, 1 if the
// store holds a session for the client (its row in p:sessions) else 0}.
const CLAIM = `
local me, c, p = ARGV[1], ARGV[2], ARGV[3]
local prev = redis.call('GET', KEYS[1])
local value = me .. '|' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], value)
redis.call('SADD', p .. ':owned:' .. me, c)
local will = ''
if prev then
  local node = string.match(prev, '^(.*)|')
  if node ~= me then
    redis.call('SREM', p .. ':owned:' .. node, c)
    will = redis.call('HGET', p .. ':wills:' .. node, c) or ''
    redis.call('HDEL', p .. ':wills:' .. node, c)
  end
end
if ARGV[4] ~= '' then redis.call('HSET', p .. ':wills:' .. me, c, ARGV[4]) else redis.call('HDEL', p .. ':wills:' .. me, c) end
return {prev or '', will, value, redis.call('HEXISTS', p .. ':sessions', c)}`

// KEYS: owner. ARGV: nodeId, clientId, prefix. Drops the ownership if this node still has it.
const ENDED = `
local me, c, p = ARGV[1], ARGV[2], ARGV[3]
redis.call('HDEL', p .. ':wills:' .. me, c)
local owner = redis.call('GET', KEYS[1])
if owner and string.sub(owner, 1, #me + 1) == me .. '|' then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', p .. ':owned:' .. me, c)
  return 1
end
return 0`

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
  midgeClaim(owner: string, seq: string, nodeId: string, clientId: string, prefix: string, will: string): Promise<[string, string, string, number]>
  midgeEnded(owner: string, nodeId: string, clientId: string, prefix: string): Promise<number>
  midgeAdopt(owner: string, seq: string, dead: string, nodeId: string, clientId: string, prefix: string): Promise<[string, string] | null>
  midgeReclaim(seq: string, nodeId: string, prefix: string, mode: 'keep' | 'drop', ...clientsAndWills: string[]): Promise<string[]>
}

export function sessionScripts(redis: Redis): Redis & SessionScripts {
  const r = redis as Redis & SessionScripts
  if (typeof r.midgeClaim !== 'function') {
    redis.defineCommand('midgeClaim', {numberOfKeys: 2, lua: CLAIM})
    redis.defineCommand('midgeEnded', {numberOfKeys: 1, lua: ENDED})
    redis.defineCommand('midgeAdopt', {numberOfKeys: 2, lua: ADOPT})
    redis.defineCommand('midgeReclaim', {numberOfKeys: 1, lua: RECLAIM})
  }
  return r
}
