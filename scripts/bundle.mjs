// Bundles the CLI for a fast start (see README, "Start-up time"): src/cli/common/main.ts and every command
// under src/commands (found by walking the folder, so a new command needs no change here) become one
// CommonJS file, dist/bundle/midge.cjs, with @oclif/core, mqtt-packet and our own modules inside.
// Resolving and compiling some five hundred files was most of a command's start-up time; one file is
// read once, and its compiled code is cached by V8 (src/cli/common/compile-cache.ts).
//
// The file exports COMMANDS, oclif's "explicit" command discovery: one getter per command id, so a
// command's modules are evaluated only when that command runs. Packages with native code, workers or
// files of their own (better-sqlite3, argon2, ws, ...) stay outside and load from node_modules
// when used: only the packages in BUNDLED are inlined. pino is one of them (its transports, the one part
// that needs files of its own, midge does not use; pino-pretty stays outside): loaded from node_modules,
// its thirty files cost `broker start` 5 MiB of RSS (the resolving of their paths is what first woke
// V8's optimizing compiler, whose code pages then stayed, docs/benchmarks.md). A module of ours that
// finds files next to itself through import.meta.url (the SQLite and bench workers) gets the URL of its
// tsc-built twin in dist/, so those files are found as before.
import {build} from 'esbuild'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = join(root, 'src')
const outfile = join(root, 'dist', 'bundle', 'midge.cjs')
const clientOutfile = join(root, 'dist', 'bundle', 'client.cjs')
const brokerOutfile = join(root, 'dist', 'bundle', 'broker.cjs')
// (tsc builds dist/ before this script runs: npm run build)
const {BROKER_COMMANDS, BUNDLE_CALL, BUNDLE_HEAD, BUNDLE_TAIL, CLIENT_COMMANDS} = await import(new URL('../dist/cli/common/compile-cache.js', import.meta.url).href)

/** npm packages compiled into the bundle (with everything they import); our other dependencies stay external. */
const BUNDLED = new Set(['@oclif/core', 'mqtt-packet', 'pino'])
/** What oclif loads only to run TypeScript sources in development (bin/dev.mjs): never in the bundle. */
const DEVELOPMENT = new Set(['typescript', 'source-map-support', 'ts-node', 'tsx'])

/** The command files as oclif's default pattern finds them (no .d.ts, tests, specs or helpers). */
function commandFiles(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return commandFiles(path)
    return /\.ts$/.test(e.name) && !/\.(d|test|spec|helpers)\.ts$/.test(e.name) ? [path] : []
  })
}

/** src/commands/broker/start.ts -> broker:start, src/commands/bench/index.ts -> bench (oclif's ids). */
function commandId(file) {
  const parts = relative(join(src, 'commands'), file).replace(/\.ts$/, '').split(sep)
  if (parts.at(-1) === 'index') parts.pop()
  return parts.join(':')
}

/** The entry of a bundle: oclif's run and the getters of the commands whose ids pass `only`. */
function entrySource(only = () => true, manifest = undefined) {
  const lines = [`import {run as main} from ${JSON.stringify(join(src, 'cli', 'common', 'main.ts'))}`, 'export const COMMANDS = {}',
    `export function run(dir) { return main(dir, Object.keys(COMMANDS), ${JSON.stringify(manifest)}) }`]
  for (const file of commandFiles(join(src, 'commands')).sort().filter((f) => only(commandId(f)))) {
    lines.push(`Object.defineProperty(COMMANDS, ${JSON.stringify(commandId(file))}, {enumerable: true, get: () => require(${JSON.stringify(file)}).default})`)
  }
  return lines.join('\n') + '\n'
}

// oclif's logger creates a `debug` logger per namespace at start-up, and the debug package loads node:tty
// and reads the terminal to pick colours: a few milliseconds per command for output nobody sees unless
// DEBUG is set. This stand-in loads the real package only then; otherwise a logger does nothing.
const DEBUG_SHIM = `module.exports = function createDebug(namespace) {
  if (process.env.DEBUG) return require('debug')(namespace)
  const log = () => {}
  return Object.assign(log, {enabled: false, namespace, extend: (sub, delimiter = ':') => createDebug(namespace + delimiter + sub)})
}
`

