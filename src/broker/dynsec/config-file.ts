// The dynamic-security.json format of Mosquitto 2.0's plugin: parsed with the plugin's rules (an entry
// it would skip is skipped, with a warning) and written in the layout the plugin writes, so that each
// broker reads the other's file.
import {isObject, item, optionalString, parseJson, toInt, getBool, getInt, type JsonObject} from './json.js'
import {
  ACL_TYPES, DEFAULT_ACCESS_TYPES, emptyAcls, emptyState, insertAcl, insertRef, sortedByName,
  type AclEntry, type AclType, type Client, type DynsecState, type Group, type Ref, type Role, type StoredPassword,
} from './types.js'

/** The file cannot be used at all: not JSON, or a section of the wrong type. */
export class DynsecFileError extends Error {}

export interface ParsedFile {
  state: DynsecState
  /** Entries skipped as Mosquitto skips them (no name, a bad password record...). */
  warnings: string[]
}

export const SALT_BYTES = 12
export const HASH_BYTES = 64

/** Parses a file's text; an empty file is an empty configuration, as in Mosquitto. */
export function parseDynsecFile(text: string): ParsedFile {
  const state = emptyState()
  const warnings: string[] = []
  if (text.length === 0) return {state, warnings}
  let tree: unknown
  try {
    tree = parseJson(text)
  } catch (error) {
    throw new DynsecFileError(`not valid JSON: ${describeJsonError(text, error as Error)}`)
  }
  if (!isObject(tree)) throw new DynsecFileError('not a JSON object')
  for (const key of ['clients', 'groups', 'roles']) {
    const v = item(tree, key)
    if (v !== undefined && !Array.isArray(v)) throw new DynsecFileError(`"${key}" is not an array`)
  }
  loadDefaultAccess(tree, state)
  loadRoles(tree, state, warnings)
  loadClients(tree, state, warnings)
  loadGroups(tree, state, warnings)
  return {state, warnings}
}

function loadDefaultAccess(tree: JsonObject, state: DynsecState): void {
  const access = item(tree, 'defaultACLAccess')
  if (!isObject(access)) return
  for (const type of DEFAULT_ACCESS_TYPES) state.defaultAccess[type] = getBool(access, type, false)
}

/** A role's ACLs as the plugin loads them from a file or a createRole/modifyRole command. */
export function loadAcls(list: unknown): Record<AclType, AclEntry[]> {
  const acls = emptyAcls()
  if (!Array.isArray(list)) return acls
  for (const type of ACL_TYPES) {
    for (const j of list) {
      const t = item(j, 'acltype')
      if (typeof t !== 'string' || t.toLowerCase() !== type.toLowerCase()) continue
      const topic = optionalString(j, 'topic')
      if (typeof topic !== 'string') continue
      insertAcl(acls[type], {topic, priority: getInt(j, 'priority', 0), allow: getBool(j, 'allow', false)})
    }
  }
  return acls
}

function loadRoles(tree: JsonObject, state: DynsecState, warnings: string[]): void {
  for (const [i, j] of entries(tree, 'roles')) {
    const rolename = optionalString(j, 'rolename')
    const textname = optionalString(j, 'textname')
    const textdescription = optionalString(j, 'textdescription')
    if (typeof rolename !== 'string' || textname === null || textdescription === null) {
      warnings.push(`roles[${i}] skipped: ${typeof rolename !== 'string' ? 'no rolename string' : 'textname or textdescription is not a string'}`)
      continue
    }
    state.roles.set(rolename, {rolename, textname, textdescription, acls: loadAcls(item(j, 'acls'))})
  }
}

function loadClients(tree: JsonObject, state: DynsecState, warnings: string[]): void {
  for (const [i, j] of entries(tree, 'clients')) {
    const username = optionalString(j, 'username')
    if (typeof username !== 'string') { warnings.push(`clients[${i}] skipped: no username string`); continue }
    const password = loadPassword(j)
    if (password === null) { warnings.push(`client '${username}' skipped: bad salt, password or iterations`); continue }
    const client: Client = {
      username, disabled: getBool(j, 'disabled', false), password, roles: [], groups: [],
      clientid: stringOrUndefined(j, 'clientid'), textname: stringOrUndefined(j, 'textname'), textdescription: stringOrUndefined(j, 'textdescription'),
    }
    client.roles = loadRefs(item(j, 'roles'), 'rolename', state.roles)
    state.clients.set(username, client)
  }
}

/** undefined: no password; null: a password record Mosquitto refuses (the client is skipped). */
function loadPassword(j: unknown): StoredPassword | undefined | null {
  const salt = item(j, 'salt')
  const hash = item(j, 'password')
  const iterations = item(j, 'iterations')
  if (typeof salt !== 'string' || typeof hash !== 'string' || typeof iterations !== 'number') return undefined
  const n = toInt(iterations)
  const saltBytes = Buffer.from(salt, 'base64')
  const hashBytes = Buffer.from(hash, 'base64')
  if (n < 1 || saltBytes.length !== SALT_BYTES || hashBytes.length !== HASH_BYTES) return null
  return {salt: saltBytes, hash: hashBytes, iterations: n}
}

