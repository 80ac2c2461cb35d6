// `midge pub`, flag by flag and exit code by exit code, against Debian's mosquitto and against our own
// broker (the broker under test is a parameter). Messages are checked with a subscriber on the library client.
// Most runs are in this process (`pub`, cli-in-process.ts); the built binary (runMidge, spawnMidge) runs
// where the process is the point: a lost connection, the terminal prompt, -d, the transports, and one
// run per -V. The 100k-message bursts through a stdin pipe are in pub-bulk-*.test.ts.
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {BIN, runMidge, spawnMidge, collect} from '../helpers/cli.js'
import {runMidgeInProcess} from '../helpers/cli-in-process.js'
import {freePort, hasMosquitto, startMosquitto, type Mosquitto} from '../helpers/mosquitto.js'
import {BROKERS, receiver, type Target} from './pub-targets.js'

const tmp = mkdtempSync(join(tmpdir(), 'midge-pub-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

for (const target of BROKERS) {
  describe(`pub against ${target.name}`, {skip: target.skip}, () => {
    let b: Target
    let conn: string[]
    before(async () => {
      b = await target.start()
      conn = ['-h', b.host, '-p', String(b.port)]
    })
    after(async () => { await b.stop() })

    for (const v of ['5', '311', '31']) {
      for (const qos of ['0', '1', '2']) {
        it(`-V ${v} -q ${qos} -m, exit 0`, async () => {
          const r = await receiver(b, `v${v}/#`)
          const run = qos === '1' ? runMidge : runMidgeInProcess // the binary once per protocol version
          const res = await run(['pub', ...conn, '-V', v, '-q', qos, '-t', `v${v}/q${qos}`, '-m', 'hello'])
          assert.equal(res.code, 0, res.stderr)
          const [m] = await r.take(1)
          assert.equal(m.payload.toString(), 'hello')
          assert.equal(m.topic, `v${v}/q${qos}`)
          assert.equal(m.qos, Number(qos))
          await r.close()
        })
      }
    }

    it('-r retains; -n sends an empty payload (clearing it)', async () => {
      assert.equal((await runMidgeInProcess(['pub', ...conn, '-t', 'ret/a', '-m', 'kept', '-r', '-q', '1'])).code, 0)
      const r = await receiver(b, 'ret/#')
      const [m] = await r.take(1)
      assert.equal(m.retain, true)
      assert.equal(m.payload.toString(), 'kept')
      assert.equal((await runMidgeInProcess(['pub', ...conn, '-t', 'ret/a', '-n', '-r'])).code, 0)
      const [cleared] = await r.take(1)
      assert.equal(cleared.payload.length, 0)
      await r.close()
      const again = await receiver(b, 'ret/#')
      // a barrier instead of a wait: a retained message would be queued at SUBSCRIBE, before this later publish
      assert.equal((await runMidgeInProcess(['pub', ...conn, '-t', 'ret/marker', '-m', 'm', '-q', '1'])).code, 0)
      assert.deepEqual((await again.take(1)).map((m) => [m.topic, m.retain]), [['ret/marker', false]])
      await again.close()
    })

    it('-f sends the file, -s all of stdin, byte for byte', async () => {
      const bytes = Buffer.from(Array.from({length: 5000}, (_, i) => (i * 7) % 256))
      const file = join(tmp, 'payload.bin')
      writeFileSync(file, bytes)
      const r = await receiver(b, 'bin/#')
      assert.equal((await runMidgeInProcess(['pub', ...conn, '-t', 'bin/f', '-f', file])).code, 0)
      assert.equal((await runMidgeInProcess(['pub', ...conn, '-t', 'bin/s', '-s'], {input: bytes})).code, 0)
      const [f, s] = await r.take(2)
      assert.ok(f.payload.equals(bytes))
      assert.ok(s.payload.equals(bytes))
      await r.close()
    })

    it('--repeat N --repeat-delay', async () => {
      const r = await receiver(b, 'rep')
      assert.equal((await runMidgeInProcess(['pub', ...conn, '-t', 'rep', '-m', 'x', '--repeat', '3', '--repeat-delay', '0.05', '-q', '1'])).code, 0)
      assert.equal((await r.take(3)).length, 3)
      await r.close()
    })

    it('-l keeps empty lines (empty payloads) and a last line without a newline', async () => {
      const r = await receiver(b, 'lines/edge')
      assert.equal((await runMidgeInProcess(['pub', ...conn, '-t', 'lines/edge', '-l', '-q', '1'], {input: 'a\n\nb\r\nc'})).code, 0)
      assert.deepEqual((await r.take(4)).map((m) => m.payload.toString()), ['a', '', 'b\r', 'c'])
      await r.close()
    })

    it('--stdin-json reads what sub --json prints (binary payload round trip)', async () => {
      const r = await receiver(b, 'rt/#')
      const line = JSON.stringify({topic: 'rt/x', payload: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64', qos: 1, retain: false, dup: false})
      assert.equal((await runMidgeInProcess(['pub', ...conn, '--stdin-json'], {input: line})).code, 0)
      const [m] = await r.take(1)
      assert.deepEqual([...m.payload], [0, 255, 1])
      await r.close()
    })

    it('-D publish properties travel', async () => {
      const r = await receiver(b, 'props')
      const res = await runMidgeInProcess(['pub', ...conn, '-t', 'props', '-m', 'x', '-q', '1', '-D', 'publish', 'content-type', 'text/x',
        '-D', 'publish', 'user-property', 'k', 'v', '-D', 'publish', 'correlation-data', 'c1', '-D', 'publish', 'response-topic', 'rt',
        '-D', 'publish', 'payload-format-indicator', '1', '-D', 'connect', 'session-expiry-interval', '0'])
      assert.equal(res.code, 0, res.stderr)
      const [m] = await r.take(1)
      assert.equal(m.properties?.contentType, 'text/x')
      assert.equal(m.properties?.responseTopic, 'rt')
      assert.equal(m.properties?.correlationData?.toString(), 'c1')
      assert.equal(m.properties?.payloadFormatIndicator, true)
      assert.deepEqual({...m.properties?.userProperties}, {k: 'v'})
      await r.close()
    })

    it('MIDGE_HOST and MIDGE_PORT stand in for -h and -p; -L URL carries the topic', async () => {
      const r = await receiver(b, 'env/#')
      assert.equal((await runMidgeInProcess(['pub', '-t', 'env/a', '-m', '1'], {env: {MIDGE_HOST: b.host, MIDGE_PORT: String(b.port)}})).code, 0)
      assert.equal((await runMidgeInProcess(['pub', '-L', `mqtt://${b.host}:${b.port}/env/b`, '-m', '2'])).code, 0)
      assert.deepEqual((await r.take(2)).map((m) => m.topic), ['env/a', 'env/b'])
      await r.close()
    })

    it('-d traces the packets on stderr', async () => {
      const res = await runMidge(['pub', ...conn, '-t', 'dbg', '-m', 'x', '-q', '1', '-d'])
      assert.equal(res.code, 0)
      assert.match(res.stderr, /sending CONNECT[\s\S]*received CONNACK \(0\)[\s\S]*sending PUBLISH \(d0, q1, r0, m1, 'dbg', \.\.\. \(1 bytes\)\)[\s\S]*received PUBACK/)
    })

    const usage: Array<[string, string[], RegExp]> = [
      ['-m with -f', ['-t', 'a', '-m', 'x', '-f', 'y'], /--file=y cannot also be provided when using --message/],
      ['no message', ['-t', 'a'], /nothing to publish/],
      ['no topic', ['-m', 'x'], /a topic is needed/],
      ['wildcard topic', ['-t', 'a/+', '-m', 'x'], /invalid topic 'a\/\+'/],
      ['-q 3', ['-t', 'a', '-m', 'x', '-q', '3'], /--qos/],
      ['bad -D name', ['-t', 'a', '-m', 'x', '-D', 'publish', 'bogus', '1'], /-D: 'bogus' is not a property name/],
      ['bad -D value', ['-t', 'a', '-m', 'x', '-D', 'publish', 'message-expiry-interval', 'soon'], /'soon' is not a valid message-expiry-interval/],
      ['-D in the wrong packet', ['-t', 'a', '-m', 'x', '-D', 'connect', 'content-type', 'x'], /not allowed in CONNECT/],
      ['-D with -V 311', ['-t', 'a', '-m', 'x', '-V', '311', '-D', 'publish', 'content-type', 'x'], /need MQTT v5/],
      ['bad --stdin-json line', ['--stdin-json'], /stdin line 2: not JSON/],
      ['bad URL', ['-L', 'http://x/y', '-m', 'x'], /unsupported URL scheme/],
      ['-c without -i on v3', ['-t', 'a', '-m', 'x', '-c', '-V', '311'], /-c needs a client id/],
      // brokers close the connection for control characters (issue #16): shown escaped, never raw
      ['a topic with a line feed', ['-t', 'a\nb', '-m', 'x'], /invalid topic "a\\u000ab": a topic cannot contain control characters/],
      ['a client id with ESC', ['-t', 'a', '-m', 'x', '-i', 'a\u001b[2Jb'], /invalid client id "a\\u001b\[2Jb"/],
      ['a user name with a tab', ['-t', 'a', '-m', 'x', '-u', 'bo\tb'], /invalid user name "bo\\u0009b"/],
      ['a will topic with U+0085', ['-t', 'a', '-m', 'x', '--will-topic', 'w\u0085'], /invalid will topic "w\\u0085"/],
    ]
    for (const [name, args, message] of usage) {
      it(`exit 2 (usage), one line: ${name}`, async () => {
        const res = await runMidgeInProcess(['pub', ...conn, ...args], {input: '{"topic":"a"}\nnot json\n'})
        assert.equal(res.code, 2, res.stderr)
        assert.match(res.stderr, message)
        assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr)
      })
    }

    it('exit 10: missing -f file, --password-file, --cafile', async () => {
      for (const args of [['-f', join(tmp, 'nope')], ['-m', 'x', '--password-file', join(tmp, 'nope'), '-u', 'u'], ['-m', 'x', '--cafile', join(tmp, 'nope')]]) {
        const res = await runMidgeInProcess(['pub', ...conn, '-t', 'a', ...args])
        assert.equal(res.code, 10, res.stderr)
        assert.match(res.stderr, /^midge pub: cannot read .*nope/)
        assert.equal(res.stderr.trim().split('\n').length, 1)
      }
    })

    it('--quiet: the exit code without the message', async () => {
      const res = await runMidgeInProcess(['pub', ...conn, '-t', 'a', '-f', join(tmp, 'nope'), '--quiet'])
      assert.equal(res.code, 10)
      assert.equal(res.stderr, '')
    })

    it('exit 12 when the connection is lost while publishing', async () => {
      // a second broker of the same kind, stopped while pub -l waits on stdin
      const other = await target.start()
      const r = await receiver(other, 'lost')
      const child = spawnMidge(['pub', '-h', other.host, '-p', String(other.port), '-t', 'lost', '-l'])
      child.stdin!.write('one\n')
      assert.equal((await r.take(1)).length, 1)
      await other.stop()
      const res = await collect(child, 20_000)
      child.stdin!.destroy()
      assert.equal(res.code, 12, res.stderr)
      assert.match(res.stderr, /^midge pub: (connection|disconnected by the broker)/)
      assert.equal(res.stderr.trim().split('\n').length, 1)
    })
  })
}

describe('pub: exit codes that need a special broker', {skip: !hasMosquitto()}, () => {
  let m: Mosquitto
  before(async () => { m = await startMosquitto({users: {alice: 'secret'}, acl: 'user alice\ntopic readwrite open/#\n'}) })
  after(async () => { await m.stop() })
  const conn = () => ['-h', m.host, '-p', String(m.port)]

  it('exit 11: unreachable broker, one line', async () => {
    const port = await freePort()
    const res = await runMidge(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'a', '-m', 'x'])
    assert.equal(res.code, 11)
    assert.equal(res.stderr, `midge pub: cannot connect to 127.0.0.1:${port}: connection refused\n`)
  })

  it('exit 135 (v5 CONNACK "not authorized") and 5 (v3.1.1) for a bad password', async () => {
    const v5 = await runMidgeInProcess(['pub', ...conn(), '-u', 'alice', '-P', 'wrong', '-t', 'open/a', '-m', 'x'])
    assert.equal(v5.code, 135)
    assert.equal(v5.stderr, 'midge pub: connection refused: not authorized\n')
    const v3 = await runMidgeInProcess(['pub', ...conn(), '-u', 'alice', '-P', 'wrong', '-t', 'open/a', '-m', 'x', '-V', '311'])
    assert.equal(v3.code, 5)
  })

  it('the password from MIDGE_PASSWORD, --password-file or the URL (never needed on argv)', async () => {
    const file = join(tmp, 'pw')
    writeFileSync(file, 'secret\n')
    const runs = [
      runMidgeInProcess(['pub', ...conn(), '-u', 'alice', '-t', 'open/a', '-m', 'x'], {env: {MIDGE_PASSWORD: 'secret'}}),
      runMidgeInProcess(['pub', ...conn(), '-u', 'alice', '--password-file', file, '-t', 'open/a', '-m', 'x']),
      runMidgeInProcess(['pub', '-L', `mqtt://alice:secret@${m.host}:${m.port}/open/a`, '-m', 'x']),
      runMidgeInProcess(['pub', ...conn(), '-t', 'open/a', '-m', 'x'], {env: {MIDGE_USERNAME: 'alice', MIDGE_PASSWORD: 'secret'}}),
    ]
    for (const res of await Promise.all(runs)) assert.equal(res.code, 0, res.stderr)
  })

  it('-u without a password on a terminal prompts for it (through script(1) for a pty)', {skip: spawnSync('script', ['--version']).error !== undefined}, async () => {
    const command = [process.execPath, BIN, 'pub', ...conn(), '-u', 'alice', '-t', 'open/prompt', '-m', 'x', '-q', '1'].map((a) => `'${a}'`).join(' ')
    const child = spawn('script', ['-qec', command, '/dev/null'], {stdio: 'pipe', env: {...process.env, NO_COLOR: '1'}})
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('Password for alice:') && !out.includes('typed')) { out += 'typed'; child.stdin.write('secret\r') }
    })
    const [code] = await once(child, 'exit') as [number]
    assert.equal(code, 0, out)
  })

  it('exit 13 when the broker refuses the publish (v5 PUBACK / PUBREC >= 0x80)', async () => {
    for (const qos of ['1', '2']) {
      const res = await runMidgeInProcess(['pub', ...conn(), '-u', 'alice', '-P', 'secret', '-t', 'closed/a', '-m', 'x', '-q', qos])
      assert.equal(res.code, 13)
      assert.equal(res.stderr, "midge pub: publish to 'closed/a' refused: not authorized\n")
    }
  })
})