// oclif's Config.load asks wsl-utils whether this is WSL; loading wsl-utils loads node:child_process and
// powershell-utils (for Windows' shell detection) as well, some milliseconds. This stand-in answers
// isWsl from is-wsl (what wsl-utils does) and loads the real package only when its PowerShell path is wanted.
const WSL_SHIM = `import isWsl from 'is-wsl'
export {isWsl}
export async function powerShellPath() { return (await import('wsl-utils')).powerShellPath() }
`

// Changes to oclif that keep its behaviour and save start-up time on every command.
const PATCHES = [{
  file: join('@oclif', 'core', 'lib', 'config', 'plugin.js'),
  why: 'a plugin\'s commands are sorted with localeCompare, whose first call sets up ICU\'s collator: 10 ms or more; ' +
    'command ids are ASCII, where code-unit order is the same, and help sorts again for display',
  from: '.sort((a, b) => a.id.localeCompare(b.id));',
  to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));',
}, {
  file: join('@oclif', 'core', 'lib', 'util', 'fs.js'),
  why: 'readJson (package.json, the manifest, the theme) read its file with fs/promises, in chunks, a turn of ' +
    'the event loop each: about 1 ms more than one read for the manifest; it stays async (errors reject as before)',
  from: 'const contents = await (0, promises_1.readFile)(path, \'utf8\');',
  to: 'const contents = (0, node_fs_1.readFileSync)(path, \'utf8\');',
}, {
  file: join('@oclif', 'core', 'lib', 'util', 'fs.js'),
  why: 'readJson kept the text of every JSON file it read for the life of the process, for a second read ' +
    'that only package.json gets (in a run showing help): the manifest\'s 260 kB stayed in a running broker',
  from: '    cache.set(path, contents);\n    return JSON.parse(contents);',
  to: '    if (path.endsWith(\'package.json\')) cache.set(path, contents);\n    return JSON.parse(contents);',
}, {
  file: join('@oclif', 'core', 'lib', 'config', 'plugin.js'),
  why: 'a run of one of the commands of client.cjs or broker.cjs reads the manifest of that bundle\'s commands ' +
    '(scripts/manifest.mjs, src/cli/common/main.ts): the whole manifest\'s objects, every command\'s flags, stayed in a ' +
    'running broker, 0.3 MiB (#23); the file missing, oclif reads its own as before',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: oclif's compiled source, matched as text
  from: 'const p = (0, node_path_1.join)(this.root, `${dotfile ? \'.\' : \'\'}oclif.manifest.json`);',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: oclif's compiled source, matched as text
  to: 'const p = (!dotfile && this.isRoot && globalThis[Symbol.for(\'midge.manifest\')]) || (0, node_path_1.join)(this.root, `${dotfile ? \'.\' : \'\'}oclif.manifest.json`);',
}, {
  file: join('pino', 'lib', 'tools.js'),
  why: 'pino read worker_threads\' isMainThread when it loaded, for the one case of an asynchronous destination ' +
    '(midge\'s are all synchronous): node:worker_threads and its modules cost an idle broker 0.3 MiB (#23)',
  from: 'const { isMainThread } = require(\'worker_threads\')\n',
  to: '',
}, {
  file: join('pino', 'lib', 'tools.js'),
  why: 'see above: the same check, made when it is needed',
  from: 'if (!opts.sync && isMainThread) {',
  to: 'if (!opts.sync && require(\'worker_threads\').isMainThread) {',
}, {
  file: join('pino', 'lib', 'tools.js'),
  why: 'pino\'s transports (a worker thread, thread-stream, node:assert) are evaluated on first use, not at load: midge uses none',
  from: 'const transport = require(\'./transport\')\n',
  to: 'const transport = (options) => require(\'./transport\')(options)\n',
}, {
  file: join('pino', 'pino.js'),
  why: 'pino.transport, likewise, on first use',
  from: 'module.exports.transport = require(\'./lib/transport\')\n',
  to: 'Object.defineProperty(module.exports, \'transport\', {enumerable: true, configurable: true, get: () => require(\'./lib/transport\')})\n',
}]

// Node built-ins that oclif require()s when its modules load but uses only on some paths (child_process
// to name the shell on Windows, readline to read a flag from stdin, perf_hooks with DEBUG=perf): Node
// compiles a built-in on first require, several milliseconds for these three. In oclif's own files each
// becomes a stand-in that loads the module on first use (oclif only reads properties of them).
const LAZY_BUILTINS = ['child_process', 'readline', 'perf_hooks']
const LAZY_BUILTIN = new RegExp(`= require\\("node:(${LAZY_BUILTINS.join('|')})"\\);`, 'g')
const LAZY_HELPER = `function __midgeLazyBuiltin(load) {
  let m
  return new Proxy({}, {get: (_, key) => key === '__esModule' ? undefined : (m ??= load())[key], has: (_, key) => key in (m ??= load())})
}
`

