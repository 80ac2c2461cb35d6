// Mosquitto's configuration file (mosquitto.conf(5), 2.0), read for the options midge supports, so a
// user can point `midge broker start -c` at an existing Mosquitto configuration. Pure: the text comes
// in, a typed config and warnings come out; `include_dir` reads through an injected function.
// Unknown options and options midge does not implement are warnings with their line; an invalid value
// is an error with its line, and every error of the file is reported at once.

import {addConfPlugin, addConfPluginOption} from './conf-plugins.js'
import {hostname} from 'node:os'
import {int, oneToken, text, ValueError} from './conf-values.js'
import {IGNORED, OPTIONS, PER_LISTENER_SECURITY, UnsupportedValue} from './conf-options.js'
import {MosquittoConfError, type ConfDiagnostic, type ConfListener, type Ctx, type LogType, type MosquittoConfig, type ParseOptions, type ParseResult} from './conf-types.js'
import {BRIDGE_SETTERS, BridgeOptionWarning, bridgeProblems, isBridgeOption, newConfBridge, type ConfBridge} from './mosquitto-bridge.js'

export type {ConfBridge} from './mosquitto-bridge.js'
export * from './conf-types.js'
export {parseDuration} from './conf-values.js'

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
        // auth_plugin and auth_opt_ are Mosquitto's older names; midge's plugins apply to every listener (global_plugin)
        if (name === 'plugin' || name === 'auth_plugin' || name === 'global_plugin') { addConfPlugin(config.plugins ??= [], args, `${file}:${i + 1}`); continue }
        if (name.startsWith('plugin_opt_') || name.startsWith('auth_opt_')) { addConfPluginOption(config.plugins ??= [], name.slice(name.indexOf('_opt_') + 5), args); continue }
        if (name === 'plugin_load' || name === 'plugin_use') { ctx.warn(`${name} is not supported by midge and is ignored: use plugin lines`); continue }
        if (name in IGNORED) {
          ctx.warn(`${name} is not supported by midge and is ignored: ${IGNORED[name]}`)
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