describe('pub over unix socket, TLS and WebSocket', {skip: !hasMosquitto()}, () => {
  let m: Mosquitto
  before(async () => { m = await startMosquitto({unixSocket: true, tls: true, websocket: true}) })
  after(async () => { await m.stop() })

  it('--unix, --cafile (mqtts), -L mqtts://, --insecure, ws://', async () => {
    const r = await receiver(m, 'tr/#')
    const runs: string[][] = [
      ['--unix', m.socketPath!, '-t', 'tr/unix'],
      ['-h', 'localhost', '-p', String(m.tlsPort), '--cafile', m.caFile!, '-t', 'tr/tls'],
      ['-L', `mqtts://localhost:${m.tlsPort}/tr/url`, '--cafile', m.caFile!],
      ['-h', '127.0.0.1', '-p', String(m.tlsPort), '--insecure', '-t', 'tr/insecure'],
      ['-L', `ws://127.0.0.1:${m.wsPort}/mqtt`, '-t', 'tr/ws'],
    ]
    for (const args of runs) {
      const res = await runMidge(['pub', ...args, '-m', 'x', '-q', '1'])
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`)
    }
    assert.deepEqual((await r.take(runs.length)).map((x) => x.topic).sort(), ['tr/insecure', 'tr/tls', 'tr/unix', 'tr/url', 'tr/ws'])
    await r.close()
  })

  it('exit 11 with one line when the server certificate is not trusted', async () => {
    const res = await runMidgeInProcess(['pub', '-L', `mqtts://localhost:${m.tlsPort}/x`, '-m', 'x'])
    assert.equal(res.code, 11)
    assert.match(res.stderr, /^midge pub: cannot connect to localhost:\d+: .+\n$/)
  })
})
