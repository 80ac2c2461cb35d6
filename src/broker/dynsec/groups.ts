// The group commands of Mosquitto's plugin (groups.c), with its field names and error strings.
import {groupJson, groupMembers, refsJson} from './config-file.js'
import {nameArg, page, rolesArg} from './clients.js'
import type {CommandContext, CommandHandler} from './context.js'
import {getBool, getInt, item, optionalString, type JsonObject} from './json.js'
import {insertRef, sortedByName, type Group} from './types.js'

function groupDetail(ctx: CommandContext, g: Group): JsonObject {
  return {...groupJson(g), clients: groupMembers(ctx.state, g.groupname, false), roles: refsJson(g.roles, 'rolename')}
}

function withGroup(body: (ctx: CommandContext, cmd: JsonObject, group: Group) => void): CommandHandler {
  return (ctx, cmd) => {
    const groupname = nameArg(ctx, cmd, 'groupname', 'Group name')
    if (groupname === undefined) return
    const group = ctx.state.groups.get(groupname)
    if (group === undefined) return ctx.reply('Group not found')
    body(ctx, cmd, group)
  }
}

const createGroup: CommandHandler = (ctx, cmd) => {
  const groupname = nameArg(ctx, cmd, 'groupname', 'Group name')
  if (groupname === undefined) return
  const textname = optionalString(cmd, 'textname')
  if (textname === null) return ctx.reply('Invalid/missing textname')
  const textdescription = optionalString(cmd, 'textdescription')
  if (textdescription === null) return ctx.reply('Invalid/missing textdescription')
  if (ctx.state.groups.has(groupname)) return ctx.reply('Group already exists')
  const roles = rolesArg(ctx, cmd)
  if (typeof roles === 'string') return ctx.reply(roles === 'Role not found' ? roles : 'Internal error')
  ctx.state.groups.set(groupname, {groupname, textname, textdescription, roles: roles ?? []})
  ctx.changed()
  ctx.reply()
  ctx.log(`createGroup | groupname=${groupname}`)
}

const deleteGroup: CommandHandler = withGroup((ctx, _cmd, group) => {
  ctx.kickGroup(group.groupname)
  for (const client of ctx.state.clients.values()) client.groups = client.groups.filter((g) => g.name !== group.groupname)
  ctx.state.groups.delete(group.groupname)
  if (ctx.state.anonymousGroup === group.groupname) ctx.state.anonymousGroup = undefined
  ctx.changed()
  ctx.reply()
  ctx.log(`deleteGroup | groupname=${group.groupname}`)
})

const groupClient = (add: boolean): CommandHandler => (ctx, cmd) => {
  const username = nameArg(ctx, cmd, 'username', 'Username')
  if (username === undefined) return
  const groupname = nameArg(ctx, cmd, 'groupname', 'Group name')
  if (groupname === undefined) return
  const priority = getInt(cmd, 'priority', -1)
  const client = ctx.state.clients.get(username)
  // Mosquitto disconnects the client whatever the outcome
  ctx.kick(username)
  if (client === undefined) return ctx.reply('Client not found')
  if (!ctx.state.groups.has(groupname)) return ctx.reply('Group not found')
  const at = client.groups.findIndex((g) => g.name === groupname)
  if (add) {
    if (at !== -1) return ctx.reply('Client is already in this group')
    insertRef(client.groups, {name: groupname, priority})
  } else if (at !== -1) {
    client.groups.splice(at, 1)
  }
  ctx.changed()
  ctx.reply()
  ctx.log(`${add ? 'addGroupClient' : 'removeGroupClient'} | groupname=${groupname} | username=${username}${add ? ` | priority=${priority}` : ''}`)
}

const groupRole = (add: boolean): CommandHandler => (ctx, cmd) => {
  const groupname = nameArg(ctx, cmd, 'groupname', 'Group name')
  if (groupname === undefined) return
  const rolename = nameArg(ctx, cmd, 'rolename', 'Role name')
  if (rolename === undefined) return
  const priority = getInt(cmd, 'priority', -1)
  const group = ctx.state.groups.get(groupname)
  if (group === undefined) return ctx.reply('Group not found')
  if (!ctx.state.roles.has(rolename)) return ctx.reply('Role not found')
  const at = group.roles.findIndex((r) => r.name === rolename)
  if (add) {
    if (at !== -1) return ctx.reply('Group is already in this role')
    insertRef(group.roles, {name: rolename, priority})
  } else if (at !== -1) {
    group.roles.splice(at, 1)
  }
  ctx.changed()
  ctx.reply()
  ctx.kickGroup(groupname)
  ctx.log(`${add ? 'addGroupRole' : 'removeGroupRole'} | groupname=${groupname} | rolename=${rolename}${add ? ` | priority=${priority}` : ''}`)
}

const getGroup: CommandHandler = withGroup((ctx, _cmd, group) => {
  ctx.reply(undefined, {group: groupDetail(ctx, group)})
  ctx.log(`getGroup | groupname=${group.groupname}`)
})

const listGroups: CommandHandler = (ctx, cmd) => {
  const verbose = getBool(cmd, 'verbose', false)
  const all = sortedByName(ctx.state.groups)
  ctx.reply(undefined, {totalCount: all.length, groups: page(all, cmd).map((g) => verbose ? groupDetail(ctx, g) : g.groupname)})
  ctx.log(`listGroups | verbose=${verbose}`)
}

const modifyGroup: CommandHandler = withGroup((ctx, cmd, group) => {
  const roles = rolesArg(ctx, cmd)
  if (typeof roles === 'string') {
    ctx.kickGroup(group.groupname)
    return ctx.reply(roles)
  }
  const textname = item(cmd, 'textname')
  if (typeof textname === 'string') group.textname = textname
  const textdescription = item(cmd, 'textdescription')
  if (typeof textdescription === 'string') group.textdescription = textdescription
  if (roles !== undefined) group.roles = roles
  const clients = item(cmd, 'clients')
  if (Array.isArray(clients)) {
    for (const client of ctx.state.clients.values()) client.groups = client.groups.filter((g) => g.name !== group.groupname)
    for (const j of clients) {
      const username = optionalString(j, 'username')
      const client = typeof username === 'string' ? ctx.state.clients.get(username) : undefined
      if (client && !client.groups.some((g) => g.name === group.groupname)) insertRef(client.groups, {name: group.groupname, priority: getInt(j, 'priority', -1)})
    }
  }
  ctx.changed()
  ctx.reply()
  ctx.kickGroup(group.groupname)
  ctx.log(`modifyGroup | groupname=${group.groupname}`)
})

const setAnonymousGroup: CommandHandler = withGroup((ctx, _cmd, group) => {
  ctx.state.anonymousGroup = group.groupname
  ctx.changed()
  ctx.reply()
  ctx.kick(null)
  ctx.log(`setAnonymousGroup | groupname=${group.groupname}`)
})

const getAnonymousGroup: CommandHandler = (ctx) => {
  ctx.reply(undefined, {group: {groupname: ctx.state.anonymousGroup ?? ''}})
  ctx.log('getAnonymousGroup')
}

export const groupCommands: Record<string, CommandHandler> = {
  createGroup, deleteGroup, getGroup, listGroups, modifyGroup, setAnonymousGroup, getAnonymousGroup,
  addGroupClient: groupClient(true), removeGroupClient: groupClient(false),
  addGroupRole: groupRole(true), removeGroupRole: groupRole(false),
}
