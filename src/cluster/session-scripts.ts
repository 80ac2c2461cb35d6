import type {Redis} from 'ioredis'

/*
 * The atomic steps of session ownership, as Lua scripts run by Redis. Keys under a prefix p:
 *   p:owner:<clientId>  "<nodeId>|<seq>": the node that holds the session, and the claim that made it so
 *   p:owned:<nodeId>    set of the client ids a node holds (what another node adopts when it dies)
 *   p:wills:<nodeId>    hash client id -> will of the client's live connection there
 *   p:claimseq          counter numbering the claims: a later claim waits only for earlier ones
 */

// KEYS: owner, seq counter. ARGV: nodeId, clientId, prefix, will ('' for none).
// Returns {previous owner or '', the previous node's recorded will or '', new owner value}.
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
return {prev or '', will, value}`

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

export interface SessionScripts {
  midgeClaim(owner: string, seq: string, nodeId: string, clientId: string, prefix: string, will: string): Promise<[string, string, string]>
  midgeEnded(owner: string, nodeId: string, clientId: string, prefix: string): Promise<number>
  midgeAdopt(owner: string, seq: string, dead: string, nodeId: string, clientId: string, prefix: string): Promise<[string, string] | null>
}

export function sessionScripts(redis: Redis): Redis & SessionScripts {
  const r = redis as Redis & SessionScripts
  if (typeof r.midgeClaim !== 'function') {
    redis.defineCommand('midgeClaim', {numberOfKeys: 2, lua: CLAIM})
    redis.defineCommand('midgeEnded', {numberOfKeys: 1, lua: ENDED})
    redis.defineCommand('midgeAdopt', {numberOfKeys: 2, lua: ADOPT})
  }
  return r
}
