// Loads the CLI bundle (dist/bundle/midge.cjs) with V8's code cache, so that a command does not
// compile the same megabyte of JavaScript on every start. Node 20 has no module compile cache
// (module.enableCompileCache came in 22.1, and is turned on here where it exists, for the modules
// outside the bundle), so the bundle is compiled through vm.Script with the cached data of an earlier
// run, and the cache is (re)written at exit when there was none or V8 rejected it.
//
// One cache per command (`pub`, `sub`, `broker start`, ...), made after the command ran, so that it
// holds the functions that command compiled. Caches live in the user's cache folder ($XDG_CACHE_HOME
// or ~/.cache, then midge/compile-cache, mode 0700: cached code is code), are named for the Node
// version and the bundle's size and time (V8 itself checks little more than the source's length), are
// written atomically, and replace the command's caches of other builds. NODE_DISABLE_COMPILE_CACHE=1
// turns caching off.
import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import Module, {createRequire} from 'node:module'
import {homedir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {constants as vmConstants, Script} from 'node:vm'

interface NodeModule { exports: unknown; filename: string; paths: string[]; loaded: boolean; require(id: string): unknown }
interface ModuleStatics {
  new (id: string, parent?: unknown): NodeModule
  _cache: Record<string, NodeModule>
  _nodeModulePaths(dir: string): string[]
  enableCompileCache?: () => unknown
}

/** The commands in dist/bundle/client.cjs (scripts/bundle.mjs): the client tools, without the broker and bench. */
export const CLIENT_COMMANDS: readonly string[] = ['ctrl', 'passwd', 'pub', 'rr', 'sub']
/** The commands in dist/bundle/broker.cjs: `broker start` alone, which a broker keeps loaded for as long as it runs. */
export const BROKER_COMMANDS: readonly string[] = ['broker:start']

/**
 * Loads the CLI for argv from dist/bundle (`dir`): client.cjs when argv names a client command,
 * broker.cjs for `broker start`, else midge.cjs. Each is registered as midge.cjs too, the command target
 * oclif require()s (package.json).
 */
export function loadCli<T>(dir: string, argv = process.argv.slice(2)): T {
  const full = join(dir, 'midge.cjs')
  const [first = '', second = ''] = argv
  const part = CLIENT_COMMANDS.includes(first) ? 'client.cjs' : BROKER_COMMANDS.includes(`${first}:${second}`) ? 'broker.cjs' : undefined
  return loadBundle<T>(part ? join(dir, part) : full, argv, full)
}

/**
 * How scripts/bundle.mjs wraps each bundle: a function of the module's variables, called at once when the
 * file is require()d. loadBundle compiles the file without the call (a slice of the text it read), so
 * V8 gets the function without a second copy of the megabyte: wrapping the text here instead made a
 * flat copy on V8's heap, and the text read from the file stayed alongside it until a full GC, 1.3 MiB
 * of an idle broker's RSS (docs/benchmarks.md).
 */
export const BUNDLE_HEAD = '(function (exports, require, module, __filename, __dirname, __midgeDynamicImport) {'
export const BUNDLE_TAIL = '\n})'
export const BUNDLE_CALL = '.call(this, exports, require, module, __filename, __dirname)\n'

/** Loads a bundle with V8's code cache; `as` is another path it is registered under in require's cache. */
export function loadBundle<T>(url: URL | string, argv = process.argv.slice(2), as?: string): T {
  const file = typeof url === 'string' ? url : fileURLToPath(url)
  const M = Module as unknown as ModuleStatics
  if (process.env.NODE_DISABLE_COMPILE_CACHE) {
    const exports = createRequire(file)(file) as T
    if (as && as !== file) M._cache[as] = M._cache[file]!
    return exports
  }
  M.enableCompileCache?.() // Node >= 22.1: Node's own cache, for the modules outside the bundle
  // the bundle is ASCII (scripts/bundle.mjs escapes the rest): read as latin1, the same string without
  // UTF-8's decoding
  const text = readFileSync(file, 'latin1')
  const source = text.startsWith(BUNDLE_HEAD) && text.endsWith(BUNDLE_TAIL + BUNDLE_CALL)
    ? text.slice(0, text.length - BUNDLE_CALL.length)
    : `${BUNDLE_HEAD}${text}${BUNDLE_TAIL}`
  const cacheFile = cachePath(file, argv)
  let cachedData: Buffer | undefined
  if (cacheFile) {
    try {
      cachedData = readFileSync(cacheFile)
    } catch {
      // no cache yet
    }
  }
  // an import() the bundler could not route through __midgeDynamicImport (a plugin's path, known only at
  // run time) goes to Node's own loader, where this Node has the option (20.19+, 21.7+)
  const importModuleDynamically = (vmConstants as unknown as {USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol} | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER
  const script = new Script(source, {filename: file, cachedData, ...(importModuleDynamically === undefined ? {} : {importModuleDynamically: importModuleDynamically as never})})
  const mod = new M(file)
  mod.filename = file
  mod.paths = M._nodeModulePaths(dirname(file))
  M._cache[file] = mod // oclif require()s the bundle for its commands: the same instance
  if (as) M._cache[as] = mod
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected)) process.once('exit', () => writeCache(cacheFile, script))
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void
  // the bundle's import() calls (of packages outside it) made from here, an ES module: a vm.Script
  // cannot make them itself without a Node flag; bare names resolve to the same node_modules
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file), (specifier: string) => import(specifier))
  mod.loaded = true
  return mod.exports as T
}

/** The cache for this bundle build, Node version and command, or undefined when there is no home. */
function cachePath(file: string, argv: string[]): string | undefined {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : undefined)
  if (!base) return undefined
  const {size, mtimeMs} = statSync(file)
  const words = argv.slice(0, 2)
  const end = words.findIndex((a) => !/^[a-z][\w-]*$/.test(a))
  const command = words.slice(0, end === -1 ? 2 : end).join('-') || 'midge'
  const help = argv.includes('--help') ? '-help' : ''
  return join(base, 'midge', 'compile-cache', `${process.version}-${process.arch}-${size}-${Math.floor(mtimeMs)}~${command}${help}.cache`)
}

function writeCache(cacheFile: string, script: Script): void {
  try {
    mkdirSync(dirname(cacheFile), {recursive: true, mode: 0o700})
    const temp = `${cacheFile}.${process.pid}.tmp`
    writeFileSync(temp, script.createCachedData(), {mode: 0o600})
    renameSync(temp, cacheFile)
    const name = basename(cacheFile)
    const command = name.slice(name.indexOf('~'))
    for (const old of readdirSync(dirname(cacheFile))) if (old !== name && old.endsWith(command)) rmSync(join(dirname(cacheFile), old), {force: true})
  } catch {
    // a read-only or full disk: run without a cache
  }
}
