// `midge ctrl dynsec <command> ...`: mosquitto_ctrl's dynsec subcommands and arguments, turned into the
// JSON command the plugin's API takes (apps/mosquitto_ctrl/dynsec*.c, Mosquitto 2.0). Argument order
// and optional parts are mosquitto_ctrl's, so that a provisioning script runs unchanged.
import {CliError, ExitCode} from '../common/exit-codes.js'

type Json = Record<string, unknown>

/** The new password for `username` when the command line has none; undefined: none given (createClient only). */
export type PasswordAsk = (username: string, optional: boolean) => Promise<string | undefined>

const ACL_TYPES = ['publishClientSend', 'publishClientReceive', 'subscribeLiteral', 'subscribePattern', 'unsubscribeLiteral', 'unsubscribePattern']
const DEFAULT_TYPES = ['publishClientSend', 'publishClientReceive', 'subscribe', 'unsubscribe']

/** One-line usage of each command, as `mosquitto_ctrl dynsec help` prints it. */
export const USAGE: Record<string, string> = {
  getDefaultACLAccess: '',
  setDefaultACLAccess: '<acltype> allow|deny',
  getAnonymousGroup: '',
  setAnonymousGroup: '<groupname>',
  createClient: '<username> [-c clientid] [-p password]',
  deleteClient: '<username>',
  setClientPassword: '<username> [password]',
  setClientId: '<username> [clientid]',
  addClientRole: '<username> <rolename> [priority]',
  removeClientRole: '<username> <rolename>',
  getClient: '<username>',
  listClients: '[count [offset]]',
  enableClient: '<username>',
  disableClient: '<username>',
  createGroup: '<groupname>',
  deleteGroup: '<groupname>',
  addGroupRole: '<groupname> <rolename> [priority]',
  removeGroupRole: '<groupname> <rolename>',
  addGroupClient: '<groupname> <username> [priority]',
  removeGroupClient: '<groupname> <username>',
  getGroup: '<groupname>',
  listGroups: '[count [offset]]',
  createRole: '<rolename>',
  deleteRole: '<rolename>',
  addRoleACL: '<rolename> <acltype> <topicFilter> allow|deny [priority]',
  removeRoleACL: '<rolename> <acltype> <topicFilter>',
  getRole: '<rolename>',
  listRoles: '[count [offset]]',
}

const BY_LOWER = new Map(Object.keys(USAGE).map((name) => [name.toLowerCase(), name]))

/** The canonical name of a command (mosquitto_ctrl matches them without regard to case). */
export function commandName(given: string): string | undefined {
  return BY_LOWER.get(given.toLowerCase())
}

/** atoi(): leading digits (with a sign), 0 when none. */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s)
  return m ? Math.max(-2147483648, Math.min(2147483647, Number(m[1]))) : 0
}

function bad(name: string, why?: string): CliError {
  return new CliError(`${why ? `${why}; ` : ''}usage: dynsec ${name} ${USAGE[name]}`.trim(), ExitCode.Usage)
}

/** The JSON command for `dynsec NAME ARGS...`. Throws CliError (exit 2) for arguments mosquitto_ctrl refuses. */
export async function buildCommand(given: string, args: string[], ask: PasswordAsk): Promise<Json> {
  const name = commandName(given)
  if (name === undefined) throw new CliError(`unknown dynsec command '${given}' (see \`midge ctrl dynsec help\`)`, ExitCode.Usage)
  const n = args.length
  const exactly = (...counts: number[]) => { if (!counts.includes(n)) throw bad(name) }
  const cmd: Json = {command: name}
  const priority = (i: number) => { if (n > i) { const p = atoi(args[i]); if (p !== -1) cmd.priority = p } }
  switch (name) {
    case 'getDefaultACLAccess': case 'getAnonymousGroup':
      return cmd
    case 'setDefaultACLAccess': {
      exactly(2)
      const type = DEFAULT_TYPES.find((t) => t.toLowerCase() === args[0].toLowerCase())
      if (type === undefined) throw bad(name, `acltype must be one of ${DEFAULT_TYPES.join(', ')}`)
      const access = args[1].toLowerCase()
      if (access !== 'allow' && access !== 'deny') throw bad(name, 'access must be "allow" or "deny"')
      // the plugin reads "allow" (a boolean); mosquitto_ctrl 2.0 sends "access", which it ignores
      return {...cmd, acls: [{acltype: type, allow: access === 'allow'}]}
    }
    case 'setAnonymousGroup': case 'createGroup': case 'deleteGroup': case 'getGroup':
      exactly(1)
      return {...cmd, groupname: args[0]}
    case 'deleteClient': case 'getClient': case 'enableClient': case 'disableClient':
      exactly(1)
      return {...cmd, username: args[0]}
    case 'createRole': case 'deleteRole': case 'getRole':
      exactly(1)
      return {...cmd, rolename: args[0]}
    case 'listClients': case 'listGroups': case 'listRoles': {
      exactly(0, 1, 2)
      const count = n > 0 ? atoi(args[0]) : -1
      const offset = n > 1 ? atoi(args[1]) : -1
      if (count > 0) cmd.count = count
      if (offset > 0) cmd.offset = offset
      return cmd
    }
    case 'createClient': {
      if (n === 0) throw bad(name)
      cmd.username = args[0]
      let password: string | undefined
      let given = false
      for (let i = 1; i < n; i++) {
        if (args[i] === '-c' || args[i] === '-p') {
          if (i + 1 === n) throw bad(name, `${args[i]} needs a value`)
          if (args[i] === '-c') cmd.clientid = args[i + 1]
          else { password = args[i + 1]; given = true }
          i++
        }
      }
      if (!given) password = await ask(args[0], true)
      if (password !== undefined) cmd.password = password
      return cmd
    }
    case 'setClientPassword': {
      exactly(1, 2)
      const password = n === 2 ? args[1] : await ask(args[0], false)
      return {...cmd, username: args[0], password}
    }
    case 'setClientId':
      exactly(1, 2)
      return n === 2 ? {...cmd, username: args[0], clientid: args[1]} : {...cmd, username: args[0]}
    case 'addClientRole': case 'removeClientRole':
      exactly(2, 3)
      Object.assign(cmd, {username: args[0], rolename: args[1]})
      priority(2)
      return cmd
    case 'addGroupRole': case 'removeGroupRole':
      exactly(2, 3)
      Object.assign(cmd, {groupname: args[0], rolename: args[1]})
      priority(2)
      return cmd
    case 'addGroupClient': case 'removeGroupClient':
      exactly(2, 3)
      Object.assign(cmd, {username: args[1], groupname: args[0]})
      priority(2)
      return cmd
    case 'addRoleACL': case 'removeRoleACL': {
      exactly(...(name === 'addRoleACL' ? [4, 5] : [3]))
      const type = ACL_TYPES.find((t) => t.toLowerCase() === args[1].toLowerCase())
      if (type === undefined) throw bad(name, `acltype must be one of ${ACL_TYPES.join(', ')}`)
      Object.assign(cmd, {rolename: args[0], acltype: type, topic: args[2]})
      if (name === 'removeRoleACL') return cmd
      const action = args[3].toLowerCase()
      if (action !== 'allow' && action !== 'deny') throw bad(name, 'the action must be "allow" or "deny"')
      cmd.allow = action === 'allow'
      priority(4)
      return cmd
    }
  }
  throw bad(name)
}
