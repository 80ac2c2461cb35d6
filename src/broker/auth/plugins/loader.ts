import {createRequire} from 'node:module'
import {isAbsolute, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import type {Logger} from '../../logger.js'
import {TtlCache} from './cache.js'
import type {LoadedPlugin} from './chain.js'
import type {AuthPlugin, PluginContext, PluginHooks} from './types.js'

/** A plugin to load: a module (a file path, a package name, or `midge:http` / `midge:jwt`) and its options. */
export interface PluginSpec {
  module: string
  options: Readonly<Record<string, string>>
  /** Where it was asked for (`--plugin`, `FILE:LINE`), for messages. */
  origin: string
}

/** A plugin that could not be loaded or set up; the message is one line naming the module and the reason. */
export class PluginLoadError extends Error {
  constructor(readonly spec: PluginSpec, reason: string) {
    super(`${spec.origin === '--plugin' ? '' : `${spec.origin}: `}plugin ${spec.module}: ${reason}`)
    this.name = 'PluginLoadError'
  }
}

/** The built-in backends, written against the same API as any plugin. */
const BUILT_IN: Record<string, () => Promise<{default: AuthPlugin}>> = {
  'midge:http': () => import('./http.js'),
  'midge:jwt': () => import('./jwt.js'),
}

const HOOKS = new Set(['authenticate', 'authorizePublish', 'authorizeSubscribe', 'authorizeDeliver', 'interceptPublish',
  'authenticators', 'onConnect', 'onDisconnect', 'reload', 'stop'])

/** How long a plugin's set-up (its default export's call) may take. */
export const LOAD_TIMEOUT_MS = 30_000

export interface LoadOptions {
  logger: Logger
  timeoutMs: number
  /** Relative paths and package names resolve from here (default: the working directory). */
  cwd?: string
}

/** Imports and sets up each plugin in order; throws PluginLoadError at the first that fails. */
export async function loadPlugins(specs: readonly PluginSpec[], options: LoadOptions): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = []
  for (const spec of specs) loaded.push(await loadPlugin(spec, options))
  return loaded
}

export async function loadPlugin(spec: PluginSpec, options: LoadOptions): Promise<LoadedPlugin> {
  const fail = (reason: string): never => { throw new PluginLoadError(spec, reason) }
  let mod: {default?: unknown}
  try {
    mod = await (BUILT_IN[spec.module]?.() ?? import(resolveModule(spec.module, options.cwd ?? process.cwd())))
  } catch (error) {
    return fail(`cannot be loaded: ${importError(error)}`)
  }
  const factory = mod.default
  if (typeof factory !== 'function') return fail('its default export is not a function (options, context) => hooks')
  const name = spec.module
  const logger = childLogger(options.logger, name)
  const context: PluginContext = {
    name, logger, timeoutMs: options.timeoutMs,
    cache: ({ttlMs, maxEntries}) => new TtlCache(ttlMs, maxEntries),
  }
  let hooks: unknown
  let timer: NodeJS.Timeout | undefined
  try {
    hooks = await Promise.race([
      Promise.resolve().then(() => (factory as AuthPlugin)({...spec.options}, context)),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`set-up did not finish within ${LOAD_TIMEOUT_MS / 1000} s`)), LOAD_TIMEOUT_MS) }),
    ])
  } catch (error) {
    return fail(`set-up failed: ${(error as Error)?.message ?? String(error)}`)
  } finally {
    clearTimeout(timer)
  }
  if (typeof hooks !== 'object' || hooks === null) return fail('its default export did not return an object of hooks')
  for (const [key, value] of Object.entries(hooks)) {
    if (!HOOKS.has(key)) { logger.warn({hook: key}, `plugin ${name}: unknown hook '${key}' is ignored (${[...HOOKS].join(', ')})`); continue }
    if (key === 'authenticators' ? !Array.isArray(value) : typeof value !== 'function' && value !== undefined) {
      return fail(`hook ${key} is not ${key === 'authenticators' ? 'an array' : 'a function'}`)
    }
  }
  return {name, hooks: hooks as PluginHooks}
}

/** A path (absolute, or relative to cwd) or a package name installed where cwd can find it. */
function resolveModule(module: string, cwd: string): string {
  if (isAbsolute(module) || module.startsWith('.') || /\.[cm]?js$/.test(module)) return pathToFileURL(resolve(cwd, module)).href
  return pathToFileURL(createRequire(join(cwd, 'noop.js')).resolve(module)).href
}

function importError(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') return 'no such module'
  if (e instanceof SyntaxError) return `syntax error: ${e.message}`
  return e?.message?.split('\n')[0] ?? String(error)
}

/** Log lines of a plugin carry its name. */
function childLogger(logger: Logger, plugin: string): Logger {
  const child = (logger as {child?: (bindings: object) => Logger}).child
  if (typeof child === 'function') return child.call(logger, {plugin})
  const wrap = (level: keyof Logger) => (obj: object, msg?: string) => logger[level]({plugin, ...obj}, msg)
  return {trace: wrap('trace'), debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error')}
}
