// Mosquitto's configuration file (mosquitto.conf(5), 2.0), read for the options midge supports, so a
// user can point `midge broker start -c` at an existing Mosquitto configuration. Pure: the text comes
// in, a typed config and warnings come out; `include_dir` reads through an injected function.
// Unknown options and options midge does not implement are warnings with their line; an invalid value
// is an error with its line, and every error of the file is reported at once.

import {addConfPlugin, addConfPluginOption, type ConfPlugin} from './conf-plugins.js'
import {hostname} from 'node:os'
import {bool, int, oneToken, parseDuration, text, ValueError} from './conf-values.js'
import {BRIDGE_SETTERS, BridgeOptionWarning, bridgeProblems, isBridgeOption, newConfBridge, type ConfBridge} from './mosquitto-bridge.js'

export type {ConfBridge} from './mosquitto-bridge.js'

/** One `listener` (or the default listener of `port`/`bind_address` and the options before any listener). */
export interface ConfListener {
  /** Where the listener was defined: `FILE:LINE`. */
  origin: string
  port: number
  /** Bind address (undefined: every address, as in Mosquitto). */
  host?: string
  protocol: 'mqtt' | 'websockets'
  /** -1 or undefined: unlimited. */
  maxConnections?: number
  maxQos?: 0 | 1 | 2
  maxTopicAlias?: number
  socketDomain?: 'ipv4' | 'ipv6'
  /** TLS settings (paths as written; relative paths are relative to the working directory, as in Mosquitto). */
  cafile?: string
  capath?: string
  certfile?: string
  keyfile?: string
  crlfile?: string
  requireCertificate?: boolean
  useIdentityAsUsername?: boolean
  useSubjectAsUsername?: boolean
  tlsVersion?: 'TLSv1.2' | 'TLSv1.3'
  ciphers?: string
  ciphersTls13?: string
  /** A topic prefix for this listener's clients (mount_point). */
  mountPoint?: string
  /** With per_listener_settings true: this listener's authentication and client id options. */
  security?: ListenerSecurity
  /** Mosquitto 2.1's listener_allow_anonymous: overrides allow_anonymous for this listener. */
  allowAnonymous?: boolean
  /** Mosquitto 2.1's listener_auto_id_prefix. */
  autoIdPrefix?: string
}

/** What per_listener_settings true scopes to a listener (Mosquitto 2.0's list, plugins and PSK aside). */
export interface ListenerSecurity {
  passwordFile?: string
  aclFile?: string
  allowAnonymous?: boolean
  allowZeroLengthClientId?: boolean
  autoIdPrefix?: string
}

const PER_LISTENER_SECURITY: Record<string, {key: keyof ListenerSecurity; parse: (args: string) => string | boolean}> = {
  password_file: {key: 'passwordFile', parse: text},
  acl_file: {key: 'aclFile', parse: text},
  allow_anonymous: {key: 'allowAnonymous', parse: bool},
  allow_zero_length_clientid: {key: 'allowZeroLengthClientId', parse: bool},
  auto_id_prefix: {key: 'autoIdPrefix', parse: text},
}

export type LogDest = {kind: 'stderr' | 'stdout' | 'none'} | {kind: 'file'; path: string}
export const LOG_TYPES = ['debug', 'error', 'warning', 'notice', 'information', 'subscribe', 'unsubscribe', 'websockets', 'none', 'all'] as const
export type LogType = (typeof LOG_TYPES)[number]

