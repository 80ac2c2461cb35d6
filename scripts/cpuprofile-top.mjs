// Prints where a V8 CPU profile (node --cpu-prof) spent its samples: the top functions by self time
// and by inclusive time, as shares of all samples. `node scripts/cpuprofile-top.mjs FILE.cpuprofile [N]`
import {readFileSync} from 'node:fs'

const [file, many = '35'] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: node scripts/cpuprofile-top.mjs FILE.cpuprofile [N]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8'))
const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const name = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`
const samples = new Map()
for (const id of profile.samples) samples.set(id, (samples.get(id) ?? 0) + 1)
const self = new Map()
const inclusive = new Map()
for (const [id, count] of samples) {
  const key = name(nodes.get(id))
  self.set(key, (self.get(key) ?? 0) + count)
  const seen = new Set()
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const k = name(nodes.get(x))
    if (seen.has(k)) continue
    seen.add(k)
    inclusive.set(k, (inclusive.get(k) ?? 0) + count)
  }
}
const total = profile.samples.length
const show = (title, counts) => {
  console.log(`-- ${title}`)
  for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, Number(many))) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}% ${k}`)
}
console.log(`${file}: ${total} samples`)
show('self', self)
show('inclusive', inclusive)
