// The role commands of Mosquitto's plugin (roles.c), with its field names and error strings.
import {loadAcls, roleJson} from './config-file.js'
import {nameArg, page} from './clients.js'
import type {CommandContext, CommandHandler} from './context.js'
import {getBool, getInt, getString, item, optionalString, validSubTopic, validUtf8, type JsonObject} from './json.js'
import {ACL_TYPES, emptyAcls, insertAcl, sortedByName, type AclType, type Role} from './types.js'

function withRole(missing: string, body: (ctx: CommandContext, cmd: JsonObject, role: Role) => void): CommandHandler {
  return (ctx, cmd) => {
    const rolename = nameArg(ctx, cmd, 'rolename', 'Role name')
    if (rolename === undefined) return
    const role = ctx.state.roles.get(rolename)
    if (role === undefined) return ctx.reply(missing)
    body(ctx, cmd, role)
  }
}

/** Disconnects everyone holding the role, directly or through a group. */
export function kickRole(ctx: CommandContext, rolename: string): void {
  for (const client of ctx.state.clients.values()) if (client.roles.some((r) => r.name === rolename)) ctx.kick(client.username)
  for (const group of ctx.state.groups.values()) if (group.roles.some((r) => r.name === rolename)) ctx.kickGroup(group.groupname)
}

const createRole: CommandHandler = (ctx, cmd) => {
  const rolename = nameArg(ctx, cmd, 'rolename', 'Role name')
  if (rolename === undefined) return
  const textname = optionalString(cmd, 'textname')
  if (textname === null) return ctx.reply('Invalid/missing textname')
  const textdescription = optionalString(cmd, 'textdescription')
  if (textdescription === null) return ctx.reply('Invalid/missing textdescription')
  if (ctx.state.roles.has(rolename)) return ctx.reply('Role already exists')
  const acls = item(cmd, 'acls')
  ctx.state.roles.set(rolename, {rolename, textname, textdescription, acls: Array.isArray(acls) ? loadAcls(acls) : emptyAcls()})
  ctx.changed()
  ctx.reply()
  ctx.log(`createRole | rolename=${rolename}`)
}

const deleteRole: CommandHandler = withRole('Role not found', (ctx, _cmd, role) => {
  kickRole(ctx, role.rolename)
  for (const client of ctx.state.clients.values()) client.roles = client.roles.filter((r) => r.name !== role.rolename)
  for (const group of ctx.state.groups.values()) group.roles = group.roles.filter((r) => r.name !== role.rolename)
  ctx.state.roles.delete(role.rolename)
  ctx.changed()
  ctx.reply()
  ctx.log(`deleteRole | rolename=${role.rolename}`)
})

const getRole: CommandHandler = withRole('Role not found', (ctx, _cmd, role) => {
  ctx.reply(undefined, {role: roleJson(role)})
  ctx.log(`getRole | rolename=${role.rolename}`)
})

const listRoles: CommandHandler = (ctx, cmd) => {
  const verbose = getBool(cmd, 'verbose', false)
  const all = sortedByName(ctx.state.roles)
  ctx.reply(undefined, {totalCount: all.length, roles: page(all, cmd).map((r) => verbose ? roleJson(r) : r.rolename)})
  ctx.log(`listRoles | verbose=${verbose}`)
}

/** The ACL list an `acltype` names (any case), or the error to answer. */
function aclType(cmd: JsonObject): AclType | string {
  const t = item(cmd, 'acltype')
  if (typeof t !== 'string') return 'Invalid/missing acltype'
  return ACL_TYPES.find((type) => type.toLowerCase() === t.toLowerCase()) ?? 'Unknown acltype'
}

function aclTopic(cmd: JsonObject): {topic: string} | string {
  const topic = getString(cmd, 'topic')
  if (topic === undefined) return 'Invalid/missing topic'
  if (!validUtf8(topic)) return 'Topic not valid UTF-8'
  if (!validSubTopic(topic)) return 'Invalid ACL topic'
  return {topic}
}

const addRoleACL: CommandHandler = withRole('Role not found', (ctx, cmd, role) => {
  const type = aclType(cmd)
  if (!(ACL_TYPES as readonly string[]).includes(type)) return ctx.reply(type)
  const t = aclTopic(cmd)
  if (typeof t === 'string') return ctx.reply(t)
  const list = role.acls[type as AclType]
  if (list.some((a) => a.topic === t.topic)) return ctx.reply('ACL with this topic already exists')
  insertAcl(list, {topic: t.topic, priority: getInt(cmd, 'priority', 0), allow: getBool(cmd, 'allow', false)})
  ctx.changed()
  ctx.reply()
  kickRole(ctx, role.rolename)
  ctx.log(`addRoleACL | rolename=${role.rolename} | acltype=${type} | topic=${t.topic}`)
})

const removeRoleACL: CommandHandler = withRole('Role not found', (ctx, cmd, role) => {
  const type = aclType(cmd)
  if (!(ACL_TYPES as readonly string[]).includes(type)) return ctx.reply(type)
  const t = aclTopic(cmd)
  if (typeof t === 'string') return ctx.reply(t)
  const list = role.acls[type as AclType]
  const at = list.findIndex((a) => a.topic === t.topic)
  if (at === -1) return ctx.reply('ACL not found')
  list.splice(at, 1)
  ctx.changed()
  ctx.reply()
  kickRole(ctx, role.rolename)
  ctx.log(`removeRoleACL | rolename=${role.rolename} | acltype=${type} | topic=${t.topic}`)
})

const modifyRole: CommandHandler = withRole('Role does not exist', (ctx, cmd, role) => {
  const textname = item(cmd, 'textname')
  if (typeof textname === 'string') role.textname = textname
  const textdescription = item(cmd, 'textdescription')
  if (typeof textdescription === 'string') role.textdescription = textdescription
  const acls = item(cmd, 'acls')
  if (Array.isArray(acls)) role.acls = loadAcls(acls)
  ctx.changed()
  ctx.reply()
  ctx.log(`modifyRole | rolename=${role.rolename}`)
})

export const roleCommands: Record<string, CommandHandler> = {createRole, deleteRole, getRole, listRoles, modifyRole, addRoleACL, removeRoleACL}

