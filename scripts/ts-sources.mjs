// What the import checks (import-cycles.mjs, import-layers.mjs) share: the TypeScript files of a folder,
// and a relative import specifier as the file it names. TypeScript's own pre-processor lists imports.
import {existsSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'

/** The .ts files under `dir` (not .d.ts), depth first; none when it does not exist. */
export function sources(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sources(path)
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : []
  })
}

/** A relative specifier ('./x.js', '../y/index.js', './z') as the .ts file it names, if there is one under `within`. */
export function resolveImport(from, specifier, within = '/') {
  if (!specifier.startsWith('.')) return undefined
  const base = resolve(dirname(from), specifier)
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (candidate.startsWith(within) && existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return undefined
}