/** The options midge takes from a mosquitto.conf; absent fields were not in the file. */
export interface MosquittoConfig {
  listeners: ConfListener[]
  /** per_listener_settings true: authentication and client id options are each listener's (ConfListener.security). */
  perListenerSettings?: boolean
  allowAnonymous?: boolean
  passwordFile?: string
  aclFile?: string
  persistence?: boolean
  persistenceLocation?: string
  persistenceFile?: string
  autosaveInterval?: number
  /** Seconds (Mosquitto writes `2h`, `14d`, `1y`...). */
  persistentClientExpiration?: number
  messageSizeLimit?: number
  maxPacketSize?: number
  maxInflightMessages?: number
  maxInflightBytes?: number
  upgradeOutgoingQos?: boolean
  maxQueuedMessages?: number
  maxQueuedBytes?: number
  maxKeepalive?: number
  sysInterval?: number
  allowZeroLengthClientId?: boolean
  autoIdPrefix?: string
  retainAvailable?: boolean
  logDest?: LogDest[]
  logType?: LogType[]
  logTimestamp?: boolean
  connectionMessages?: boolean
  /** `plugin` lines in order, each with its `plugin_opt_*` options. */
  plugins?: ConfPlugin[]
  /** Mosquitto's Dynamic Security plugin (a `plugin` line whose file name has `dynamic_security`): its plugin_opt_config_file. */
  dynsecFile?: string
  /** The `connection` sections, in order (see mosquitto-bridge.ts). */
  bridges?: ConfBridge[]
}

export interface ConfDiagnostic {
  file: string
  line: number
  message: string
}

