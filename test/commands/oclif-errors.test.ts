// oclif's flag-relation errors (`dependsOn`, `exclusive`) as every command prints them: one line naming
// the flags, exit code 2, never oclif's "The following error(s) occurred:" heading (once printed as
// "The following error occurred:: ..."). In process: the formatting, not the process, is tested.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {oclifProblem} from '../../src/cli/common/base-command.js'
import {runMidgeInProcess} from '../helpers/cli-in-process.js'
import {runMidge} from '../helpers/cli.js'

const CASES: Array<[string, string[], string]> = [
  ['bench, dependsOn', ['bench', '--ramp', '0..100/s over 2s'], 'midge bench: All of the following must be provided when using --ramp: --p99-limit'],
  ['bench, exclusive', ['bench', '--json', '--json-stream'], 'midge bench: --json-stream=true cannot also be provided when using --json'],
  ['pub, dependsOn', ['pub', '-t', 'a', '-m', 'x', '--will-qos', '1'], 'midge pub: All of the following must be provided when using --will-qos: --will-topic'],
  ['pub, exclusive', ['pub', '-t', 'a', '-m', 'x', '-n'], 'midge pub: --message=x cannot also be provided when using --null-message'],
  ['broker start, exclusive pair', ['broker', 'start', '--auth-jwt-secret', 's', '--auth-jwt-key', 'k'], 'midge broker start: --auth-jwt-key=k cannot also be provided when using --auth-jwt-secret'],
  ['passwd, exclusive', ['passwd', '-c', '-D', 'file', 'user'], 'midge passwd: --create=true cannot also be provided when using --delete'],
]

describe('flag-relation errors', () => {
  for (const [name, args, line] of CASES) {
    test(name, async () => {
      const r = await runMidgeInProcess(args)
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr, `${line}\n`)
      assert.equal(r.stdout, '')
    })
  }

  test('the binary prints the same line', async () => {
    const r = await runMidge(['bench', '--ramp', '0..100/s over 2s'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'midge bench: All of the following must be provided when using --ramp: --p99-limit\n')
  })

  test('oclifProblem: heading and help line dropped, the first problem kept', () => {
    assert.deepEqual(oclifProblem('The following error occurred:\n  --a=1 cannot also be provided when using --b\nSee more help with --help'),
      ['--a=1 cannot also be provided when using --b'])
    assert.deepEqual(oclifProblem('The following errors occurred:\n  --a=1 cannot also be provided when using --b\n  --b=2 cannot also be provided when using --a\nSee more help with --help'),
      ['--a=1 cannot also be provided when using --b'])
    assert.deepEqual(oclifProblem('Parsing --qos \n\tExpected an integer\nSee more help with --help'), ['Parsing --qos', 'Expected an integer'])
  })
})
