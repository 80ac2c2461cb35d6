// ACL evaluation with the rules of Mosquitto's plugin (acl.c): the client's roles first, then each of
// its groups' roles, all in priority order, and each role's ACLs in priority order; the first ACL that
// matches decides. Nothing matches: the default access, except on $CONTROL topics, which are never
// open by default. An unknown user name is not this plugin's to judge ("defer").
import type {Access, AclEntry, DynsecState, Ref, Role} from './types.js'

export type Verdict = 'allow' | 'deny' | 'defer'

export interface Who {
  clientId: string
  username?: string
}

// Called for every delivery: no allocation on the way (no arrays, closures or substrings).
export function checkAccess(state: DynsecState, access: Access, who: Who, topic: string): Verdict {
  let verdict: boolean | undefined
  if (who.username !== undefined) {
    const client = state.clients.get(who.username)
    if (client === undefined) return 'defer'
    verdict = checkRoles(state, client.roles, access, who, topic)
    for (let i = 0; verdict === undefined && i < client.groups.length; i++) {
      const group = state.groups.get(client.groups[i]!.name)
      if (group) verdict = checkRoles(state, group.roles, access, who, topic)
    }
  } else if (state.anonymousGroup !== undefined) {
    const group = state.groups.get(state.anonymousGroup)
    if (group) verdict = checkRoles(state, group.roles, access, who, topic)
  }
  if (verdict !== undefined) return verdict ? 'allow' : 'deny'
  if (!state.defaultAccess[access]) return 'defer'
  // "We never give fall through access to $CONTROL topics, they must be granted explicitly."
  return topic.startsWith('$CONTROL') ? 'defer' : 'allow'
}

function checkRoles(state: DynsecState, refs: Ref[], access: Access, who: Who, topic: string): boolean | undefined {
  for (let i = 0; i < refs.length; i++) {
    const role = state.roles.get(refs[i]!.name)
    if (role === undefined) continue
    const verdict = checkRole(role, access, who, topic)
    if (verdict !== undefined) return verdict
  }
  return undefined
}

/** true/false from the first matching ACL of the role, undefined when none matches. */
function checkRole(role: Role, access: Access, who: Who, topic: string): boolean | undefined {
  switch (access) {
    case 'publishClientSend':
    case 'publishClientReceive': {
      const acls = role.acls[access]
      for (const acl of acls) if (topicMatches(acl.topic, topic, who)) return acl.allow
      return undefined
    }
    case 'subscribe':
      return literal(role.acls.subscribeLiteral, topic) ?? pattern(role.acls.subscribePattern, topic, who)
    case 'unsubscribe':
      return literal(role.acls.unsubscribeLiteral, topic) ?? pattern(role.acls.unsubscribePattern, topic, who)
  }
}

function pattern(acls: AclEntry[], sub: string, who: Who): boolean | undefined {
  for (const acl of acls) if (subscriptionMatches(acl.topic, sub, who)) return acl.allow
  return undefined
}

function literal(acls: AclEntry[], topic: string): boolean | undefined {
  for (const acl of acls) if (acl.topic === topic) return acl.allow
  return undefined
}

/**
 * A `%c` or `%u` level stands for the client id or user name (Mosquitto 2.1's patterns). A value with
 * '/', '+' or '#' never matches, so that no client id widens what a pattern grants.
 */
function substitute(level: string, who: Who): string | undefined {
  if (level !== '%c' && level !== '%u') return level
  const value = level === '%c' ? who.clientId : who.username
  if (value === undefined || value === '' || /[/+#]/.test(value)) return undefined
  return value
}

/** mosquitto_topic_matches_sub with patterns: may the ACL filter `acl` cover the topic name? Level by level, by index. */
export function topicMatches(acl: string, topic: string, who: Who): boolean {
  // a filter and a topic match only if both or neither start with '$'
  if ((acl.charCodeAt(0) === DOLLAR) !== (topic.charCodeAt(0) === DOLLAR)) return false
  let a = 0 // start of the current level of each
  let t = 0
  for (;;) {
    const aEnd = levelEnd(acl, a)
    const width = aEnd - a
    if (width === 1 && acl.charCodeAt(a) === HASH) return aEnd === acl.length // any levels, none included
    if (t > topic.length) return false // the topic has no more levels
    const tEnd = levelEnd(topic, t)
    if (width === 1 && acl.charCodeAt(a) === PLUS) {
      // any one level
    } else if (width === 2 && acl.charCodeAt(a) === PERCENT && (acl.charCodeAt(a + 1) === 0x63 || acl.charCodeAt(a + 1) === 0x75)) {
      const value = substitute(acl.charCodeAt(a + 1) === 0x63 ? '%c' : '%u', who)
      if (value === undefined || !sameRegion(value, 0, value.length, topic, t, tEnd)) return false
    } else if (!sameRegion(acl, a, aEnd, topic, t, tEnd)) {
      return false
    }
    a = aEnd + 1
    t = tEnd + 1
    if (a > acl.length) return t > topic.length
  }
}

const DOLLAR = 0x24
const HASH = 0x23
const PLUS = 0x2b
const PERCENT = 0x25

function levelEnd(s: string, from: number): number {
  const slash = s.indexOf('/', from)
  return slash === -1 ? s.length : slash
}

function sameRegion(x: string, xFrom: number, xEnd: number, y: string, yFrom: number, yEnd: number): boolean {
  if (xEnd - xFrom !== yEnd - yFrom) return false
  for (let i = 0; i < xEnd - xFrom; i++) if (x.charCodeAt(xFrom + i) !== y.charCodeAt(yFrom + i)) return false
  return true
}

/**
 * sub_acl_check: does the ACL filter cover every topic the subscription filter can match? '#' covers
 * all; a '+' in the ACL covers any one level ('+' included); a '#' in the subscription needs one in the ACL.
 */
export function subscriptionMatches(acl: string, sub: string, who: Who): boolean {
  if (acl === '#') return true
  const [aclBody, aclHash] = stripHash(acl)
  const [subBody, subHash] = stripHash(sub)
  if (subHash && !aclHash) return false
  const a = aclBody.split('/')
  const s = subBody.split('/')
  if (a.length > s.length) return false
  if (s.length > a.length && !aclHash) return false
  for (let i = 0; i < s.length; i++) {
    if (i >= a.length) return true // the ACL's '#' covers the rest
    if (a[i] === '+') continue
    const level = substitute(a[i]!, who)
    if (level === undefined || level !== s[i]) return false
  }
  return true
}

/** 'a/#' -> ['a', true], '#' -> ['', true]. */
function stripHash(filter: string): [string, boolean] {
  if (filter === '#') return ['', true]
  if (filter.endsWith('/#')) return [filter.slice(0, -2), true]
  return [filter, false]
}
