// `broker start`'s authentication plugins: which to load, in which order, from the flags and the
// `plugin` lines of the configuration file, loaded into one chain in front of the password file and
// ACL. A plugin that cannot be loaded stops the start (exit 17) with one line naming it.
import type {Logger} from 'pino'
import {createPluginChain, loadPlugins, PluginLoadError, type AuthHooks, type PluginChain, type PluginSpec} from '../../index.js'
import type {ConfPlugin} from './conf-plugins.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

export const DEFAULT_PLUGIN_TIMEOUT_MS = 5000

export interface PluginFlagValues {
  plugin?: string[]
  'plugin-opt'?: string[]
  'plugin-timeout'?: number
  'auth-http'?: string
  'auth-jwt-secret'?: string
  'auth-jwt-key'?: string
  'auth-jwt-jwks'?: string
  'auth-jwt-audience'?: string
  'auth-jwt-issuer'?: string
}

/**
 * The plugins to load, in the order they are asked: the configuration file's `plugin` lines, then
 * --plugin in order, then the JWT backend (--auth-jwt-*), then the HTTP backend (--auth-http).
 */
export function pluginSpecs(flags: PluginFlagValues, conf: readonly ConfPlugin[] = []): PluginSpec[] {
  const specs: PluginSpec[] = []
  // Dynamic Security's plugin lines never get here: the configuration reader takes them (config.dynsecFile)
  for (const p of conf) specs.push({module: p.module, options: p.options, origin: p.origin})
  const options = Object.fromEntries((flags['plugin-opt'] ?? []).map((o) => {
    const eq = o.indexOf('=')
    if (eq <= 0) throw new CliError(`--plugin-opt ${o}: expected NAME=VALUE`, ExitCode.Usage)
    return [o.slice(0, eq), o.slice(eq + 1)]
  }))
  for (const module of flags.plugin ?? []) specs.push({module, options, origin: '--plugin'})
  const jwt = {secret: flags['auth-jwt-secret'], key: flags['auth-jwt-key'], jwks: flags['auth-jwt-jwks']}
  const source = Object.entries(jwt).find(([, v]) => v !== undefined)
  if (source !== undefined) {
    const extra = {audience: flags['auth-jwt-audience'], issuer: flags['auth-jwt-issuer']}
    specs.push({module: 'midge:jwt', options: defined({[source[0]]: source[1], ...extra}), origin: `--auth-jwt-${source[0]}`})
  } else if (flags['auth-jwt-audience'] !== undefined || flags['auth-jwt-issuer'] !== undefined) {
    throw new CliError('--auth-jwt-audience and --auth-jwt-issuer need --auth-jwt-secret, --auth-jwt-key or --auth-jwt-jwks', ExitCode.Usage)
  }
  if (flags['auth-http'] !== undefined) specs.push({module: 'midge:http', options: {url: flags['auth-http']}, origin: '--auth-http'})
  return specs
}

export interface ChainContext {
  /** The password file and ACL hooks (or what stands for them), asked when every plugin abstains. */
  fallback?: AuthHooks
  passwordFile: boolean
  allowAnonymous: boolean
}

/** Loads the plugins into a chain, or returns undefined when there are none. Throws CliError (exit 17). */
export async function loadBrokerPlugins(specs: readonly PluginSpec[], flags: PluginFlagValues, log: Logger, context: ChainContext): Promise<PluginChain | undefined> {
  if (specs.length === 0) return undefined
  const timeoutMs = flags['plugin-timeout'] ?? DEFAULT_PLUGIN_TIMEOUT_MS
  const plugins = await loadPlugins(specs, {logger: log, timeoutMs}).catch((error: unknown) => {
    if (error instanceof PluginLoadError) throw new CliError(error.message, ExitCode.BrokerStartFailed)
    throw error
  })
  log.info({plugins: plugins.map((p) => p.name), timeoutMs}, `authentication plugins: ${plugins.map((p) => p.name).join(', ')}${context.passwordFile ? ', then the password file' : ''}`)
  return createPluginChain({plugins, timeoutMs, logger: log, ...context})
}

function defined(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, string>
}
