// How `midge ctrl dynsec` prints an answer for people: mosquitto_ctrl's layout, line for line
// (apps/mosquitto_ctrl/dynsec.c), so that scripts parsing its output keep working.

type Json = Record<string, unknown>

const str = (v: unknown): v is string => typeof v === 'string'
const arr = (v: unknown): unknown[] => Array.isArray(v) ? v : []
const obj = (v: unknown): Json => typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Json : {}
const prio = (v: unknown) => ` (priority: ${typeof v === 'number' ? Math.trunc(v) : -1})`

/** The text for a successful answer ('' when mosquitto_ctrl prints nothing). */
export function formatAnswer(response: Json): string {
  const data = obj(response.data)
  const lines: string[] = []
  switch (response.command) {
    case 'listClients': return list(data.clients, 'username')
    case 'listGroups': return list(data.groups, 'groupname')
    case 'listRoles': return list(data.roles, 'rolename')
    case 'getClient': {
      const c = obj(data.client)
      lines.push(`Username: ${c.username}`, `Clientid:${str(c.clientid) ? ` ${c.clientid}` : ''}`)
      if (typeof c.disabled === 'boolean') lines.push(`Disabled: ${c.disabled}`)
      roles(lines, c.roles, 'Username:'.length)
      refs(lines, c.groups, 'groupname', 'Groups:   ', '          ', true)
      break
    }
    case 'getGroup': {
      const g = obj(data.group)
      lines.push(`Groupname: ${g.groupname}`)
      roles(lines, g.roles, 'Groupname:'.length)
      refs(lines, g.clients, 'username', 'Clients:   ', '           ', false)
      break
    }
    case 'getRole': {
      const r = obj(data.role)
      lines.push(`Rolename: ${r.rolename}`)
      arr(r.acls).forEach((a, i) => {
        const acl = obj(a)
        const allow = typeof acl.allow === 'boolean' ? ` : ${acl.allow ? 'allow' : 'deny '}` : ''
        lines.push(`${i === 0 ? 'ACLs:     ' : '          '}${String(acl.acltype).padEnd(20)}${allow}${str(acl.topic) ? ` : ${acl.topic}` : ''}${prio(acl.priority)}`)
      })
      break
    }
    case 'getDefaultACLAccess':
      for (const a of arr(data.acls)) lines.push(`${String(obj(a).acltype).padEnd(20)} : ${obj(a).allow ? 'allow' : 'deny'}`)
      break
    case 'getAnonymousGroup':
      lines.push(String(obj(data.group).groupname))
      break
    default:
      return ''
  }
  return lines.map((l) => `${l}\n`).join('')
}

function list(items: unknown, key: string): string {
  return arr(items).map((v) => `${str(v) ? v : obj(v)[key]}\n`).join('')
}

function roles(lines: string[], list: unknown, width: number): void {
  arr(list).forEach((r, i) => lines.push(`${(i === 0 ? 'Roles:' : '').padEnd(width)} ${obj(r).rolename}${prio(obj(r).priority)}`))
}

function refs(lines: string[], list: unknown, key: string, first: string, next: string, withPriority: boolean): void {
  arr(list).forEach((r, i) => lines.push(`${i === 0 ? first : next}${obj(r)[key]}${withPriority ? prio(obj(r).priority) : ''}`))
}
