// Writes the README's table of mosquitto.conf options from the code's own option tables, so that it
// cannot drift (test/unit/conf-options-table.test.ts fails when the README is stale).
// Usage: npm run build && node scripts/conf-table.mjs
import {readFileSync, writeFileSync} from 'node:fs'
import {renderConfTable} from '../dist/cli/broker/conf-options.js'
import {BRIDGE_SETTERS} from '../dist/cli/broker/mosquitto-bridge.js'

const BEGIN = '<!-- conf-options:begin (node scripts/conf-table.mjs) -->\n'
const END = '<!-- conf-options:end -->'
const readme = readFileSync('README.md', 'utf8')
const from = readme.indexOf(BEGIN)
const to = readme.indexOf(END)
if (from < 0 || to < from) throw new Error('README.md has no conf-options markers')
writeFileSync('README.md', readme.slice(0, from + BEGIN.length) + renderConfTable({bridge: Object.keys(BRIDGE_SETTERS)}) + readme.slice(to))
console.log('README.md: mosquitto.conf table written')
