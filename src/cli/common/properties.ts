// `-D COMMAND NAME VALUE`: MQTT v5 properties by mosquitto's names, checked for the packet they go in.
import {CliError, ExitCode} from './exit-codes.js'

export type PropertyCommand = 'connect' | 'publish' | 'subscribe' | 'unsubscribe' | 'disconnect' | 'will'
export type PropertySet = Record<string, unknown> & {userProperties?: Record<string, string | string[]>}
export type Properties = Record<PropertyCommand, PropertySet | undefined>

type Kind = 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'binary'

interface Spec { key: string; kind: Kind; commands: PropertyCommand[] }

const PUBLISH_LIKE: PropertyCommand[] = ['publish', 'will']
const SPECS: Record<string, Spec> = {
  'payload-format-indicator': {key: 'payloadFormatIndicator', kind: 'byte', commands: PUBLISH_LIKE},
  'message-expiry-interval': {key: 'messageExpiryInterval', kind: 'u32', commands: PUBLISH_LIKE},
  'content-type': {key: 'contentType', kind: 'string', commands: PUBLISH_LIKE},
  'response-topic': {key: 'responseTopic', kind: 'string', commands: PUBLISH_LIKE},
  'correlation-data': {key: 'correlationData', kind: 'binary', commands: PUBLISH_LIKE},
  'topic-alias': {key: 'topicAlias', kind: 'u16', commands: ['publish']},
  'subscription-identifier': {key: 'subscriptionIdentifier', kind: 'varint', commands: ['subscribe']},
  'session-expiry-interval': {key: 'sessionExpiryInterval', kind: 'u32', commands: ['connect', 'disconnect']},
  'authentication-method': {key: 'authenticationMethod', kind: 'string', commands: ['connect']},
  'authentication-data': {key: 'authenticationData', kind: 'binary', commands: ['connect']},
  'request-problem-information': {key: 'requestProblemInformation', kind: 'byte', commands: ['connect']},
  'request-response-information': {key: 'requestResponseInformation', kind: 'byte', commands: ['connect']},
  'receive-maximum': {key: 'receiveMaximum', kind: 'u16', commands: ['connect']},
  'topic-alias-maximum': {key: 'topicAliasMaximum', kind: 'u16', commands: ['connect']},
  'maximum-packet-size': {key: 'maximumPacketSize', kind: 'u32', commands: ['connect']},
  'will-delay-interval': {key: 'willDelayInterval', kind: 'u32', commands: ['will']},
  'reason-string': {key: 'reasonString', kind: 'string', commands: ['disconnect']},
  'user-property': {key: 'userProperties', kind: 'string', commands: ['connect', 'publish', 'subscribe', 'unsubscribe', 'disconnect', 'will']},
}
const COMMANDS = new Set<string>(['connect', 'publish', 'subscribe', 'unsubscribe', 'disconnect', 'will'])

const usage = (message: string) => new CliError(`-D: ${message}`, ExitCode.Usage)

/** Groups the raw -D tokens (COMMAND NAME VALUE, or COMMAND user-property KEY VALUE) into property sets. */
export function parseProperties(tokens: string[] = []): Properties {
  const out: Properties = {connect: undefined, publish: undefined, subscribe: undefined, unsubscribe: undefined, disconnect: undefined, will: undefined}
  let i = 0
  while (i < tokens.length) {
    const command = tokens[i].toLowerCase()
    const name = tokens[i + 1]
    if (command === 'auth') throw usage('AUTH properties are not supported')
    if (!COMMANDS.has(command)) throw usage(`'${tokens[i]}' is not a packet (use connect, publish, subscribe, unsubscribe, disconnect or will)`)
    if (name === undefined) throw usage(`'${command}' needs a property name and a value`)
    const spec = SPECS[name.toLowerCase()]
    if (!spec) throw usage(`'${name}' is not a property name`)
    const set = out[command as PropertyCommand] ??= {}
    if (!spec.commands.includes(command as PropertyCommand)) throw usage(`'${name}' is not allowed in ${command.toUpperCase()}`)
    if (spec.key === 'userProperties') {
      const key = tokens[i + 2]
      const value = tokens[i + 3]
      if (key === undefined || value === undefined) throw usage(`'${command} user-property' needs a key and a value`)
      const users = set.userProperties ??= {}
      const prev = users[key]
      users[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value]
      i += 4
      continue
    }
    const value = tokens[i + 2]
    if (value === undefined) throw usage(`'${command} ${name}' needs a value`)
    if (spec.key in set) throw usage(`'${name}' given twice for ${command.toUpperCase()}`)
    set[spec.key] = convert(name, spec.kind, value)
    i += 3
  }
  return out
}

function convert(name: string, kind: Kind, value: string): unknown {
  switch (kind) {
    case 'string': return value
    case 'binary': return Buffer.from(value)
    default: {
      const max = {byte: 1, u16: 65_535, u32: 4_294_967_295, varint: 268_435_455}[kind]
      const min = kind === 'varint' || kind === 'u16' && name !== 'topic-alias' ? 1 : 0
      const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
      if (!(n >= min && n <= max) || (name === 'topic-alias' && n === 0)) {
        throw usage(`'${value}' is not a valid ${name} (an integer from ${name === 'topic-alias' ? 1 : min} to ${max})`)
      }
      return kind === 'byte' ? n === 1 : n
    }
  }
}
