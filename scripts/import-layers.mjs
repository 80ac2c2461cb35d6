// Fails when the command line reaches into the engine: a file under src/cli or src/commands may import
// src/broker/** only through src/index.ts (the library's API) or src/broker/internal.ts (the engine's
// internal entry point). Type imports count. The other layers (src/client, src/codec, src/bench,
// src/passwd, src/cluster) the CLI imports directly: see ARCHITECTURE.md, "Layers".
// `node scripts/import-layers.mjs [root]` (root: the repository, the current folder by default); run by
// `npm run lint`.
import {readFileSync} from 'node:fs'
import {join, relative, resolve, sep} from 'node:path'
import ts from 'typescript'
import {resolveImport, sources} from './ts-sources.mjs'

const root = resolve(process.argv[2] ?? '.')
const engine = join(root, 'src', 'broker')
const allowed = new Set([join(root, 'src', 'index.ts'), join(engine, 'internal.ts')])
const checked = [join(root, 'src', 'cli'), join(root, 'src', 'commands')]

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
