// Fails when the import graph of a source folder has a cycle (type imports count: a type cycle ties
// the files together as much as a value cycle). `node scripts/import-cycles.mjs [folder]`, src/broker
// by default (`npm run lint` runs it on all of src). The same check as `npx madge --circular --extensions ts src/broker`,
// without the dependency: TypeScript's own pre-processor lists each file's imports.
import {existsSync, readFileSync, statSync} from 'node:fs'
import {relative, resolve} from 'node:path'
import ts from 'typescript'
import {resolveImport, sources} from './ts-sources.mjs'

const root = resolve(process.argv[2] ?? 'src/broker')
if (!existsSync(root) || !statSync(root).isDirectory()) {
  console.error(`import-cycles: ${root} is not a folder`)
  process.exit(2)
}

const files = sources(root)
const edges = new Map(files.map((file) => {
  const {importedFiles} = ts.preProcessFile(readFileSync(file, 'utf8'), true, false)
  return [file, [...new Set(importedFiles.map((i) => resolveImport(file, i.fileName, root)).filter((f) => f !== undefined))]]
}))

// Tarjan's strongly connected components: every component of more than one file (or a file importing itself) is a cycle
let index = 0
const state = new Map()
const stack = []
const cycles = []
function visit(file) {
  const s = {index, low: index, onStack: true}
  index++
  state.set(file, s)
  stack.push(file)
  for (const next of edges.get(file)) {
    const n = state.get(next)
    if (n === undefined) {
      visit(next)
      s.low = Math.min(s.low, state.get(next).low)
    } else if (n.onStack) s.low = Math.min(s.low, n.index)
  }
  if (s.low !== s.index) return
  const component = []
  let f
  do {
    f = stack.pop()
    state.get(f).onStack = false
    component.push(f)
  } while (f !== file)
  if (component.length > 1 || edges.get(file).includes(file)) cycles.push(component)
}
for (const file of files) if (!state.has(file)) visit(file)

const name = (f) => relative(process.cwd(), f)
if (cycles.length === 0) {
  console.log(`import-cycles: ${files.length} files under ${name(root)}, no cycle`)
} else {
  for (const c of cycles) console.error(`import-cycles: files that import each other: ${c.map(name).sort().join(', ')}`)
  process.exit(1)
}
