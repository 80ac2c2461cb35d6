// One request on $CONTROL/dynamic-security/v1: {"commands":[...]} in, {"responses":[...]} out, each
// command answered in order, as the plugin's dynsec__handle_control does. Unknown commands, bad JSON
// and wrong types get the plugin's error strings; nothing here throws on hostile input.
import {clientCommands} from './clients.js'
import type {CommandContext, CommandHandler} from './context.js'
import {groupCommands} from './groups.js'
import {getString, isObject, item, optionalString, parseJson, type JsonObject} from './json.js'
import {roleCommands} from './roles.js'
import {DEFAULT_ACCESS_TYPES, type DynsecState} from './types.js'

export interface ControlOutcome {
  /** The response payload. */
  response: string
  /** The configuration changed and must be saved. */
  changed: boolean
  /** User names to disconnect (null: the anonymous clients). */
  kicks: Set<string | null>
}

export interface ControlEnv {
  state: DynsecState
  hashPassword: CommandContext['hashPassword']
  log(line: string): void
}

const setDefaultACLAccess: CommandHandler = (ctx, cmd) => {
  const acls = item(cmd, 'acls')
  if (!Array.isArray(acls)) return ctx.reply('Missing/invalid actions array')
  for (const j of acls) {
    const type = item(j, 'acltype')
    const allow = item(j, 'allow')
    if (typeof type !== 'string' || typeof allow !== 'boolean') continue
    const known = DEFAULT_ACCESS_TYPES.find((t) => t.toLowerCase() === type.toLowerCase())
    if (known) ctx.state.defaultAccess[known] = allow
    ctx.log(`setDefaultACLAccess | acltype=${type} | allow=${allow}`)
  }
  ctx.changed()
  ctx.reply()
}

const getDefaultACLAccess: CommandHandler = (ctx) => {
  ctx.reply(undefined, {acls: DEFAULT_ACCESS_TYPES.map((acltype) => ({acltype, allow: ctx.state.defaultAccess[acltype]}))})
  ctx.log('getDefaultACLAccess')
}

const HANDLERS: Record<string, CommandHandler> = {setDefaultACLAccess, getDefaultACLAccess, ...clientCommands, ...groupCommands, ...roleCommands}
const BY_LOWER = new Map(Object.entries(HANDLERS).map(([name, h]) => [name.toLowerCase(), {name, h}]))

export function handleControl(env: ControlEnv, payload: Buffer): ControlOutcome {
  const responses: JsonObject[] = []
  const outcome: ControlOutcome = {response: '', changed: false, kicks: new Set()}
  const done = () => {
    outcome.response = JSON.stringify({responses})
    return outcome
  }
  let tree: unknown
  try {
    tree = parseJson(payload.toString('utf8'))
  } catch {
    responses.push({command: 'Unknown command', error: 'Payload not valid JSON'})
    return done()
  }
  const commands = item(tree, 'commands')
  if (!Array.isArray(commands)) {
    responses.push({command: 'Unknown command', error: 'Invalid/missing commands'})
    return done()
  }
  // the plugin's correlation_data variable lives across commands: a command without a name, or that is
  // not an object, is answered with the correlationData of the command before it
  let correlation: string | undefined
  for (const cmd of commands) {
    if (!isObject(cmd)) {
      responses.push(answer('Unknown command', 'Command not an object', undefined, correlation))
      continue
    }
    const name = getString(cmd, 'command')
    if (name === undefined) {
      responses.push(answer('Unknown command', 'Missing command', undefined, correlation))
      continue
    }
    const given = optionalString(cmd, 'correlationData')
    if (given === null) {
      // the plugin stops at this command: later ones are not run
      responses.push({command: name, error: 'Invalid correlationData data type.'})
      break
    }
    const correlationData = given
    correlation = given
    const found = BY_LOWER.get(name.toLowerCase())
    if (found === undefined) {
      responses.push(answer(name, 'Unknown command', undefined, correlationData))
      continue
    }
    found.h(context(env, outcome, (error, data) => responses.push(answer(found.name, error, data, correlationData))), cmd)
  }
  return done()
}

function answer(command: string, error?: string, data?: JsonObject, correlationData?: string): JsonObject {
  const out: JsonObject = {command}
  if (error !== undefined) out.error = error
  if (data !== undefined) out.data = data
  if (correlationData !== undefined) out.correlationData = correlationData
  return out
}

function context(env: ControlEnv, outcome: ControlOutcome, reply: CommandContext['reply']): CommandContext {
  const {state} = env
  let replied = false
  return {
    state,
    reply(error, data) {
      if (replied) return
      replied = true
      reply(error, data)
    },
    changed() { outcome.changed = true },
    kick(username) { outcome.kicks.add(username) },
    kickGroup(groupname) {
      if (state.anonymousGroup === groupname) outcome.kicks.add(null)
      for (const c of state.clients.values()) if (c.groups.some((g) => g.name === groupname)) outcome.kicks.add(c.username)
    },
    log: env.log,
    hashPassword: env.hashPassword,
  }
}
