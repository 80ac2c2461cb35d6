// The client commands of Mosquitto's plugin (clients.c), with its field names and error strings.
import {loadRefs, refsJson} from './config-file.js'
import type {CommandContext, CommandHandler} from './context.js'
import {getBool, getInt, getString, item, optionalString, validUtf8, type JsonObject} from './json.js'
import {insertRef, sortedByName, type Client, type Ref} from './types.js'

/** The user name of a command, validated; undefined after replying with the error. */
export function nameArg(ctx: CommandContext, command: JsonObject, key: string, label: string): string | undefined {
  const value = getString(command, key)
  if (value === undefined) {
    ctx.reply(`Invalid/missing ${key}`)
    return undefined
  }
  if (!validUtf8(value)) {
    ctx.reply(`${label} not valid UTF-8`)
    return undefined
  }
  return value
}

/** A `roles` array of a create/modify command: undefined (absent), the refs, or an error string. */
export function rolesArg(ctx: CommandContext, command: JsonObject): Ref[] | undefined | string {
  const list = item(command, 'roles')
  if (list === undefined) return undefined
  if (!Array.isArray(list)) return '\'roles\' not an array or missing/invalid rolename'
  for (const j of list) {
    const name = optionalString(j, 'rolename')
    if (typeof name !== 'string') return '\'roles\' not an array or missing/invalid rolename'
    if (!ctx.state.roles.has(name)) return 'Role not found'
  }
  return loadRefs(list, 'rolename', ctx.state.roles)
}

/** A `groups` array: the existing groups named, with priorities (unknown ones listed apart). */
function groupsArg(ctx: CommandContext, command: JsonObject): {refs: Ref[]; unknown: boolean} | undefined {
  const list = item(command, 'groups')
  if (!Array.isArray(list)) return undefined
  const refs: Ref[] = []
  let unknown = false
  for (const j of list) {
    const name = optionalString(j, 'groupname')
    if (typeof name !== 'string') continue
    if (!ctx.state.groups.has(name)) { unknown = true; continue }
    if (!refs.some((r) => r.name === name)) insertRef(refs, {name, priority: getInt(j, 'priority', -1)})
  }
  return {refs, unknown}
}

const createClient: CommandHandler = (ctx, cmd) => {
  const username = nameArg(ctx, cmd, 'username', 'Username')
  if (username === undefined) return
  const password = optionalString(cmd, 'password')
  if (password === null) return ctx.reply('Invalid/missing password')
  const clientid = optionalString(cmd, 'clientid')
  if (clientid === null) return ctx.reply('Invalid/missing client id')
  if (clientid !== undefined && !validUtf8(clientid)) return ctx.reply('Client ID not valid UTF-8')
  const textname = optionalString(cmd, 'textname')
  if (textname === null) return ctx.reply('Invalid/missing textname')
  const textdescription = optionalString(cmd, 'textdescription')
  if (textdescription === null) return ctx.reply('Invalid/missing textdescription')
  if (ctx.state.clients.has(username)) return ctx.reply('Client already exists')
  const roles = rolesArg(ctx, cmd)
  if (typeof roles === 'string') return ctx.reply(roles)
  const groups = groupsArg(ctx, cmd)
  if (groups?.unknown) return ctx.reply('Group not found')
  const client: Client = {
    username, textname, textdescription, disabled: false, roles: roles ?? [], groups: groups?.refs ?? [],
    clientid: clientid === undefined || clientid === '' ? undefined : clientid,
    password: password === undefined ? undefined : ctx.hashPassword(password),
  }
  ctx.state.clients.set(username, client)
  ctx.changed()
  ctx.reply()
  ctx.log(`createClient | username=${username} | password=${password === undefined ? 'no password' : '*****'}`)
}

const deleteClient: CommandHandler = (ctx, cmd) => {
  const username = getString(cmd, 'username')
  if (username === undefined) return ctx.reply('Invalid/missing username')
  if (!ctx.state.clients.delete(username)) return ctx.reply('Client not found')
  ctx.changed()
  ctx.reply()
  ctx.kick(username)
  ctx.log(`deleteClient | username=${username}`)
}

/** enableClient, disableClient, getClient...: a command about one existing client. */
function withClient(body: (ctx: CommandContext, cmd: JsonObject, client: Client) => void): CommandHandler {
  return (ctx, cmd) => {
    const username = nameArg(ctx, cmd, 'username', 'Username')
    if (username === undefined) return
    const client = ctx.state.clients.get(username)
    if (client === undefined) return ctx.reply('Client not found')
    body(ctx, cmd, client)
  }
}

const setDisabled = (disabled: boolean): CommandHandler => withClient((ctx, _cmd, client) => {
  client.disabled = disabled
  if (disabled) ctx.kick(client.username)
  ctx.changed()
  ctx.reply()
  ctx.log(`${disabled ? 'disableClient' : 'enableClient'} | username=${client.username}`)
})