// Node built-ins that our modules (and the packages inlined with them) import at the top but that a
// broker uses only when a feature is configured or a rare path runs: node:tls (a TLS listener), node:http
// and node:https (WebSockets, the HTTP endpoint, the HTTP authentication plugin), node:worker_threads
// (--persistence's SQLite worker), node:crypto (client ids the broker assigns, SCRAM, Dynamic Security,
// password hashes), node:fs/promises (files read at start; Node's own fs/promises loads its readline
// too). Each costs an idle process pages of the node binary and heap for its compiled code, some 3 MiB of
// an idle broker's 51 together (docs/benchmarks.md, #23). In the bundle's output each such `x =
// require("node:...")` becomes a stand-in that loads the module on first use: esbuild reads a named
// import as a property of that object at every use (`(0, import_node_tls.createServer)(...)`), so the
// stand-in needs only `get` (and `has`). A default import (`__toESM(require(...))`, which copies every
// property) is left as it is.
const LAZY_NODE = ['crypto', 'fs/promises', 'http', 'https', 'tls', 'worker_threads']
const LAZY_NODE_REQUIRE = new RegExp(`(?<==)require\\("node:(${LAZY_NODE.join('|')})"\\)(?=[;,)}])`, 'g')
const LAZY_NODE_HELPER = 'function __midgeLazyNode(load) { let m; return new Proxy({}, {get: (_, key) => key === "__esModule" ? undefined : (m ??= load())[key], has: (_, key) => key in (m ??= load())}) }'

// sonic-boom (pino's destination) checks one argument with node:assert, whose module (with its
// AssertionError, diff and colour support) costs an idle broker 0.2 MiB: this stand-in loads it only when
// the check fails, to throw the same error.
const ASSERT_SHIM = `module.exports = function assert(value, message) { if (!value) require('node:assert')(value, message) }
`

// npm packages that oclif's modules require() when they load but use only on some paths: command
// discovery by glob patterns (tinyglobby with fdir and picomatch; midge's commands are "explicit"),
// update templates (ejs), plugin name patterns (minimatch), the spinner, and the rendering of help and
// errors (string-width, widest-line, wrap-ansi, clean-stack, indent-string), and whether the terminal
// has colours (supports-color, which loads node:tty) and how wide it is (oclif's screen.js, which
// opens process.stdout to ask). Evaluating them is most of oclif's set-up that a command does not use;
// in oclif's own files each is loaded on first use instead (oclif uses them only as `x.name` or, with
// __importDefault, `x.default`).
const LAZY_PACKAGES = ['tinyglobby', 'ejs', 'minimatch', 'cli-spinners', 'string-width', 'widest-line', 'wrap-ansi', 'clean-stack', 'indent-string', 'supports-color', '(?:\\.\\.?/)+screen']
const LAZY_DEFAULT = new RegExp(`= __importDefault\\(require\\("(${LAZY_PACKAGES.join('|')})"\\)\\);`, 'g')
const LAZY_NAMED = new RegExp(`= require\\("(${LAZY_PACKAGES.join('|')})"\\);`, 'g')

// `import fs from 'node:fs'` in an ES module package (is-wsl, is-docker, is-inside-container: oclif's
// platform check at every start) becomes esbuild's __toESM(require("node:fs")), which copies every
// export of the built-in into a new object of getters: some 270 kB of allocations for five built-ins on
// every start, and young-generation collections. A built-in's default export is its module object, so
// these become `const fs = require("node:fs")`, the same object.
const BUILTIN_DEFAULT_IMPORT = /^import (\w+) from ['"](node:[\w/]+)['"];?$/gm

const packageName = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/')
const direct = new Set(Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies))

