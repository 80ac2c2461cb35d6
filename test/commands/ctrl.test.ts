// `midge ctrl dynsec`'s own contract against `midge broker start --dynsec`: --json, exit codes,
// passwords kept off argv, init. (ctrl-mosquitto.test.ts runs it against Debian's Mosquitto.)
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runMidge, type RunResult} from '../helpers/cli.js'
import {ADMIN, dynsecSkip} from '../helpers/dynsec.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {freePort} from '../helpers/mosquitto.js'

const skip = dynsecSkip()

const ctrl = (port: number, args: string[], options: {env?: NodeJS.ProcessEnv; login?: string[]} = {}): Promise<RunResult> =>
  runMidge(['ctrl', '-h', '127.0.0.1', '-p', String(port), ...(options.login ?? ['-u', ADMIN.username]), 'dynsec', ...args],
    {env: {MIDGE_PASSWORD: ADMIN.password, ...options.env}})

describe('midge ctrl against midge broker start --dynsec', {skip}, () => {
  let dir: string
  let broker: MidgeBroker

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midge-ctrl-midge-'))
    const r = await runMidge(['ctrl', 'dynsec', 'init', join(dir, 'dynsec.json'), ADMIN.username, '--password-file', join(dir, 'none')])
    assert.equal(r.code, 10, `init with an unreadable --password-file: ${r.stderr}`)
    writeFileSync(join(dir, 'admin-pw'), `${ADMIN.password}\n`)
    const init = await runMidge(['ctrl', 'dynsec', 'init', join(dir, 'dynsec.json'), ADMIN.username, '--password-file', join(dir, 'admin-pw')])
    assert.equal(init.code, 0, init.stderr)
    assert.match(init.stdout, /The client 'admin' has been created/)
    broker = await startMidgeBroker(['--dynsec', join(dir, 'dynsec.json')])
  })

  after(async () => {
    await broker?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('init writes a 0600 file that Mosquitto\'s own tool layout matches, and will not replace one', async () => {
    const file = join(dir, 'dynsec.json')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const tree = JSON.parse(readFileSync(file, 'utf8'))
    assert.deepEqual(tree.defaultACLAccess, {publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true})
    assert.equal(tree.roles[0].acls.length, 8)
    const again = await runMidge(['ctrl', 'dynsec', 'init', file, 'other', 'pw'])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /already exists/)
  })

  it('--json prints the answer object; a refusal exits 18 with the error on stderr', async () => {
    const ok = await ctrl(broker.port, ['--json', 'listClients'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.deepEqual(JSON.parse(ok.stdout), {command: 'listClients', data: {totalCount: 1, clients: ['admin']}})
    const refused = await ctrl(broker.port, ['getClient', 'nobody', '--json'])
    assert.equal(refused.code, 18)
    assert.deepEqual(JSON.parse(refused.stdout), {command: 'getClient', error: 'Client not found'})
    assert.equal(refused.stderr, 'midge ctrl: getClient: Client not found\n')
  })

  it('a new client\'s password comes from MIDGE_CLIENT_PASSWORD or --client-password-file, not argv', async () => {
    const a = await ctrl(broker.port, ['createClient', 'env-user'], {env: {MIDGE_CLIENT_PASSWORD: 'from-env'}})
    assert.equal(a.code, 0, a.stderr)
    writeFileSync(join(dir, 'client-pw'), 'from-file\n')
    const b = await ctrl(broker.port, ['createClient', 'file-user', '--client-password-file', join(dir, 'client-pw')])
    assert.equal(b.code, 0, b.stderr)
    const c = await ctrl(broker.port, ['createClient', 'no-pw-user']) // no terminal, no source: no password, as mosquitto_ctrl
    assert.equal(c.code, 0, c.stderr)
    const d = await runMidge(['ctrl', '-p', String(broker.port), '-u', ADMIN.username, 'dynsec', 'setClientPassword', 'no-pw-user'],
      {env: {MIDGE_PASSWORD: ADMIN.password}, input: 'from-stdin\n'})
    assert.equal(d.code, 0, d.stderr)
    for (const [user, password] of [['env-user', 'from-env'], ['file-user', 'from-file'], ['no-pw-user', 'from-stdin']]) {
      // logging in as the user proves the password: it connects, then is refused the $CONTROL subscription (14)
      const r = await ctrl(broker.port, ['listClients'], {login: ['-u', user], env: {MIDGE_PASSWORD: password}})
      assert.equal(r.code, 14, `${user}: ${r.stderr}`)
      const wrong = await ctrl(broker.port, ['listClients'], {login: ['-u', user], env: {MIDGE_PASSWORD: `${password}x`}})
      assert.equal(wrong.code, 135, `${user} with a wrong password: ${wrong.stderr}`)
    }
  })

  it('exit codes: bad usage 2, unreachable 11, no answer 27', async () => {
    const usage = await ctrl(broker.port, ['addClientRole', 'only-one-arg'])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /usage: dynsec addClientRole <username> <rolename> \[priority\]/)
    const unknown = await ctrl(broker.port, ['frobnicate'])
    assert.equal(unknown.code, 2)
    const noModule = await runMidge(['ctrl', '-p', String(broker.port), 'listClients'])
    assert.equal(noModule.code, 2)
    assert.match(noModule.stderr, /expected `dynsec COMMAND`/)
    const unreachable = await ctrl(await freePort(), ['listClients'])
    assert.equal(unreachable.code, 11, unreachable.stderr)
    const plain = await startMidgeBroker([]) // no dynamic security: nobody answers
    try {
      const silent = await ctrl(plain.port, ['listClients', '--timeout', '1'], {login: [], env: {MIDGE_PASSWORD: undefined}})
      assert.equal(silent.code, 27, silent.stderr)
      assert.match(silent.stderr, /no answer on \$CONTROL\/dynamic-security\/v1\/response within 1 s/)
    } finally {
      await plain.stop()
    }
  })
})
