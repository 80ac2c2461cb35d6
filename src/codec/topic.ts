/*
 * Topic names and topic filters: validation and the reference matcher.
 *
 * Examples. test/unit/topic.test.ts parses and runs every row below (JSON strings, one row a line),
 * so keep the format: a kind, then its JSON-quoted arguments.
 *
 *   name        "sport/tennis/player1"   valid PUBLISH topic names
 *   name        "/"
 *   name        "//"
 *   name        "/finance"
 *   name        "a b"
 *   name        "$SYS/broker/load"
 *   name        "a/$"
 *   name        "ünïcødé/🐝"
 *   bad-name    ""                       [MQTT-4.7.3-1] at least one character
 *   bad-name    "sport/+"                [MQTT-3.3.2-2] no wildcards in a topic name
 *   bad-name    "sport/#"
 *   bad-name    "a+"
 *   bad-name    "#"
 *   bad-name    "a\u0000b"               [MQTT-4.7.3-2] [MQTT-1.5.4-2] no U+0000
 *   bad-name    "a\ud800b"               [MQTT-1.5.4-1] a lone surrogate is not well-formed UTF-8
 *   bad-name    "a\udc00"
 *   bad-name    "\udc00\udc00"          (a low surrogate first)
 *   filter      "sport/tennis/#"         valid topic filters
 *   filter      "#"
 *   filter      "+"
 *   filter      "+/+"
 *   filter      "+/tennis/#"
 *   filter      "sport/+/player1"
 *   filter      "/+"
 *   filter      "a//b"
 *   filter      "/"
 *   filter      "$SYS/#"
 *   filter      "$share"
 *   filter      "$shared/g/a"
 *   filter      "$share/group/a/#"
 *   filter      "$share/g/+"
 *   filter      "$share/g//"
 *   bad-filter  ""                       [MQTT-4.7.3-1]
 *   bad-filter  "sport/tennis#"          [MQTT-4.7.1-1] '#' on its own level ...
 *   bad-filter  "sport/tennis/#/ranking" ... and last
 *   bad-filter  "#/"
 *   bad-filter  "##"
 *   bad-filter  "sport+"                 [MQTT-4.7.1-2] '+' occupies a whole level
 *   bad-filter  "+a/b"
 *   bad-filter  "a/++"
 *   bad-filter  "a\u0000"                [MQTT-4.7.3-2]
 *   bad-filter  "\udfff/#"               [MQTT-1.5.4-1]
 *   bad-filter  "$share/"                [MQTT-4.8.2-2] non-empty share name ...
 *   bad-filter  "$share//a"
 *   bad-filter  "$share/g"               [MQTT-4.8.2-1] ... followed by '/' and a topic filter
 *   bad-filter  "$share/g/"
 *   bad-filter  "$share/g+/a"            [MQTT-4.8.2-1] no '+' or '#' in a share name
 *   bad-filter  "$share/#/a"
 *   bad-filter  "$share/g/a#"
 *   share       "$share/g/a/#"     "g"     "a/#"
 *   share       "$share/g//"       "g"     "/"
 *   share       "$share/g/$SYS/x"  "g"     "$SYS/x"
 *   not-share   "$share"
 *   not-share   "$sharex/g/a"
 *   not-share   "a/$share/g/b"
 *   match       "sport/tennis/player1/#"  "sport/tennis/player1"
 *   match       "sport/tennis/player1/#"  "sport/tennis/player1/ranking"
 *   match       "sport/tennis/player1/#"  "sport/tennis/player1/score/wimbledon"
 *   match       "sport/#"          "sport"          '#' also matches the parent level
 *   match       "sport/#"          "sport/"
 *   match       "#"                "sport/tennis"
 *   match       "#"                "/"
 *   match       "sport/tennis/+"   "sport/tennis/player1"
 *   match       "sport/+"          "sport/"         '+' matches an empty level
 *   match       "+/+"              "/finance"
 *   match       "/+"               "/finance"
 *   match       "a/+/c"            "a//c"
 *   match       "a//b"             "a//b"
 *   match       "+"                "a$"
 *   match       "$SYS/#"           "$SYS/broker"    '$' topics match filters that name them
 *   match       "$SYS/#"           "$SYS"
 *   match       "$SYS/+"           "$SYS/broker"
 *   match       "a/#"              "a/$SYS"
 *   match       "+/$x"             "a/$x"
 *   no-match    "sport/tennis/+"   "sport/tennis/player1/ranking"
 *   no-match    "sport/tennis/+"   "sport/tennis"
 *   no-match    "sport/+"          "sport"
 *   no-match    "+"                "/finance"
 *   no-match    "/+"               "finance"
 *   no-match    "a/b"              "a/B"            levels compare case-sensitively
 *   no-match    "a/b"              "a/b/"
 *   no-match    "a/b/"             "a/b"
 *   no-match    "a//b"             "a/b"
 *   no-match    "sport/tennis/#"   "sport/tennisx"
 *   no-match    "#"                "$SYS/broker"    [MQTT-4.7.2-1] a leading wildcard never matches '$'
 *   no-match    "#"                "$SYS"
 *   no-match    "+/broker"         "$SYS/broker"
 *   no-match    "+/#"              "$SYS/broker"
 *   no-match    "+"                "$"
 *   no-match    "$SYS/#"           "$SYSX/a"
 *
 * Spec numbers are MQTT 5.0's; 3.1.1 has the same rules (its 4.7.1-1 is 5.0's 3.3.2-2, and so on).
 */

