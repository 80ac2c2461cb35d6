// The CLI's entry point, bundled by scripts/bundle.mjs with oclif and every command into dist/bundle
// (bin/run.js loads it from there), so that a command starts by loading a few files, not hundreds.
import {execute} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

interface PackageJson { oclif: {plugins?: string[]; additionalHelpFlags?: string[]; additionalVersionFlags?: string[]} }

/**
 * Runs the command named by argv. `dir` is bin/run.js's path or URL (oclif finds package.json and the
 * manifest from it); `commandIds` are the bundle's commands (oclif's ids, `broker:start`).
 *
 * oclif's plugins (plugin-help: the `help` command) are found in node_modules and loaded by every run,
 * some milliseconds and Node's ES module loader. They are needed only when oclif would show help or run
 * a plugin's command: so a run that names one of midge's own commands and asks for no help or version
 * is given midge's package.json without them. oclif then does everything as before (parsing, `--help`
 * cannot occur, errors, exit codes); every other argv (`help ...`, `--help` anywhere before `--`,
 * `--version`, a topic, an unknown command, none) goes through oclif with its plugins.
 */
export async function run(dir: string, commandIds: readonly string[] = [], manifest?: string): Promise<void> {
  const argv = process.argv.slice(2)
  const bin = dir.startsWith('file:') ? fileURLToPath(dir) : dir
  const root = dirname(dirname(bin))
  const pjson = ownCommand(argv, commandIds) ? withoutPlugins(root, argv) : undefined
  // such a run reads the manifest of its bundle's commands (scripts/manifest.mjs), not every command's:
  // oclif keeps it for as long as the process runs (#23); see the plugin.js patch in scripts/bundle.mjs
  if (pjson && manifest) (globalThis as Record<symbol, unknown>)[Symbol.for('midge.manifest')] = join(root, 'dist', 'bundle', manifest)
  // the package folder, not bin/run.js: oclif would take bin/package.json for the package's
  await execute({args: argv, loadOptions: pjson ? {root, pjson: pjson as never} : root})
}

function ownCommand(argv: string[], ids: readonly string[]): boolean {
  const [first, second] = argv
  if (!first || first.startsWith('-')) return false
  return ids.includes(first) || (second !== undefined && ids.includes(`${first}:${second}`))
}

/** midge's package.json without oclif's plugins, or undefined when argv asks oclif for help or its version. */
function withoutPlugins(root: string, argv: string[]): PackageJson | undefined {
  let pjson: PackageJson
  try {
    pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson
  } catch {
    return undefined // oclif reports it
  }
  if (!pjson.oclif || !Array.isArray(pjson.oclif.plugins)) return undefined
  // oclif's helpAddition and versionAddition (main.js), the same flags
  const help = ['--help', ...(pjson.oclif.additionalHelpFlags ?? [])]
  const end = argv.indexOf('--')
  if ((end === -1 ? argv : argv.slice(0, end)).some((a) => help.includes(a))) return undefined
  if (['--version', ...(pjson.oclif.additionalVersionFlags ?? [])].includes(argv[0] ?? '')) return undefined
  return {...pjson, oclif: {...pjson.oclif, plugins: []}}
}
