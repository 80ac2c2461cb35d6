// Runs every test file under test/ with node's test runner (TypeScript through tsx).
// Usage: npm test [-- FILTER...]  (a filter keeps only the files whose path contains it)
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {join} from 'node:path'

function find(dir) {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [])
}

const filters = process.argv.slice(2)
const files = find('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort()
const concurrency = process.env.TEST_CONCURRENCY ?? '2'
const r = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=120000', ...files],
  {stdio: 'inherit'})
process.exit(r.status ?? 1)