export class MosquittoConfError extends Error {
  constructor(readonly errors: ConfDiagnostic[]) {
    super(errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n'))
    this.name = 'MosquittoConfError'
  }
}

export interface ParseOptions {
  /** The file name used in diagnostics. */
  source?: string
  /** Reads the `*.conf` files of an include_dir, in the order Mosquitto reads them (sorted by name). */
  readDir?: (dir: string) => Array<{path: string; text: string}>
}

export interface ParseResult {
  config: MosquittoConfig
  warnings: ConfDiagnostic[]
}

type Scope = 'global' | 'listener'
type Setter = (args: string, ctx: Ctx) => void

interface Ctx {
  file: string
  line: number
  config: MosquittoConfig
  listener: ConfListener
  error(message: string): void
  warn(message: string): void
}

export {parseDuration} from './conf-values.js'

// --- options -----------------------------------------------------------------------------------------

/** Sets a global field once; a second value is an error, as in Mosquitto ("Duplicate ... value"). */
function once<K extends keyof MosquittoConfig>(key: K, parse: (args: string) => MosquittoConfig[K], name: string): Setter {
  return (args, ctx) => {
    if (ctx.config[key] !== undefined) throw new ValueError(`duplicate ${name} value`)
    ctx.config[key] = parse(args)
  }
}

/** Sets a global field; a later value replaces an earlier one. */
function global<K extends keyof MosquittoConfig>(key: K, parse: (args: string) => MosquittoConfig[K]): Setter {
  return (args, ctx) => { ctx.config[key] = parse(args) }
}

function perListener<K extends keyof ConfListener>(key: K, parse: (args: string) => ConfListener[K], name: string): Setter {
  return (args, ctx) => {
    if (ctx.listener[key] !== undefined) throw new ValueError(`duplicate ${name} value for this listener`)
    ctx.listener[key] = parse(args)
  }
}

const OPTIONS: Record<string, {scope: Scope; set: Setter}> = {
  // authentication and access
  allow_anonymous: {scope: 'global', set: global('allowAnonymous', bool)},
  password_file: {scope: 'global', set: once('passwordFile', text, 'password_file')},
  acl_file: {scope: 'global', set: once('aclFile', text, 'acl_file')},
  allow_zero_length_clientid: {scope: 'global', set: global('allowZeroLengthClientId', bool)},
  auto_id_prefix: {scope: 'global', set: global('autoIdPrefix', text)},
  // read before the rest of the file (parseMosquittoConf), as Mosquitto does: it decides where the others go
  per_listener_settings: {scope: 'global', set: (args) => { bool(args) }},
  // persistence
  persistence: {scope: 'global', set: global('persistence', bool)},
  persistence_location: {scope: 'global', set: global('persistenceLocation', text)},
  persistence_file: {scope: 'global', set: global('persistenceFile', text)},
  autosave_interval: {scope: 'global', set: global('autosaveInterval', (a) => int(a, 0))},
  persistent_client_expiration: {scope: 'global', set: global('persistentClientExpiration', (a) => parseDuration(oneToken(a)))},
  // limits
  // 0: no limit (Mosquitto 2.0's default for both)
  message_size_limit: {scope: 'global', set: global('messageSizeLimit', (a) => int(a, 0, 268_435_455))},
  max_packet_size: {scope: 'global', set: global('maxPacketSize', (a) => {
    const n = int(a, 0, 268_435_460)
    if (n > 0 && n < 20) throw new ValueError(`${n} is below the minimum of 20`)
    return n
  })},
  max_inflight_messages: {scope: 'global', set: global('maxInflightMessages', (a) => int(a, 0, 65_535))},
  max_inflight_bytes: {scope: 'global', set: global('maxInflightBytes', (a) => int(a, 0))},
  upgrade_outgoing_qos: {scope: 'global', set: global('upgradeOutgoingQos', bool)},
  max_queued_messages: {scope: 'global', set: global('maxQueuedMessages', (a) => int(a, 0))},
  max_queued_bytes: {scope: 'global', set: global('maxQueuedBytes', (a) => int(a, 0))},
  max_keepalive: {scope: 'global', set: global('maxKeepalive', (a) => int(a, 10, 65_535))},
  retain_available: {scope: 'global', set: global('retainAvailable', bool)},
  sys_interval: {scope: 'global', set: global('sysInterval', (a) => int(a, 0, 65_535))},
  // logging
  log_dest: {scope: 'global', set: (args, ctx) => { (ctx.config.logDest ??= []).push(logDest(args)) }},
  log_type: {scope: 'global', set: (args, ctx) => {
    const t = oneToken(args)
    if (!(LOG_TYPES as readonly string[]).includes(t)) throw new ValueError(`unknown log_type '${t}' (${LOG_TYPES.join(', ')})`)
    ;(ctx.config.logType ??= []).push(t as LogType)
  }},
  log_timestamp: {scope: 'global', set: global('logTimestamp', bool)},
  connection_messages: {scope: 'global', set: global('connectionMessages', bool)},
  // listeners
  max_connections: {scope: 'listener', set: perListener('maxConnections', (a) => int(a, -1), 'max_connections')},
  max_qos: {scope: 'listener', set: perListener('maxQos', (a) => int(a, 0, 2) as 0 | 1 | 2, 'max_qos')},
  maximum_qos: {scope: 'listener', set: perListener('maxQos', (a) => int(a, 0, 2) as 0 | 1 | 2, 'maximum_qos')}, // Mosquitto's synonym
  max_topic_alias: {scope: 'listener', set: perListener('maxTopicAlias', (a) => int(a, 0, 65_535), 'max_topic_alias')},
  protocol: {scope: 'listener', set: (args, ctx) => {
    const p = oneToken(args)
    if (p !== 'mqtt' && p !== 'websockets') throw new ValueError(`protocol must be mqtt or websockets, not '${p}'`)
    ctx.listener.protocol = p
  }},
  socket_domain: {scope: 'listener', set: perListener('socketDomain', (a) => {
    const d = oneToken(a)
    if (d !== 'ipv4' && d !== 'ipv6') throw new ValueError(`socket_domain must be ipv4 or ipv6, not '${d}'`)
    return d
  }, 'socket_domain')},
  // Mosquitto 2.1: the listener's own, with or without per_listener_settings
  listener_allow_anonymous: {scope: 'listener', set: perListener('allowAnonymous', bool, 'listener_allow_anonymous')},
  listener_auto_id_prefix: {scope: 'listener', set: perListener('autoIdPrefix', text, 'listener_auto_id_prefix')},
  mount_point: {scope: 'listener', set: perListener('mountPoint', (a) => {
    const m = text(a)
    if (/[+#]/.test(m)) throw new ValueError(`mount_point must not contain + or # ('${m}')`)
    return m
  }, 'mount_point')},
  cafile: {scope: 'listener', set: perListener('cafile', text, 'cafile')},
  capath: {scope: 'listener', set: perListener('capath', text, 'capath')},
  certfile: {scope: 'listener', set: perListener('certfile', text, 'certfile')},
  keyfile: {scope: 'listener', set: perListener('keyfile', text, 'keyfile')},
  crlfile: {scope: 'listener', set: perListener('crlfile', text, 'crlfile')},
  require_certificate: {scope: 'listener', set: perListener('requireCertificate', bool, 'require_certificate')},
  use_identity_as_username: {scope: 'listener', set: perListener('useIdentityAsUsername', bool, 'use_identity_as_username')},
  use_subject_as_username: {scope: 'listener', set: perListener('useSubjectAsUsername', bool, 'use_subject_as_username')},
  ciphers: {scope: 'listener', set: perListener('ciphers', text, 'ciphers')},
  'ciphers_tls1.3': {scope: 'listener', set: perListener('ciphersTls13', text, 'ciphers_tls1.3')},
  tls_version: {scope: 'listener', set: (args, ctx) => {
    const v = oneToken(args)
    if (v === 'tlsv1.3') ctx.listener.tlsVersion = 'TLSv1.3'
    else if (v === 'tlsv1.2') ctx.listener.tlsVersion = 'TLSv1.2'
    else if (v === 'tlsv1.1') ctx.warn('tls_version tlsv1.1 is not supported: TLS 1.2 is the lowest version midge accepts')
    else throw new ValueError(`tls_version must be tlsv1.3, tlsv1.2 or tlsv1.1, not '${v}'`)
  }},
}

/** Options of Mosquitto that midge knows but does not implement: a warning, not an unknown-option warning. */
const IGNORED: Record<string, string> = {
  autosave_on_changes: 'persistence is saved by the store, not on a change count',
  bind_interface: 'bind to an address instead',
  check_retain_source: 'not implemented',
  clientid_prefixes: 'not implemented',
  dhparamfile: 'Node chooses the key exchange',
  http_dir: 'midge serves no files',
  memory_limit: 'not implemented',
  pid_file: 'not implemented',
  psk_file: 'TLS-PSK is not supported',
  psk_hint: 'TLS-PSK is not supported',
  queue_qos0_messages: 'QoS 0 messages are never queued for offline clients',
  set_tcp_nodelay: 'Nagle\'s algorithm is always off',
  use_username_as_clientid: 'not implemented',
  user: 'midge does not change user: run it as the user it should run as',
  websockets_headers_size: 'not needed',
  websockets_log_level: 'not needed',
  log_facility: 'syslog is not supported',
  log_timestamp_format: 'the log format is pino\'s',
  auth_plugin: 'plugins are not supported',
  global_plugin: 'plugins are not supported',
  allow_duplicate_messages: 'duplicates are always delivered',
  tls_engine: 'not supported',
  tls_keyform: 'not supported',
  tls_engine_kpass_sha1: 'not supported',
}

function logDest(args: string): LogDest {
  const [kind, ...rest] = args.split(/\s+/)
  const path = rest.join(' ')
  switch (kind) {
    case 'stderr': case 'stdout': case 'none':
      if (path !== '') throw new ValueError(`log_dest ${kind} takes no argument`)
      return {kind}
    case 'file':
      if (path === '') throw new ValueError('log_dest file needs a path')
      return {kind, path}
    case 'syslog': case 'topic': case 'dlt':
      throw new UnsupportedValue(`log_dest ${kind} is not supported (stderr, stdout, file or none)`)
    default:
      throw new ValueError(`unknown log_dest '${kind}' (stderr, stdout, file, syslog, topic, dlt or none)`)
  }
}

/** A valid Mosquitto value that midge does not implement: a warning. */
class UnsupportedValue extends Error {}

// --- the parser ------------------------------------------------------------------------------------

/** Parses a mosquitto.conf. Throws MosquittoConfError (every error, with its line) when a value is invalid. */
export function parseMosquittoConf(source: string, options: ParseOptions = {}): ParseResult {
  const config: MosquittoConfig = {listeners: []}
  const warnings: ConfDiagnostic[] = []
  const errors: ConfDiagnostic[] = []
  const file0 = options.source ?? 'mosquitto.conf'
  // options before any `listener` belong to the default listener, which exists when one is set
  const defaultListener: ConfListener = {origin: `${file0}:1`, port: 1883, protocol: 'mqtt'}
  let defaultUsed = false
  let current: ConfListener = defaultListener
  let portSeen = false
  // the plugin the next plugin_opt_* lines belong to: Dynamic Security (handled here) or another one
  let plugin: 'dynsec' | 'other' | undefined
  let dynsecLine: ConfDiagnostic | undefined
  if (/^[ \t]*per_listener_settings[ \t]+true[ \t]*$/m.test(source)) config.perListenerSettings = true
  // as in Mosquitto, a bridge section runs until the next `connection` (a `listener` line does not end it)
  let bridge: ConfBridge | undefined

  const parseText = (input: string, file: string, depth: number): void => {
    const lines = input.split(/\r?\n/)
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim()
      if (line === '' || line.startsWith('#')) continue
      const space = line.search(/\s/)
      const name = space < 0 ? line : line.slice(0, space)
      const args = space < 0 ? '' : line.slice(space + 1).trim()
      const at = {file, line: i + 1}
      const ctx: Ctx = {
        ...at, config, listener: current,
        error: (message) => errors.push({...at, message}),
        warn: (message) => warnings.push({...at, message}),
      }
      try {
        if (name === 'listener') {
          current = newListener(args, `${file}:${i + 1}`)
          config.listeners.push(current)
          continue
        }
        if (name === 'port' || name === 'bind_address') {
          ctx.warn(`${name} is deprecated in Mosquitto 2: use a listener line`)
          if (name === 'port') defaultListener.port = int(args, 1, 65_535)
          else defaultListener.host = oneToken(args)
          defaultUsed = portSeen = true
          continue
        }
        if (name === 'connection') {
          bridge = newConfBridge(args, `${file}:${i + 1}`, config.bridges ?? [])
          ;(config.bridges ??= []).push(bridge)
          continue
        }
        const bridgeSetter = BRIDGE_SETTERS[name]
        if (bridge !== undefined && bridgeSetter !== undefined) {
          bridgeSetter(args, bridge)
          continue
        }
        if (name === 'include_dir') {
          if (depth > 0) throw new ValueError('include_dir inside an included file is not allowed')
          if (options.readDir === undefined) { ctx.warn('include_dir is not supported here: ignored'); continue }
          for (const f of options.readDir(text(args))) parseText(f.text, f.path, depth + 1)
          continue
        }
        if (name === 'plugin' || name === 'auth_plugin' || name === 'global_plugin') {
          plugin = /dynamic_security[^/]*$/.test(text(args)) ? 'dynsec' : 'other'
          if (plugin === 'dynsec') { dynsecLine ??= {...at, message: ''}; continue }
        }
        if (name === 'plugin_opt_config_file' && plugin === 'dynsec') {
          if (config.dynsecFile !== undefined) throw new ValueError('duplicate plugin_opt_config_file for the dynamic security plugin')
          config.dynsecFile = text(args)
          continue
        }
        if (name.startsWith('plugin_opt_') && plugin === 'dynsec') {
          ctx.warn(`${name} is not an option of midge's Dynamic Security (plugin_opt_config_file is): ignored`)
          continue
        }
        const scoped = config.perListenerSettings ? PER_LISTENER_SECURITY[name] : undefined
        if (scoped !== undefined) {
          if (current === defaultListener && !portSeen) {
            throw new ValueError(`with per_listener_settings true, ${name} belongs to a listener: put it after a listener (or port) line`)
          }
          const security = (current.security ??= {})
          if (security[scoped.key] !== undefined && (name === 'password_file' || name === 'acl_file')) throw new ValueError(`duplicate ${name} value for this listener`)
          ;(security as Record<string, unknown>)[scoped.key] = scoped.parse(args)
          continue
        }
        const option = OPTIONS[name]
        if (option !== undefined) {
          if (option.scope === 'listener' && current === defaultListener) defaultUsed = true
          option.set(args, ctx)
          continue
        }
        if (name === 'plugin') { addConfPlugin(config.plugins ??= [], args, `${file}:${i + 1}`); continue }
        if (name.startsWith('plugin_opt_')) { addConfPluginOption(config.plugins ??= [], name.slice(11), args); continue }
        if (name in IGNORED || name.startsWith('auth_opt_')) {
          const why = IGNORED[name] ?? 'plugins are not supported'
          ctx.warn(`${name} is not supported by midge and is ignored${why ? `: ${why}` : ''}`)
          continue
        }
        if (bridge !== undefined && name.startsWith('bridge_')) {
          ctx.warn(`${name} is not supported by midge and is ignored (bridge ${bridge.name})`)
          continue
        }
        if (isBridgeOption(name)) throw new ValueError('a bridge option outside a bridge: it belongs after a `connection NAME` line')
        ctx.warn(`unknown option '${name}': ignored`)
      } catch (error) {
        if (error instanceof UnsupportedValue || error instanceof BridgeOptionWarning) ctx.warn(error.message)
        else if (error instanceof ValueError) ctx.error(`${name}: ${error.message}`)
        else throw error
      }
    }
  }

  parseText(source, file0, 0)
  if (dynsecLine !== undefined && config.dynsecFile === undefined) {
    warnings.push({...dynsecLine, message: 'the dynamic security plugin has no plugin_opt_config_file: it is not activated (as in Mosquitto)'})
  }
  if (defaultUsed) config.listeners.unshift(defaultListener)
  for (const l of config.listeners) checkListener(l, errors)
  for (const b of config.bridges ?? []) {
    const [file, line] = splitOrigin(b.origin)
    for (const message of bridgeProblems(b, config.bridges!, hostname())) errors.push({file, line, message})
  }
  if (errors.length > 0) throw new MosquittoConfError(errors)
  return {config, warnings}
}

function newListener(args: string, origin: string): ConfListener {
  const [portText, ...rest] = args.split(/\s+/).filter(Boolean)
  if (portText === undefined) throw new ValueError('a port is required')
  const port = int(portText, 0, 65_535)
  if (rest.length > 1) throw new ValueError(`expected a port and an optional bind address, got '${args}'`)
  const host = rest[0]
  // Mosquitto: port 0 and a path is a unix socket; midge: port 0 and no path is any free port
  if (port === 0 && host !== undefined && host.includes('/')) throw new ValueError('unix socket listeners are not supported')
  return {origin, port, host, protocol: 'mqtt'}
}

/** What Mosquitto refuses to start with, per listener. */
function checkListener(l: ConfListener, errors: ConfDiagnostic[]): void {
  const [file, line] = splitOrigin(l.origin)
  const error = (message: string) => errors.push({file, line, message: `listener ${l.port}: ${message}`})
  const tls = l.certfile !== undefined || l.keyfile !== undefined
  if (tls && (l.certfile === undefined || l.keyfile === undefined)) error('certfile and keyfile go together')
  if (!tls && (l.cafile !== undefined || l.capath !== undefined || l.requireCertificate)) {
    error('cafile, capath and require_certificate need certfile and keyfile')
  }
  if (l.requireCertificate && l.cafile === undefined && l.capath === undefined) error('require_certificate needs cafile or capath')
  if ((l.useIdentityAsUsername || l.useSubjectAsUsername) && !l.requireCertificate) {
    error('use_identity_as_username and use_subject_as_username need require_certificate true')
  }
}

function splitOrigin(origin: string): [string, number] {
  const at = origin.lastIndexOf(':')
  return [origin.slice(0, at), Number(origin.slice(at + 1))]
}

/** The pino level closest to a set of Mosquitto log types (Mosquitto's default: error, warning, notice, information). */
export function logLevelFor(types: readonly LogType[] | undefined): 'debug' | 'info' | 'warn' | 'error' | 'silent' | undefined {
  if (types === undefined || types.length === 0) return undefined
  const set = new Set(types)
  if (set.has('all') || set.has('debug') || set.has('subscribe') || set.has('unsubscribe') || set.has('websockets')) return 'debug'
  if (set.has('information') || set.has('notice')) return 'info'
  if (set.has('warning')) return 'warn'
  if (set.has('error')) return 'error'
  return 'silent'
}
