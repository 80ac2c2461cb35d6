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

export function checkAccess(state: DynsecState, access: Access, who: Who, topic: string): Verdict {
  const roleLists: Ref[][] = []
  if (who.username !== undefined) {
    const client = state.clients.get(who.username)
    if (client === undefined) return 'defer'
    roleLists.push(client.roles)
    for (const g of client.groups) {
      const group = state.groups.get(g.name)
      if (group) roleLists.push(group.roles)
    }
  } else if (state.anonymousGroup !== undefined) {
    const group = state.groups.get(state.anonymousGroup)
    if (group) roleLists.push(group.roles)
  }
  for (const refs of roleLists) {
    for (const ref of refs) {
      const role = state.roles.get(ref.name)
      if (role === undefined) continue
      const verdict = checkRole(role, access, who, topic)
      if (verdict !== undefined) return verdict ? 'allow' : 'deny'
    }
  }
  if (!state.defaultAccess[access]) return 'defer'
  // "We never give fall through access to $CONTROL topics, they must be granted explicitly."
  return topic.startsWith('$CONTROL') ? 'defer' : 'allow'
}

/** true/false from the first matching ACL of the role, undefined when none matches. */
function checkRole(role: Role, access: Access, who: Who, topic: string): boolean | undefined {
  switch (access) {
    case 'publishClientSend':
    case 'publishClientReceive':
      return first(role.acls[access], (acl) => topicMatches(acl.topic, topic, who))
    case 'subscribe':
      return literal(role.acls.subscribeLiteral, topic) ?? first(role.acls.subscribePattern, (acl) => subscriptionMatches(acl.topic, topic, who))
    case 'unsubscribe':
      return literal(role.acls.unsubscribeLiteral, topic) ?? first(role.acls.unsubscribePattern, (acl) => subscriptionMatches(acl.topic, topic, who))
  }
}

function first(acls: AclEntry[], match: (acl: AclEntry) => boolean): boolean | undefined {
  for (const acl of acls) if (match(acl)) return acl.allow
  return undefined
}

function literal(acls: AclEntry[], topic: string): boolean | undefined {
  return acls.find((acl) => acl.topic === topic)?.allow
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

/** mosquitto_topic_matches_sub with patterns: may the ACL filter `acl` cover the topic name? */
export function topicMatches(acl: string, topic: string, who: Who): boolean {
  // a filter and a topic match only if both or neither start with '$'
  if ((acl.charCodeAt(0) === 0x24) !== (topic.charCodeAt(0) === 0x24)) return false
  const f = acl.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1
    if (i >= t.length) return false
    if (f[i] === '+') continue
    const level = substitute(f[i], who)
    if (level === undefined || level !== t[i]) return false
  }
  return f.length === t.length
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
    const level = substitute(a[i], who)
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