const plugin = {
  name: 'midge-bundle',
  setup(b) {
    b.onResolve({filter: /^midge:(entry|client|broker)$/}, (args) => ({path: args.path.slice(6), namespace: 'midge'}))
    b.onLoad({filter: /.*/, namespace: 'midge'}, (args) => ({
      contents: args.path === 'client' ? entrySource((id) => CLIENT_COMMANDS.includes(id), 'client.manifest.json')
        : args.path === 'broker' ? entrySource((id) => BROKER_COMMANDS.includes(id), 'broker.manifest.json') : entrySource(), loader: 'js', resolveDir: root}))
    b.onResolve({filter: /^debug$/}, (args) => args.namespace === 'midge-debug' ? undefined : {path: 'debug', namespace: 'midge-debug'})
    b.onLoad({filter: /.*/, namespace: 'midge-debug'}, () => ({contents: DEBUG_SHIM, loader: 'js', resolveDir: join(root, 'node_modules', '@oclif', 'core')}))
    // Our modules have no side effects on import (no module-level work but definitions), so what a
    // command does not use of a module it imports is left out, and a re-export it does not use is never
    // evaluated: a command may import the engine through src/index.ts without loading all of it.
    b.onResolve({filter: /^\.\.?\//}, async (args) => {
      if (!args.importer.startsWith(src) || args.pluginData?.midgeResolving) return undefined
      const r = await b.resolve(args.path, {kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: {midgeResolving: true}})
      return r.errors.length > 0 || !r.path.startsWith(src) ? undefined : {path: r.path, sideEffects: false}
    })
    // bl (mqtt-packet's parser's buffer list) takes its Duplex from readable-stream, npm's copy of
    // Node's streams: some twenty modules to evaluate at every start for the class node:stream has
    b.onResolve({filter: /^readable-stream$/}, (args) => args.importer.includes(`${sep}node_modules${sep}bl${sep}`) ? {path: 'node:stream', external: true} : undefined)
    b.onResolve({filter: /^assert$/}, (args) => args.importer.includes(`${sep}node_modules${sep}sonic-boom${sep}`) ? {path: 'assert', namespace: 'midge-assert'} : undefined)
    b.onLoad({filter: /.*/, namespace: 'midge-assert'}, () => ({contents: ASSERT_SHIM, loader: 'js'}))
    b.onResolve({filter: /^wsl-utils$/}, (args) => args.namespace === 'midge-wsl' ? undefined : {path: 'wsl-utils', namespace: 'midge-wsl'})
    b.onLoad({filter: /.*/, namespace: 'midge-wsl'}, () => ({contents: WSL_SHIM, loader: 'js', resolveDir: join(root, 'node_modules', '@oclif', 'core')}))
    b.onResolve({filter: /^[^./]/}, (args) => {
      if (args.path.startsWith('node:')) return {external: true}
      const name = packageName(args.path)
      if (DEVELOPMENT.has(name)) return {external: true}
      // our direct dependencies other than BUNDLED stay require()s of node_modules (what the BUNDLED
      // packages import themselves is inlined with them)
      if (args.importer.startsWith(src) && direct.has(name) && !BUNDLED.has(name)) return {external: true}
      return undefined
    })
    // import() of files found at run time (oclif's ESM plugins such as plugin-help's commands, lilconfig's
    // config files): import() of a string literal is bundled by esbuild instead
    b.onLoad({filter: /[\\/]node_modules[\\/].*\.[cm]?js$/}, (args) => {
      let contents = readFileSync(args.path, 'utf8')
      const patches = PATCHES.filter((p) => args.path.endsWith(p.file))
      for (const patch of patches) {
        if (!contents.includes(patch.from)) console.warn(`bundle: ${patch.file} changed, not patched (${patch.why})`)
        contents = contents.replace(patch.from, patch.to)
      }
      const patch = patches.length > 0
      const oclif = args.path.includes(`${sep}node_modules${sep}@oclif${sep}core${sep}`)
      const lazy = oclif && [LAZY_BUILTIN, LAZY_DEFAULT, LAZY_NAMED].some((re) => contents.match(re) !== null)
      const builtinDefault = contents.match(BUILTIN_DEFAULT_IMPORT) !== null
      if (!patch && !lazy && !builtinDefault && !contents.includes('await import(')) return undefined
      if (builtinDefault) contents = contents.replace(BUILTIN_DEFAULT_IMPORT, 'const $1 = require("$2");')
      if (lazy) {
        contents = LAZY_HELPER + contents
          .replace(LAZY_BUILTIN, (_, name) => `= __midgeLazyBuiltin(() => require("node:${name}"));`)
          .replace(LAZY_DEFAULT, (_, name) => `= {get default() { return __importDefault(require("${name}")).default; }};`)
          .replace(LAZY_NAMED, (_, name) => `= __midgeLazyBuiltin(() => require("${name}"));`)
      }
      return {contents: contents.replace(/\bawait import\((?!['"])/g, 'await __midgeImport('), loader: 'js'}
    })
    b.onLoad({filter: /\.ts$/}, (args) => {
      if (!args.path.startsWith(src)) return undefined
      // import() of what stays outside the bundle (ws, pino-pretty, node:tls, ...); ours is bundled
      // (and of a path known only at run time, such as an authentication plugin's)
      let contents = readFileSync(args.path, 'utf8').replace(/(?<![\w$.])(?<!typeof )import\((?!['"]\.)(?=\S)/g, '__midgeImport(')
      // import.meta.url of a bundled module would be the bundle's; give it its dist/ twin's instead
      if (contents.includes('import.meta')) {
        const twin = relative(join(root, 'dist', 'bundle'), join(root, 'dist', relative(src, args.path))).replace(/\.ts$/, '.js').split(sep).join('/')
        contents = contents
          .replaceAll('import.meta.url', `require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(twin)})).href`)
          .replaceAll('import.meta.resolve(', 'require.resolve(')
      }
      return {contents, loader: 'ts'}
    })
  },
}

rmSync(join(root, 'dist', 'bundle'), {recursive: true, force: true})
// midge.cjs has every command; client.cjs only the client tools (CLIENT_COMMANDS: pub, sub, rr, ctrl,
// passwd), without the broker engine, bench and the rest: some 60% of the size, so less to read and
// fewer modules to set up when one of them runs (the loader picks it, see compile-cache.ts); broker.cjs
// only `broker start` (BROKER_COMMANDS): the source V8 keeps for as long as a broker runs, and its code
// cache, without the client tools and bench (#23, an idle broker's RSS)
for (const [entry, file] of [['midge:entry', outfile], ['midge:client', clientOutfile], ['midge:broker', brokerOutfile]]) await build({
  entryPoints: [entry],
  outfile: file,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  // oclif checks at load that Node satisfies its own engines (>=18), with semver, which costs a few
  // milliseconds; midge's engines (>=20) are stricter, so the check is skipped while the bundle loads
  // dynamic import() inside a vm.Script needs a Node flag, so the bundle's go through the loader's own
  // (src/cli/common/compile-cache.ts); under plain require() (scripts/manifest.mjs) they are ordinary import()s
  banner: {js: LAZY_NODE_HELPER + '; const __midgeImport = typeof __midgeDynamicImport === "function" ? __midgeDynamicImport : (s) => import(s); const __midgeEngineCheck = process.env.OCLIF_DISABLE_ENGINE_WARNING; process.env.OCLIF_DISABLE_ENGINE_WARNING = "1";'},
  footer: {js: 'if (__midgeEngineCheck === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING; else process.env.OCLIF_DISABLE_ENGINE_WARNING = __midgeEngineCheck;'},
  logLevel: 'warning',
  plugins: [plugin],
})
// The loader of the bundle for bin/run.js, a CommonJS file like it (bin/package.json): with no ES module
// in the way, Node starts the command without setting up its ES module loader (some milliseconds).
await build({
  entryPoints: [join(src, 'cli', 'common', 'compile-cache.ts')],
  outfile: join(root, 'dist', 'bundle', 'load.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
})
// esbuild leaves regular expression literals as written, and two (ansis' ANSI escape pattern, our `µs`)
// hold characters beyond ASCII: V8 would then keep the whole megabyte of source as a two-byte string,
// slower to read and hash on every start. \uXXXX means the same character in a string, a regular
// expression and an identifier alike.
// Each bundle is then wrapped as a function of the module's variables, called at once under require()
// (BUNDLE_HEAD, BUNDLE_TAIL, BUNDLE_CALL in compile-cache.ts): the loader compiles the text without the
// call, one copy of it, where wrapping it at run time made two.
for (const file of [outfile, clientOutfile, brokerOutfile]) {
  const text = readFileSync(file, 'utf8').replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(LAZY_NODE_REQUIRE, (call) => `__midgeLazyNode(() => ${call})`)
  writeFileSync(file, BUNDLE_HEAD + text + BUNDLE_TAIL + BUNDLE_CALL)
}
