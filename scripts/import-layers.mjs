// Fails when the command line reaches into the engine: a file under src/cli or src/commands may import
// src/broker/** only through src/index.ts (the library's API) or src/broker/internal.ts (the engine's
// internal entry point). Type imports count. The other layers (src/client, src/codec, src/bench,
// src/passwd, src/cluster) the CLI imports directly: see ARCHITECTURE.md, "Layers".
// `node scripts/import-layers.mjs [root]` (root: the repository, the current folder by default); run by
// `npm run lint`.
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve, sep} from 'node:path'
import ts from 'typescript'

const root = resolve(process.argv[2] ?? '.')
const engine = join(root, 'src', 'broker')
const allowed = new Set([join(root, 'src', 'index.ts'), join(engine, 'internal.ts')])
const checked = [join(root, 'src', 'cli'), join(root, 'src', 'commands')]

function sources(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sources(path)
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : []
  })
}

/** A relative specifier as the .ts file it names ('./x.js' -> x.ts, './dir' -> dir/index.ts). */
function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return undefined
  const base = resolve(dirname(from), specifier)
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return undefined
}

const problems = []
let files = 0
for (const file of checked.flatMap(sources)) {
  files++
  const text = readFileSync(file, 'utf8')
  const {importedFiles} = ts.preProcessFile(text, true, false)
  for (const i of importedFiles) {
    const target = resolveImport(file, i.fileName)
    if (target === undefined || !target.startsWith(engine + sep) || allowed.has(target)) continue
    const line = text.slice(0, i.pos).split('\n').length
    problems.push(`${relative(process.cwd(), file)}:${line}: imports ${i.fileName}: the CLI reaches the engine only through src/index.ts or src/broker/internal.ts`)
  }
}

if (problems.length === 0) {
  console.log(`import-layers: ${files} files under src/cli and src/commands, engine reached only through its entry points`)
} else {
  for (const p of problems) console.error(`import-layers: ${p}`)
  process.exit(1)
}
