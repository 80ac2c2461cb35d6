// ~/.config/midge/{pub,sub,rr}: mosquitto's options-file format, with HOME pointed at a temporary
// folder. The command line and MIDGE_* win over the file; sub's -t adds to the file's.
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'
import {connect, type Message, type MqttClient} from '../../src/client/index.js'
import {createBroker, type Broker} from '../../src/index.js'
import {runMidge, spawnMidge, collect} from '../helpers/cli.js'
import {hasMosquitto} from '../helpers/mosquitto.js'

describe('options files', () => {
  let broker: Broker
  let port: number
  let watcher: MqttClient
  let received: Message[] = []
  let home: string
  const env = () => ({HOME: home, XDG_CONFIG_HOME: ''})
  const write = (command: string, text: string, base = join(home, '.config', 'midge')) => {
    mkdirSync(base, {recursive: true})
    writeFileSync(join(base, command), text)
  }
  /** A round trip on the watcher: what the broker routed before it has been delivered. */
  const settle = () => watcher.unsubscribe(['none'])

  before(async () => {
    broker = createBroker()
    port = (await broker.listen({host: '127.0.0.1', port: 0})).port
    watcher = await connect({host: '127.0.0.1', port})
    watcher.onMessage((m) => received.push(m))
    await watcher.subscribe([{topic: 'of/#', qos: 2}])
  })
  after(async () => {
    await watcher.disconnect()
    await broker.close()
  })
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'midge-home-'))
    received = []
  })
  // each test's HOME goes with it
  const cleanup = () => rmSync(home, {recursive: true, force: true})

  it('pub takes its options from ~/.config/midge/pub (comments, blank lines, CRLF, values with spaces)', async () => {
    write('pub', `# defaults for this machine\r\n-h 127.0.0.1\r\n\r\n-p ${port}\n--qos 1\n-m hello from the file\n-r\n`)
    const res = await runMidge(['pub', '-t', 'of/a'], {env: env()})
    assert.equal(res.code, 0, res.stderr)
    await settle()
    assert.equal(received.length, 1)
    assert.equal(received[0].payload.toString(), 'hello from the file')
    assert.equal(received[0].qos, 1)
    await runMidge(['pub', '-t', 'of/a', '-n'], {env: env()}) // clear the retained message
    cleanup()
  })

  it('the command line wins over the file, and MIDGE_* over the file too', async () => {
    write('pub', `-p 1\n-h 127.0.0.1\n-m from the file\n-q 2\n`)
    const res = await runMidge(['pub', '-t', 'of/b', '-m', 'from the command line', '-q', '0'], {env: {...env(), MIDGE_PORT: String(port)}})
    assert.equal(res.code, 0, res.stderr)
    await settle()
    assert.equal(received[0].payload.toString(), 'from the command line')
    assert.equal(received[0].qos, 0)
    cleanup()
  })

  it('sub: the file\'s -t and the command line\'s are all subscribed; $XDG_CONFIG_HOME is honoured', async () => {
    const xdg = join(home, 'xdg')
    write('sub', `-h 127.0.0.1\n-p ${port}\n-t of/file/#\n-v\n-C 2\n`, join(xdg, 'midge'))
    const live = spawnMidge(['sub', '-t', 'of/cli/#'], {env: {HOME: home, XDG_CONFIG_HOME: xdg}})
    const result = collect(live, 30_000)
    // retained, so that each arrives whether it is published before or after sub subscribes
    await runMidge(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'of/file/x', '-m', 'f', '-r'])
    await runMidge(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'of/cli/x', '-m', 'c', '-r'])
    const res = await result
    assert.equal(res.code, 0, res.stderr)
    assert.deepEqual(res.stdout.trim().split('\n').sort(), ['of/cli/x c', 'of/file/x f'])
    await runMidge(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'of/file/x', '-n', '-r'])
    await runMidge(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'of/cli/x', '-n', '-r'])
    cleanup()
  })

  it('rr reads ~/.config/midge/rr (-e and -W from the file)', async () => {
    write('rr', `-h 127.0.0.1\n-p ${port}\n-e of/replies\n-W 1\n`)
    const res = await runMidge(['rr', '-t', 'of/nobody', '-m', 'x'], {env: env()})
    assert.equal(res.code, 27, res.stderr)
    assert.equal(res.stderr, 'midge rr: timed out: no response within 1s\n')
    await settle()
    assert.equal(received[0].properties?.responseTopic, 'of/replies')
    cleanup()
  })

  for (const [what, text, code, message] of [
    ['an unknown option', '-p 1\n--bogus 1\n', 2, /pub line 2: '--bogus' is not an option of pub/],
    ['a value after a switch', '-r yes\n', 2, /pub line 1: -r takes no value/],
    ['an option without its value', '-p\n', 2, /pub line 1: -p needs a value/],
    ['a bad value', '-q 7\n', 2, /--qos/],
  ] as const) {
    it(`${what} in the file: exit ${code} with one line`, async () => {
      write('pub', text)
      const res = await runMidge(['pub', '-t', 'of/x', '-m', 'x'], {env: env()})
      assert.equal(res.code, code, res.stderr)
      assert.match(res.stderr, message)
      assert.equal(res.stderr.trim().split('\n').length, 1)
      cleanup()
    })
  }

  it('an unreadable options file: exit 10', async () => {
    mkdirSync(join(home, '.config', 'midge', 'pub'), {recursive: true}) // a folder where the file should be
    const res = await runMidge(['pub', '-t', 'of/x', '-m', 'x'], {env: env()})
    assert.equal(res.code, 10, res.stderr)
    assert.match(res.stderr, /^midge pub: cannot read the options file '.+\/\.config\/midge\/pub': EISDIR\n$/)
    cleanup()
  })

  it('a file written for mosquitto_pub works unchanged for midge pub', {skip: !hasMosquitto()}, async () => {
    const text = `-h 127.0.0.1\n-p ${port}\n-q 1\n-V mqttv311\n`
    write('pub', text)
    writeFileSync(join(home, '.config', 'mosquitto_pub'), text)
    const ours = await runMidge(['pub', '-t', 'of/same', '-m', 'midge'], {env: env()})
    const theirs = await new Promise<number>((resolve) => {
      const {XDG_CONFIG_HOME: _unset, ...rest} = process.env // mosquitto takes an empty one as the folder ''
      execFile('mosquitto_pub', ['-t', 'of/same', '-m', 'mosquitto'], {env: {...rest, HOME: home}}, (e) => resolve(e ? Number(e.code) : 0))
    })
    assert.equal(ours.code, 0, ours.stderr)
    assert.equal(theirs, 0)
    await settle()
    assert.deepEqual(received.map((m) => [m.payload.toString(), m.qos]).sort(), [['midge', 1], ['mosquitto', 1]])
    cleanup()
  })
})