const setClientId: CommandHandler = (ctx, cmd) => {
  const username = nameArg(ctx, cmd, 'username', 'Username')
  if (username === undefined) return
  const clientid = optionalString(cmd, 'clientid')
  if (clientid === null) return ctx.reply('Invalid/missing client ID')
  if (clientid !== undefined && !validUtf8(clientid)) return ctx.reply('Client ID not valid UTF-8')
  const client = ctx.state.clients.get(username)
  if (client === undefined) return ctx.reply('Client not found')
  client.clientid = clientid === undefined || clientid === '' ? undefined : clientid
  ctx.changed()
  ctx.reply()
  ctx.kick(username)
  ctx.log(`setClientId | username=${username} | clientid=${client.clientid ?? '(null)'}`)
}

const setClientPassword: CommandHandler = (ctx, cmd) => {
  const username = nameArg(ctx, cmd, 'username', 'Username')
  if (username === undefined) return
  const password = getString(cmd, 'password')
  if (password === undefined) return ctx.reply('Invalid/missing password')
  if (password.length === 0) return ctx.reply('Empty password is not allowed')
  const client = ctx.state.clients.get(username)
  if (client === undefined) return ctx.reply('Client not found')
  client.password = ctx.hashPassword(password)
  ctx.changed()
  ctx.reply()
  ctx.kick(username)
  ctx.log(`setClientPassword | username=${username} | password=******`)
}

const modifyClient: CommandHandler = withClient((ctx, cmd, client) => {
  // checked first, so that a refused command changes nothing (Mosquitto applies the fields it got to before failing)
  const roles = rolesArg(ctx, cmd)
  if (typeof roles === 'string') {
    ctx.kick(client.username)
    return ctx.reply(roles)
  }
  const clientid = item(cmd, 'clientid')
  if (typeof clientid === 'string') client.clientid = clientid === '' ? undefined : clientid
  const password = item(cmd, 'password')
  if (typeof password === 'string' && password !== '') client.password = ctx.hashPassword(password)
  const textname = item(cmd, 'textname')
  if (typeof textname === 'string') client.textname = textname
  const textdescription = item(cmd, 'textdescription')
  if (typeof textdescription === 'string') client.textdescription = textdescription
  if (roles !== undefined) client.roles = roles
  const groups = groupsArg(ctx, cmd)
  if (groups !== undefined) client.groups = groups.refs
  ctx.changed()
  ctx.reply()
  ctx.kick(client.username)
  ctx.log(`modifyClient | username=${client.username}`)
})

export function clientJson(client: Client, groupsByName: (name: string) => boolean): JsonObject {
  const out: JsonObject = {username: client.username}
  if (client.clientid !== undefined) out.clientid = client.clientid
  if (client.textname !== undefined) out.textname = client.textname
  if (client.textdescription !== undefined) out.textdescription = client.textdescription
  if (client.disabled) out.disabled = true
  out.roles = refsJson(client.roles, 'rolename')
  out.groups = refsJson(client.groups.filter((g) => groupsByName(g.name)), 'groupname')
  return out
}

const getClient: CommandHandler = withClient((ctx, _cmd, client) => {
  ctx.reply(undefined, {client: clientJson(client, (g) => ctx.state.groups.has(g))})
  ctx.log(`getClient | username=${client.username}`)
})

/** listClients/listGroups/listRoles paging: count (-1 all) from offset. */
export function page<T>(items: T[], cmd: JsonObject): T[] {
  const count = getInt(cmd, 'count', -1)
  const offset = getInt(cmd, 'offset', 0)
  const from = Math.max(0, offset)
  // Mosquitto stops after `count` items when count >= 0, and after one item when count is 0
  return count < 0 ? items.slice(from) : items.slice(from, from + Math.max(1, count))
}

const listClients: CommandHandler = (ctx, cmd) => {
  const verbose = getBool(cmd, 'verbose', false)
  const all = sortedByName(ctx.state.clients)
  const clients = page(all, cmd).map((c) => verbose ? clientJson(c, (g) => ctx.state.groups.has(g)) : c.username)
  ctx.reply(undefined, {totalCount: all.length, clients})
  ctx.log(`listClients | verbose=${verbose}`)
}

const clientRole = (add: boolean): CommandHandler => (ctx, cmd) => {
  const username = nameArg(ctx, cmd, 'username', 'Username')
  if (username === undefined) return
  const rolename = nameArg(ctx, cmd, 'rolename', 'Role name')
  if (rolename === undefined) return
  const priority = getInt(cmd, 'priority', -1)
  const client = ctx.state.clients.get(username)
  if (client === undefined) return ctx.reply('Client not found')
  if (!ctx.state.roles.has(rolename)) return ctx.reply('Role not found')
  const at = client.roles.findIndex((r) => r.name === rolename)
  if (add) {
    if (at !== -1) return ctx.reply('Internal error') // what Mosquitto 2.0 answers for a role the client already has
    insertRef(client.roles, {name: rolename, priority})
  } else if (at !== -1) {
    client.roles.splice(at, 1)
  }
  ctx.changed()
  ctx.reply()
  ctx.kick(username)
  ctx.log(`${add ? 'addClientRole' : 'removeClientRole'} | username=${username} | rolename=${rolename}${add ? ` | priority=${priority}` : ''}`)
}

export const clientCommands: Record<string, CommandHandler> = {
  createClient, deleteClient, getClient, listClients, modifyClient, setClientPassword, setClientId,
  addClientRole: clientRole(true), removeClientRole: clientRole(false),
  enableClient: setDisabled(false), disableClient: setDisabled(true),
}