function loadGroups(tree: JsonObject, state: DynsecState, warnings: string[]): void {
  for (const [i, j] of entries(tree, 'groups')) {
    const groupname = optionalString(j, 'groupname')
    if (typeof groupname !== 'string') { warnings.push(`groups[${i}] skipped: no groupname string`); continue }
    const group: Group = {groupname, textname: stringOrUndefined(j, 'textname'), textdescription: stringOrUndefined(j, 'textdescription'), roles: []}
    group.roles = loadRefs(item(j, 'roles'), 'rolename', state.roles)
    state.groups.set(groupname, group)
    const clients = item(j, 'clients')
    if (!Array.isArray(clients)) continue
    for (const c of clients) {
      const username = optionalString(c, 'username')
      const client = typeof username === 'string' ? state.clients.get(username) : undefined
      if (client && !client.groups.some((g) => g.name === groupname)) insertRef(client.groups, {name: groupname, priority: getInt(c, 'priority', -1)})
    }
  }
  const anonymous = item(tree, 'anonymousGroup')
  if (typeof anonymous === 'string' && state.groups.has(anonymous)) state.anonymousGroup = anonymous
}

/** Role references that name an existing role (the plugin drops the others), first of each name kept. */
export function loadRefs(list: unknown, key: string, known: Map<string, unknown>): Ref[] {
  const refs: Ref[] = []
  if (!Array.isArray(list)) return refs
  for (const j of list) {
    if (!isObject(j)) continue
    const name = optionalString(j, key)
    if (typeof name !== 'string' || !known.has(name) || refs.some((r) => r.name === name)) continue
    insertRef(refs, {name, priority: getInt(j, 'priority', -1)})
  }
  return refs
}

function entries(tree: JsonObject, key: string): Array<[number, JsonObject]> {
  const list = item(tree, key)
  if (!Array.isArray(list)) return []
  return list.flatMap((j, i) => isObject(j) ? [[i, j] as [number, JsonObject]] : [])
}

function stringOrUndefined(j: unknown, key: string): string | undefined {
  const v = optionalString(j, key)
  return typeof v === 'string' ? v : undefined
}

function describeJsonError(text: string, error: Error): string {
  const at = /position (\d+)/.exec(error.message)
  if (!at) return error.message
  const before = text.slice(0, Number(at[1]))
  const line = before.split('\n').length
  return `${error.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}`
}

// --- writing --------------------------------------------------------------------------------------

/** The file's text, in the plugin's layout: defaultACLAccess, clients, groups, anonymousGroup, roles. */
export function serializeDynsec(state: DynsecState): string {
  const tree: JsonObject = {
    defaultACLAccess: {...state.defaultAccess},
    clients: sortedByName(state.clients).map(clientRecord),
    groups: sortedByName(state.groups).map((g) => ({...groupJson(g), roles: refsJson(g.roles, 'rolename'), clients: groupMembers(state, g.groupname, true)})),
  }
  if (state.anonymousGroup !== undefined) tree.anonymousGroup = state.anonymousGroup
  tree.roles = sortedByName(state.roles).map(roleJson)
  return JSON.stringify(tree, null, '\t')
}

function clientRecord(c: Client): JsonObject {
  const out: JsonObject = {username: c.username}
  if (c.clientid !== undefined) out.clientid = c.clientid
  if (c.textname !== undefined) out.textname = c.textname
  if (c.textdescription !== undefined) out.textdescription = c.textdescription
  if (c.disabled) out.disabled = true
  out.roles = refsJson(c.roles, 'rolename')
  if (c.password) {
    out.password = c.password.hash.toString('base64')
    out.salt = c.password.salt.toString('base64')
    out.iterations = c.password.iterations
  }
  return out
}

export function refsJson(refs: Ref[], key: string): JsonObject[] {
  return refs.map((r) => r.priority === -1 ? {[key]: r.name} : {[key]: r.name, priority: r.priority})
}

export function groupJson(g: Group): JsonObject {
  const out: JsonObject = {groupname: g.groupname}
  if (g.textname !== undefined) out.textname = g.textname
  if (g.textdescription !== undefined) out.textdescription = g.textdescription
  return out
}

/** A group's clients, by user name; with their priorities for the file. */
export function groupMembers(state: DynsecState, groupname: string, withPriority: boolean): JsonObject[] {
  const out: JsonObject[] = []
  for (const c of sortedByName(state.clients)) {
    const ref = c.groups.find((g) => g.name === groupname)
    if (ref === undefined) continue
    out.push(withPriority && ref.priority !== -1 ? {username: c.username, priority: ref.priority} : {username: c.username})
  }
  return out
}

export function roleJson(r: Role): JsonObject {
  const out: JsonObject = {rolename: r.rolename}
  if (r.textname !== undefined) out.textname = r.textname
  if (r.textdescription !== undefined) out.textdescription = r.textdescription
  out.acls = ACL_TYPES.flatMap((type) => r.acls[type].map((a) => ({acltype: type, topic: a.topic, priority: a.priority, allow: a.allow})))
  return out
}
