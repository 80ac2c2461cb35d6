// The Dynamic Security model, as Mosquitto 2.0's plugin keeps it (plugins/dynamic-security): clients,
// groups and roles by name; each role holds six ACL lists; the default access of the four checks.

export const ACL_TYPES = ['publishClientSend', 'publishClientReceive', 'subscribeLiteral', 'subscribePattern', 'unsubscribeLiteral', 'unsubscribePattern'] as const
export type AclType = (typeof ACL_TYPES)[number]

/** The four kinds of check the broker asks for, and the default access each falls back to. */
export const DEFAULT_ACCESS_TYPES = ['publishClientSend', 'publishClientReceive', 'subscribe', 'unsubscribe'] as const
export type Access = (typeof DEFAULT_ACCESS_TYPES)[number]
export type DefaultAccess = Record<Access, boolean>

export interface AclEntry {
  topic: string
  priority: number
  allow: boolean
}

/** A role or group reference with its priority (-1 when not given). */
export interface Ref {
  name: string
  priority: number
}

export interface Role {
  rolename: string
  textname?: string
  textdescription?: string
  /** Each list in evaluation order: higher priority first, equal priorities in the order added. */
  acls: Record<AclType, AclEntry[]>
}

/** PBKDF2-SHA512 as Mosquitto 2.0 stores it: 12-byte salt, 64-byte hash. */
export interface StoredPassword {
  hash: Buffer
  salt: Buffer
  iterations: number
}

export interface Client {
  username: string
  clientid?: string
  textname?: string
  textdescription?: string
  disabled: boolean
  password?: StoredPassword
  /** In evaluation order: priority high to low, then name. */
  roles: Ref[]
  /** In evaluation order: priority high to low, then name. */
  groups: Ref[]
}

export interface Group {
  groupname: string
  textname?: string
  textdescription?: string
  roles: Ref[]
}

export interface DynsecState {
  defaultAccess: DefaultAccess
  clients: Map<string, Client>
  groups: Map<string, Group>
  roles: Map<string, Role>
  anonymousGroup?: string
}

export function emptyAcls(): Record<AclType, AclEntry[]> {
  return {publishClientSend: [], publishClientReceive: [], subscribeLiteral: [], subscribePattern: [], unsubscribeLiteral: [], unsubscribePattern: []}
}

export function emptyState(): DynsecState {
  return {
    defaultAccess: {publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: false},
    clients: new Map(), groups: new Map(), roles: new Map(),
  }
}

/** Byte order of the UTF-8 forms, as C's strcmp sorts Mosquitto's lists. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** Inserts a reference keeping the order Mosquitto evaluates: priority high to low, then name. */
export function insertRef(list: Ref[], ref: Ref): void {
  const at = list.findIndex((r) => ref.priority > r.priority || (ref.priority === r.priority && compareNames(ref.name, r.name) < 0))
  if (at === -1) list.push(ref)
  else list.splice(at, 0, ref)
}

/** Inserts an ACL after those of higher or equal priority (uthash's in-order insert). */
export function insertAcl(list: AclEntry[], acl: AclEntry): void {
  const at = list.findIndex((a) => acl.priority > a.priority)
  if (at === -1) list.push(acl)
  else list.splice(at, 0, acl)
}

export function sortedByName<T>(map: Map<string, T>): T[] {
  return [...map.keys()].sort(compareNames).map((k) => map.get(k)!)
}