/** [MQTT-4.7.3-3] Topic names and filters are UTF-8 strings of at most 65535 bytes. */
const MAX_BYTES = 65535
const SLASH = 0x2f
const PLUS = 0x2b
const HASH = 0x23
const DOLLAR = 0x24
const SHARE_PREFIX = '$share/'

/** True for a topic name a PUBLISH may carry. */
export function isValidTopicName(topic: string): boolean {
  // [MQTT-3.3.2-2] no wildcard characters in a topic name
  return isWellFormed(topic) && topic.indexOf('+') === -1 && topic.indexOf('#') === -1
}

/** True for a SUBSCRIBE/UNSUBSCRIBE topic filter, including a shared one: `$share/{group}/{filter}`. */
export function isValidTopicFilter(filter: string): boolean {
  if (!isWellFormed(filter)) return false
  if (!filter.startsWith(SHARE_PREFIX)) return hasValidWildcards(filter, 0)
  // [MQTT-4.8.2-1] [MQTT-4.8.2-2] a non-empty share name without '/', '+' or '#', then '/' and a
  // non-empty topic filter
  const slash = filter.indexOf('/', SHARE_PREFIX.length)
  if (slash <= SHARE_PREFIX.length || slash === filter.length - 1) return false
  const group = filter.slice(SHARE_PREFIX.length, slash)
  return group.indexOf('+') === -1 && group.indexOf('#') === -1 && hasValidWildcards(filter, slash + 1)
}

/** Splits `$share/{group}/{filter}`; undefined when the filter is not a shared one. */
export function parseSharedFilter(filter: string): {group: string; filter: string} | undefined {
  if (!filter.startsWith(SHARE_PREFIX)) return undefined
  const slash = filter.indexOf('/', SHARE_PREFIX.length)
  if (slash === -1) return undefined
  return {group: filter.slice(SHARE_PREFIX.length, slash), filter: filter.slice(slash + 1)}
}

/**
 * The reference matcher: does a valid, non-shared filter match a topic name? Simple rather than fast;
 * the broker matches through TopicTree, and tests compare it against this.
 */
export function matches(filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  // [MQTT-4.7.2-1] filters starting with a wildcard do not match topic names starting with '$'
  if (topic.charCodeAt(0) === DOLLAR && (f[0] === '+' || f[0] === '#')) return false
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true // any number of levels, zero included: 'sport/#' matches 'sport'
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false // '+' matches exactly one level, maybe empty
  }
  return f.length === t.length
}

/** True when a valid filter contains '+' or '#'. */
export function hasWildcard(filter: string): boolean {
  return filter.indexOf('+') !== -1 || filter.indexOf('#') !== -1
}

/**
 * Non-empty [MQTT-4.7.3-1], no U+0000 [MQTT-4.7.3-2] [MQTT-1.5.4-2], no lone surrogate (it would not
 * encode as well-formed UTF-8) [MQTT-1.5.4-1], and at most 65535 bytes of UTF-8 [MQTT-4.7.3-3].
 */
function isWellFormed(s: string): boolean {
  if (s.length === 0 || s.length > MAX_BYTES) return false // a UTF-16 unit is at least one byte
  let bytes = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0) return false
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c < 0xd800 || c > 0xdfff) bytes += 3
    else {
      const low = s.charCodeAt(i + 1) // NaN past the end
      if (c > 0xdbff || !(low >= 0xdc00 && low <= 0xdfff)) return false
      bytes += 4
      i++
    }
  }
  return bytes <= MAX_BYTES
}

/** [MQTT-4.7.1-1] '#' only as the whole last level; [MQTT-4.7.1-2] '+' only as a whole level. */
function hasValidWildcards(filter: string, from: number): boolean {
  const end = filter.length
  for (let i = from; i < end; i++) {
    const c = filter.charCodeAt(i)
    if (c !== PLUS && c !== HASH) continue
    if (i > from && filter.charCodeAt(i - 1) !== SLASH) return false
    if (i + 1 < end && (c === HASH || filter.charCodeAt(i + 1) !== SLASH)) return false
  }
  return true
}
