import {isValidTopicFilter, parseSharedFilter} from '../../codec/topic.js'

/**
 * Mosquitto's ACL file, parsed once and matched per PUBLISH and per delivery. Pure: no files, no clock.
 *
 *   # comment
 *   topic [read|write|readwrite|deny] FILTER    (access defaults to readwrite; FILTER may hold spaces)
 *   user NAME                                   (the following `topic` lines are NAME's)
 *   pattern [read|write|readwrite|deny] FILTER  (every client; %c = client id, %u = user name)
 *
 * `topic` lines before any `user` line apply to anonymous clients (no user name) only. A user name
 * that has no block gets only the patterns. The check follows Mosquitto 2.0 (src/security_default.c,
 * mosquitto_acl_check_default): the client's own rules first, deny rules before the others, the first
 * matching rule deciding; then the patterns the same way; otherwise denied. So a `topic` rule of the
 * user's block wins over a `pattern` deny, as in Mosquitto.
 *  - A pattern using %u never applies to an anonymous client.
 *  - When a user name or client id contains '+' or '#', no pattern grants anything (Mosquitto 2.0).
 *  - Stricter than Mosquitto 2.0: a client id containing '/' gets nothing from a granting pattern that
 *    uses %c, since client ids are chosen by clients and "alice/x" would otherwise reach into the
 *    space `devices/%c/#` gives to client "alice". Deny patterns still apply to it.
 */
export interface Acl {
  /** May this client receive a message published on `topic`? */
  canRead(clientId: string, username: string | undefined, topic: string): boolean
  /** May this client publish on `topic`? */
  canWrite(clientId: string, username: string | undefined, topic: string): boolean
  /**
   * Could any topic matched by the subscription `filter` ever be readable by this client? False means
   * the subscription is useless (v5: SUBACK 0x87). Errs towards true: a topic region closed only by
   * several deny rules together still counts as readable; delivery is filtered per message anyway.
   * A shared filter (`$share/group/filter`) is judged by its filter. A client that no rule applies to
   * gets true (Mosquitto grants its subscriptions and delivers nothing).
   */
  canEverRead(clientId: string, username: string | undefined, filter: string): boolean
}

export type AclAccess = 'read' | 'write' | 'readwrite' | 'deny'

interface Rule {
  readonly access: AclAccess
  readonly filter: string
  /** The filter split at '/', once: matching runs per delivery and must not allocate. */
  readonly levels: readonly string[]
}

const rule = (access: AclAccess, filter: string): Rule => ({access, filter, levels: filter.split('/')})

/** Clients whose substituted patterns are kept (per client id and user name); the cache starts over when full. */
const PATTERN_CACHE_SIZE = 4096

/** A malformed ACL file; `line` is 1-based and the message already names it. */
export class AclFileError extends Error {
  constructor(message: string, readonly line: number) {
    super(message)
    this.name = 'AclFileError'
  }
}

const ACCESS: ReadonlySet<string> = new Set(['read', 'write', 'readwrite', 'deny'])

/** Parses an ACL file; throws AclFileError at the first bad line. `source` prefixes messages (`FILE:LINE:`). */
export function parseAclFile(text: string, options: {source?: string} = {}): Acl {
  const anonymous: Rule[] = []
  const users = new Map<string, Rule[]>()
  const patterns: Rule[] = []
  let current = anonymous
  text.replace(/^\uFEFF/, '').split('\n').forEach((row, index) => {
    const fail = (reason: string): never => {
      throw new AclFileError(`${options.source ? `${options.source}:` : 'line '}${index + 1}: ${reason}`, index + 1)
    }
    const line = row.trim()
    if (line === '' || line.startsWith('#')) return
    const [keyword, rest] = splitWord(line)
    if (keyword === 'user') {
      if (rest === '') fail('missing user name after "user"')
      current = users.get(rest) ?? []
      users.set(rest, current)
    } else if (keyword === 'topic' || keyword === 'pattern') {
      const list = keyword === 'pattern' ? patterns : current
      list.push(parseRule(rest, keyword, fail))
    } else {
      fail(`unknown keyword ${JSON.stringify(keyword)} (expected topic, pattern or user)`)
    }
  })
  return new AclMatcher(denyFirst(anonymous), new Map([...users].map(([name, rules]) => [name, denyFirst(rules)])), denyFirst(patterns))
}

function parseRule(rest: string, keyword: string, fail: (reason: string) => never): Rule {
  if (rest === '') fail(`missing topic filter after "${keyword}"`)
  const [first, filter] = splitWord(rest)
  // Mosquitto: with one word it is the filter; with more, the first word is the access
  if (filter === '') return checked(rule('readwrite', first), fail)
  if (!ACCESS.has(first)) fail(`unknown access ${JSON.stringify(first)} (expected read, write, readwrite or deny)`)
  return checked(rule(first as AclAccess, filter), fail)
}

function checked(r: Rule, fail: (reason: string) => never): Rule {
  if (!isValidTopicFilter(r.filter)) fail(`invalid topic filter ${JSON.stringify(r.filter)}`)
  return r
}

function splitWord(text: string): [string, string] {
  const match = /^(\S+)\s*(.*)$/.exec(text)
  return match ? [match[1]!, match[2]!.trim()] : ['', '']
}

/** Mosquitto puts deny rules at the front of each list, keeping the file's order otherwise. */
function denyFirst(rules: Rule[]): Rule[] {
  return [...rules.filter((r) => r.access === 'deny'), ...rules.filter((r) => r.access !== 'deny')]
}

type Want = 'read' | 'write'

const grants = (access: AclAccess, want: Want) => access === 'readwrite' || access === want

class AclMatcher implements Acl {
  private readonly patternCache = new Map<string, readonly Rule[]>()

