// The README's table of mosquitto.conf options is the code's own (scripts/conf-table.mjs writes it),
// and every option of Mosquitto's mosquitto.conf(5) has an answer in it (issue #17).
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {confOptionTable, MOSQUITTO_OPTIONS, renderConfTable} from '../../src/cli/broker/conf-options.js'
import {BRIDGE_SETTERS} from '../../src/cli/broker/mosquitto-bridge.js'
import {parseMosquittoConf} from '../../src/cli/broker/mosquitto-conf.js'
import {ROOT} from '../helpers/cli.js'

const registries = {bridge: Object.keys(BRIDGE_SETTERS)}

test('every Mosquitto option is implemented or warned about with a reason; none is "unknown"', () => {
  const unknown = confOptionTable(registries).filter((r) => r.midge.startsWith('unknown'))
  assert.deepEqual(unknown, [])
})

test('the README shows the table as the code has it (node scripts/conf-table.mjs rewrites it)', () => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8')
  const begin = readme.indexOf('<!-- conf-options:begin')
  const block = readme.slice(readme.indexOf('\n', begin) + 1, readme.indexOf('<!-- conf-options:end -->'))
  assert.equal(block, renderConfTable(registries))
})

test('an option the table calls a warning is one in the parser too, never an unknown-option warning', () => {
  for (const {option, midge} of confOptionTable(registries)) {
    if (!midge.startsWith('warning') || option.includes('*') || option.startsWith('bridge_')) continue
    const {warnings} = parseMosquittoConf(`${option} x\n`)
    assert.equal(warnings.length, 1, option)
    assert.doesNotMatch(warnings[0].message, /unknown option/, option)
  }
  assert.equal(MOSQUITTO_OPTIONS.length, new Set(MOSQUITTO_OPTIONS).size)
})