  constructor(
    private readonly anonymous: readonly Rule[],
    private readonly users: ReadonlyMap<string, readonly Rule[]>,
    private readonly patterns: readonly Rule[],
  ) {}

  canRead(clientId: string, username: string | undefined, topic: string): boolean {
    return this.check(clientId, username, topic, 'read')
  }

  canWrite(clientId: string, username: string | undefined, topic: string): boolean {
    return this.check(clientId, username, topic, 'write')
  }

  canEverRead(clientId: string, username: string | undefined, filter: string): boolean {
    const subscription = (parseSharedFilter(filter)?.filter ?? filter).split('/')
    const own = this.ownRules(username)
    const patterns = this.substitutedPatterns(clientId, username)
    // a client with no rule at all is granted any subscription and receives nothing, as in Mosquitto:
    // its clients expect the SUBACK, and the answer then says nothing about the ACL
    if (own.length === 0 && patterns.length === 0) return true
    const ownDenies = own.filter((r) => r.access === 'deny').map((r) => r.levels)
    const allDenies = [...ownDenies, ...patterns.filter((r) => r.access === 'deny').map((r) => r.levels)]
    const open = (rules: readonly Rule[], denies: ReadonlyArray<readonly string[]>) => rules.some((rule) => {
      if (!grants(rule.access, 'read')) return false
      const region = intersect(subscription, rule.levels)
      return region !== undefined && !denies.some((deny) => covers(deny, region))
    })
    return open(own, ownDenies) || open(patterns, allDenies)
  }

  private check(clientId: string, username: string | undefined, topic: string, want: Want): boolean {
    for (const r of this.ownRules(username)) {
      if (matchesLevels(r.levels, topic)) {
        if (r.access === 'deny') return false
        if (grants(r.access, want)) return true
      }
    }
    for (const r of this.substitutedPatterns(clientId, username)) {
      if (matchesLevels(r.levels, topic)) {
        if (r.access === 'deny') return false
        if (grants(r.access, want)) return true
      }
    }
    return false
  }

  private ownRules(username: string | undefined): readonly Rule[] {
    return username === undefined ? this.anonymous : (this.users.get(username) ?? [])
  }

  /** The patterns that apply to this client, with %c and %u replaced (deny rules still first); cached per client. */
  private substitutedPatterns(clientId: string, username: string | undefined): readonly Rule[] {
    if (this.patterns.length === 0) return this.patterns
    // no U+0000 in MQTT strings [MQTT-1.5.4-2], so the key is unambiguous
    const key = username === undefined ? clientId : `${clientId}\u0000${username}`
    let rules = this.patternCache.get(key)
    if (rules === undefined) {
      if (this.patternCache.size >= PATTERN_CACHE_SIZE) this.patternCache.clear()
      rules = this.substitute(clientId, username)
      this.patternCache.set(key, rules)
    }
    return rules
  }

  private substitute(clientId: string, username: string | undefined): Rule[] {
    if (/[+#]/.test(clientId) || (username !== undefined && /[+#]/.test(username))) return []
    return this.patterns.flatMap((r) => {
      if (username === undefined && r.filter.includes('%u')) return []
      if (r.access !== 'deny' && clientId.includes('/') && r.filter.includes('%c')) return []
      return [rule(r.access, r.filter.replace(/%([cu])/g, (all, which: string) => (which === 'c' ? clientId : (username ?? all))))]
    })
  }
}

/**
 * Does the filter (split into levels) match the topic? The same as topic.ts's matches(), without
 * splitting the topic: no allocation per rule and delivery.
 */
function matchesLevels(filter: readonly string[], topic: string): boolean {
  // [MQTT-4.7.2-1] filters starting with a wildcard do not match topic names starting with '$'
  if (topic.charCodeAt(0) === 0x24 && isWild(filter[0])) return false
  let start = 0 // where the topic's next level starts; topic.length + 1 once every level is used
  for (let i = 0; i < filter.length; i++) {
    const level = filter[i]!
    if (level === '#') return true // any number of levels, zero included
    if (start > topic.length) return false
    let end = topic.indexOf('/', start)
    if (end === -1) end = topic.length
    if (level !== '+' && (end - start !== level.length || !topic.startsWith(level, start))) return false
    start = end + 1
  }
  return start === topic.length + 1
}

/** The levels of a filter matching exactly the topics both filters match, or undefined if there are none. */
function intersect(a: readonly string[], b: readonly string[]): string[] | undefined {
  // [MQTT-4.7.2-1] a filter starting with a wildcard matches no topic starting with '$'
  if ((isWild(a[0]) && b[0]?.startsWith('$')) || (isWild(b[0]) && a[0]?.startsWith('$'))) return undefined
  const out: string[] = []
  for (let i = 0; ; i++) {
    const x = a[i]
    const y = b[i]
    if (x === '#') return [...out, ...b.slice(i)]
    if (y === '#') return [...out, ...a.slice(i)]
    if (x === undefined || y === undefined) return x === y ? out : undefined
    if (x === '+') out.push(y)
    else if (y === '+' || y === x) out.push(x)
    else return undefined
  }
}

/** True when every topic the filter `region` matches is also matched by `filter`. */
function covers(filter: readonly string[], region: readonly string[]): boolean {
  if (isWild(filter[0]) && region[0]?.startsWith('$')) return false
  for (let i = 0; ; i++) {
    const d = filter[i]
    const r = region[i]
    if (d === '#') return true // zero or more levels: covers whatever the region has left
    if (d === undefined || r === undefined) return d === r
    if (r === '#') return false // the region goes deeper (or stops earlier) than `filter` allows
    if (d !== '+' && (r === '+' || r !== d)) return false
  }
}

function isWild(level: string | undefined): boolean {
  return level === '+' || level === '#'
}
