// `midge sub`, flag by flag and exit code by exit code, against Debian's mosquitto and our own broker (a
// parameter), plus a scripted broker for what neither will do (refuse a subscription). Most runs are in
// this process (cli-in-process.ts); the binary runs where the process is the point (signals, a kill,
// a closed stdout pipe) and once each for a timeout, an unreachable broker and a refused subscription.
import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:net'
import {once} from 'node:events'
import {after, before, describe, it} from 'node:test'
import {connect, type MqttClient, type Message} from '../../src/client/index.js'
import {encodePacket, PacketDecoder, type Packet, type SubscribePacket} from '../../src/codec/index.js'
import {collect, runMidge, spawnMidge, type RunResult} from '../helpers/cli.js'
import {runMidgeInProcess} from '../helpers/cli-in-process.js'
import {freePort, hasMosquitto, startMosquitto} from '../helpers/mosquitto.js'

interface Target { host: string; port: number; stop(): Promise<void> }
const BROKERS: Array<{name: string; skip: boolean; start(): Promise<Target>}> = [
  {name: 'mosquitto', skip: !hasMosquitto(), start: () => startMosquitto()},
  {name: 'midge', skip: false, start: async () => {
    const {createBroker} = await import('../../src/index.js') // loaded here: a broken broker fails only its own tests
    const broker = createBroker()
    const {port} = await broker.listen({host: '127.0.0.1', port: 0})
    return {host: '127.0.0.1', port, stop: () => broker.close()}
  }},
]

/** Resolves once `seen()` (what sub -d printed on stderr so far) shows its SUBACK or UNSUBACK. */
function subscribed(watch: (onText: (text: string) => void) => void, ended: Promise<unknown>, seen: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false
    watch(() => { if (!done && /received (SUBACK|UNSUBACK)/.test(seen())) { done = true; resolve() } })
    ended.then(() => { if (!done) reject(new Error(`sub exited early: ${seen()}`)) }, reject)
  })
}

/** Starts `midge sub -d ...` in this process and resolves once subscribed, so publishing can start. */
async function startSub(args: string[]): Promise<{result: Promise<RunResult>}> {
  let seen = ''
  let listener: (text: string) => void = () => {}
  const run = runMidgeInProcess(['sub', '-d', ...args], {onStderr: (text) => { seen += text; listener(text) }})
  await subscribed((f) => { listener = f }, run, () => seen)
  return {result: run.then((r) => ({...r, stderr: withoutTrace(r.stderr)}))}
}

/** startSub with the built binary, for what needs the process: signals, a kill, a closed stdout pipe. */
async function startSubProcess(args: string[]) {
  const child = spawnMidge(['sub', '-d', ...args])
  child.stdin!.end()
  const result = collect(child, 30_000)
  let seen = ''
  child.stderr!.on('data', (d: Buffer | string) => { seen += d.toString() })
  await subscribed((f) => child.stderr!.on('data', f), result, () => seen)
  /** Resolves when stderr (the -d trace) has matched `pattern` `times` times. */
  const traced = (pattern: RegExp, times = 1) => new Promise<void>((resolve, reject) => {
    const count = () => seen.match(new RegExp(pattern.source, 'g'))?.length ?? 0
    if (count() >= times) return resolve()
    const check = () => { if (count() >= times) { child.stderr!.off('data', check); resolve() } }
    child.stderr!.on('data', check)
    result.then(() => reject(new Error(`sub exited before printing ${pattern}: ${seen}`)), reject)
  })
  return {child, traced, result: result.then((r) => ({...r, stderr: withoutTrace(r.stderr)}))}
}

const withoutTrace = (stderr: string) => stderr.split('\n').filter((l) => !/^(sending|received) /.test(l)).join('\n')

for (const target of BROKERS) {
  describe(`sub against ${target.name}`, {skip: target.skip}, () => {
    let b: Target
    let conn: string[]
    let pub: MqttClient
    const send = (topic: string, payload: string | Buffer, options: {qos?: 0 | 1 | 2; retain?: boolean} = {}) => pub.publish(topic, payload, {qos: 1, ...options})
    before(async () => {
      b = await target.start()
      conn = ['-h', b.host, '-p', String(b.port)]
      pub = await connect({host: b.host, port: b.port})
    })
    after(async () => {
      await pub.disconnect()
      await b.stop()
    })

    it('-t repeated, -v, -C: prints "topic payload" and exits 0 after C messages', async () => {
      const s = await startSub([...conn, '-t', 'm/a', '-t', 'm/b', '-v', '-C', '2'])
      await send('m/a', 'one')
      await send('m/b', 'two')
      const r = await s.result
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'm/a one\nm/b two\n')
    })

    for (const v of ['5', '311', '31']) {
      it(`-V ${v} -q 2: payloads printed, one per line`, async () => {
        const s = await startSub([...conn, '-V', v, '-t', `ver/${v}`, '-q', '2', '-C', '2'])
        await send(`ver/${v}`, 'x', {qos: 2})
        await send(`ver/${v}`, 'y', {qos: 0})
        assert.deepEqual(await s.result.then((r) => [r.code, r.stdout]), [0, 'x\ny\n'])
      })
    }

    it('-T filters out, -N drops end of lines, -F formats', async () => {
      const s = await startSub([...conn, '-t', 'f/#', '-T', 'f/skip/#', '-N', '-F', '%t=%p;', '-C', '2'])
      await send('f/skip/x', 'no')
      await send('f/a', '1')
      await send('f/b', '2')
      assert.equal((await s.result).stdout, 'f/a=1;f/b=2;')
    })

    it('--json: NDJSON with base64 for binary payloads and v5 properties', async () => {
      const s = await startSub([...conn, '-t', 'j/#', '--json', '-C', '2', '-q', '1'])
      await pub.publish('j/text', 'hé', {qos: 1, properties: {contentType: 'text/plain', userProperties: {k: 'v'}}})
      await send('j/bin', Buffer.from([0xff, 0]))
      const lines = (await s.result).stdout.trim().split('\n').map((l) => JSON.parse(l))
      assert.equal(lines[0].topic, 'j/text')
      assert.equal(lines[0].payload, 'hé')
      assert.equal(lines[0].qos, 1)
      assert.equal(lines[0].retain, false)
      assert.equal(typeof lines[0].messageId, 'number')
      assert.equal(lines[0].properties.contentType, 'text/plain')
      assert.deepEqual(lines[0].properties.userProperties, {k: 'v'})
      assert.match(lines[0].receivedAt, /^\d{4}-\d\d-\d\dT/)
      assert.deepEqual([lines[1].payload, lines[1].encoding], ['/wA=', 'base64'])
    })

    it('-W: exit 27 "timed out" when nothing comes; -C within -W exits 0', async () => {
      const none = await runMidge(['sub', ...conn, '-t', 'w/none', '-W', '1'])
      assert.equal(none.code, 27)
      assert.equal(none.stderr, 'midge sub: timed out\n')
      const s = await startSub([...conn, '-t', 'w/one', '-W', '10', '-C', '1'])
      await send('w/one', 'x')
      assert.equal((await s.result).code, 0)
    })

    it('-E exits once subscribed; with -c -i the session keeps the messages', async () => {
      const id = `sess-${target.name}`
      const e = await runMidgeInProcess(['sub', ...conn, '-t', 'e/#', '-q', '1', '-c', '-i', id, '-E'])
      assert.equal(e.code, 0, e.stderr)
      await send('e/x', 'kept')
      const r = await runMidgeInProcess(['sub', ...conn, '-t', 'e/#', '-q', '1', '-c', '-i', id, '-C', '1', '-x', '0'])
      assert.deepEqual([r.code, r.stdout], [0, 'kept\n'])
    })

    it('-U unsubscribes (alone it exits after the UNSUBACK)', async () => {
      const id = `unsub-${target.name}`
      assert.equal((await runMidgeInProcess(['sub', ...conn, '-t', 'u/#', '-q', '1', '-c', '-i', id, '-E'])).code, 0)
      const u = await runMidgeInProcess(['sub', ...conn, '-U', 'u/#', '-c', '-i', id])
      assert.equal(u.code, 0, u.stderr)
      await send('u/x', 'dropped')
      const r = await runMidgeInProcess(['sub', ...conn, '-t', 'other', '-c', '-i', id, '-W', '1', '-x', '0'])
      assert.deepEqual([r.code, r.stdout], [27, ''])
    })

    it('-R skips retained messages; --retained-only prints them and stops at the first live one', async () => {
      await send('r/old', 'stale', {retain: true})
      const skip = await startSub([...conn, '-t', 'r/#', '-R', '-C', '1'])
      await send('r/new', 'live')
      assert.equal((await skip.result).stdout, 'live\n')
      const only = await startSub([...conn, '-t', 'r/#', '--retained-only', '-v'])
      await send('r/new', 'live')
      const r = await only.result
      assert.deepEqual([r.code, r.stdout], [0, 'r/old stale\n'])
      await send('r/old', '', {retain: true})
    })

    it('--remove-retained clears what it sees', async () => {
      await send('rm/a', '1', {retain: true})
      await send('rm/b', '2', {retain: true})
      const s = await startSub([...conn, '-t', 'rm/#', '--remove-retained', '-C', '2'])
      assert.equal((await s.result).code, 0)
      const after = await runMidgeInProcess(['sub', ...conn, '-t', 'rm/#', '-W', '1'])
      assert.deepEqual([after.code, after.stdout], [27, ''])
    })

    it('--retain-handling 2 sends no retained messages; --retain-as-published keeps the flag on live ones', async () => {
      await send('rh/a', 'stale', {retain: true})
      const rh = await runMidgeInProcess(['sub', ...conn, '-t', 'rh/#', '--retain-handling', '2', '-W', '1'])
      assert.deepEqual([rh.code, rh.stdout], [27, ''])
      for (const [flags, expected] of [[['--retain-as-published'], '1'], [[], '0']] as const) {
        const s = await startSub([...conn, '-t', 'rap/#', '--retain-handling', '2', '-F', '%r', '-C', '1', ...flags])
        await send('rap/x', 'live', {retain: true})
        assert.equal((await s.result).stdout, `${expected}\n`)
      }
      await send('rh/a', '', {retain: true})
      await send('rap/x', '', {retain: true})
    })

    it('-D subscribe subscription-identifier shows up as %S', async () => {
      const s = await startSub([...conn, '-t', 'sid', '-D', 'subscribe', 'subscription-identifier', '7', '-F', '%S', '-C', '1'])
      await send('sid', 'x')
      assert.equal((await s.result).stdout, '7\n')
    })

    it('--random-filter 0 prints nothing but still counts', async () => {
      const s = await startSub([...conn, '-t', 'rf', '--random-filter', '0', '-C', '2'])
      await send('rf', 'a')
      await send('rf', 'b')
      assert.deepEqual(await s.result.then((r) => [r.code, r.stdout]), [0, ''])
    })

    describe('assertions', () => {
      it('--expect-count N: 0 once N came, 15 when -W runs out first', async () => {
        const ok = await startSub([...conn, '-t', 'x/c', '--expect-count', '2', '-W', '10'])
        await send('x/c', 'a')
        await send('x/c', 'b')
        assert.equal((await ok.result).code, 0)
        // the one message is retained, so it comes with the subscription, not a race against -W 1
        await send('x/one', 'a', {retain: true})
        const short = await startSub([...conn, '-t', 'x/one', '--expect-count', '2', '-W', '1'])
        const r = await short.result
        await send('x/one', '', {retain: true})
        assert.equal(r.code, 15)
        assert.equal(r.stderr, 'midge sub: expected 2 messages within 1s, got 1\n')
      })

      it('--expect-payload (a sequence): 0 on a match, 15 with what came instead', async () => {
        const ok = await startSub([...conn, '-t', 'x/p', '--expect-payload', 'a', '--expect-payload', 'b', '-W', '10'])
        await send('x/p', 'a')
        await send('x/p', 'b')
        assert.equal((await ok.result).code, 0)
        const bad = await startSub([...conn, '-t', 'x/p', '--expect-payload', 'a', '--expect-payload', 'b', '-W', '10'])
        await send('x/p', 'a')
        await send('x/p', 'c')
        const r = await bad.result
        assert.equal(r.code, 15)
        assert.equal(r.stderr, `midge sub: message 2 on 'x/p': expected payload "b", got "c"\n`)
      })

      it('--expect-match REGEX', async () => {
        const s = await startSub([...conn, '-t', 'x/m', '--expect-match', '^ok', '-W', '10', '-C', '2'])
        await send('x/m', 'ok 1')
        await send('x/m', 'nope')
        const r = await s.result
        assert.equal(r.code, 15)
        assert.equal(r.stderr, `midge sub: message 2 on 'x/m': payload "nope" does not match /^ok/\n`)
      })

      it('--expect-retained / --no-expect-retained', async () => {
        await send('x/r', 'stale', {retain: true})
        assert.equal((await runMidgeInProcess(['sub', ...conn, '-t', 'x/r', '--expect-retained', '-W', '5'])).code, 0)
        const r = await runMidgeInProcess(['sub', ...conn, '-t', 'x/r', '--no-expect-retained', '-W', '5'])
        assert.equal(r.code, 15)
        assert.equal(r.stderr, `midge sub: message 1 on 'x/r': expected a live (not retained) message, got a retained one\n`)
        await send('x/r', '', {retain: true})
      })

      it('--expect-none: 0 when nothing comes within -W, 15 at the first message; needs -W', async () => {
        assert.equal((await runMidgeInProcess(['sub', ...conn, '-t', 'x/n', '--expect-none', '-W', '1'])).code, 0)
        const s = await startSub([...conn, '-t', 'x/n', '--expect-none', '-W', '10'])
        await send('x/n', 'boom')
        const r = await s.result
        assert.equal(r.code, 15)
        assert.equal(r.stderr, `midge sub: expected no message within 10s, got message 1 on 'x/n': "boom"\n`)
        assert.equal((await runMidgeInProcess(['sub', ...conn, '-t', 'x/n', '--expect-none'])).code, 2)
      })
    })

    it('SIGINT and SIGTERM end cleanly with 0 (15 if an expectation is unmet)', async () => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const s = await startSubProcess([...conn, '-t', 'sig'])
        s.child.kill(signal)
        const r = await s.result
        assert.deepEqual([r.code, r.stderr], [0, ''])
      }
      const s = await startSubProcess([...conn, '-t', 'sig', '--expect-count', '3'])
      await send('sig', 'x')
      await s.traced(/received PUBLISH/) // sub has the message: SIGINT now finds 1 of 3
      s.child.kill('SIGINT')
      const r = await s.result
      assert.equal(r.code, 15)
      assert.equal(r.stderr, 'midge sub: expected 3 messages, got 1\n')
    })

    it('the will: published when sub is killed, not after a clean SIGINT', async () => {
      const watcher = await connect({host: b.host, port: b.port})
      const wills: Message[] = []
      let willCame: () => void = () => {}
      const firstWill = new Promise<void>((resolve) => { willCame = resolve })
      watcher.onMessage((m) => { wills.push(m); willCame() })
      await watcher.subscribe([{topic: 'will/#'}])
      const clean = await startSubProcess([...conn, '-t', 'x', '--will-topic', 'will/clean', '--will-payload', 'gone'])
      clean.child.kill('SIGINT')
      await clean.result
      const killed = await startSubProcess([...conn, '-t', 'x', '--will-topic', 'will/killed', '--will-payload', 'gone', '--will-qos', '1'])
      killed.child.kill('SIGKILL')
      await killed.result
      // the clean one's will, had it been sent, was sent at its DISCONNECT, before this one's
      await firstWill
      assert.deepEqual(wills.map((m) => [m.topic, m.payload.toString()]), [['will/killed', 'gone']])
      await watcher.disconnect()
    })

    it('exit 12 when the broker goes away', async () => {
      const other = await target.start()
      const s = await startSub(['-h', other.host, '-p', String(other.port), '-t', 'x'])
      await other.stop()
      const r = await s.result
      assert.equal(r.code, 12)
      assert.match(r.stderr, /^midge sub: (connection|disconnected by the broker)[^\n]*\n$/)
    })

    it('a closed stdout pipe ends sub quietly', async () => {
      const s = await startSubProcess([...conn, '-t', 'pipe'])
      s.child.stdout!.destroy()
      await send('pipe', 'x')
      await send('pipe', 'y')
      const r = await s.result
      assert.equal(r.code, 0)
      assert.equal(r.stderr, '')
    })
  })
}

describe('sub usage errors (exit 2, one line)', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no topic', [], /a topic is needed/],
    ['invalid filter', ['-t', 'a/#/b'], /invalid topic filter 'a\/#\/b' \(-t\)/],
    ['invalid -T', ['-t', 'a', '-T', 'x+'], /\(-T\)/],
    ['a filter with ESC', ['-t', 'a/\u001b[31m'], /invalid topic filter "a\/\\u001b\[31m" \(-t\): a topic filter cannot contain control characters/],
    ['bad -F', ['-t', 'a', '-F', '%z'], /^midge sub: -F: Invalid format specifier 'z'\.\n$/],
    ['-F with --json', ['-t', 'a', '-F', '%t', '--json'], /cannot also be provided/],
    ['-R with --retained-only', ['-t', 'a', '-R', '--retained-only'], /cannot also be provided/],
    ['-C with --expect-count', ['-t', 'a', '-C', '1', '--expect-count', '1'], /cannot also be provided/],
    ['bad regex', ['-t', 'a', '--expect-match', '('], /--expect-match/],
    ['bad -W', ['-t', 'a', '-W', 'soon'], /--timeout: 'soon' is not a positive number of seconds/],
    ['bad --random-filter', ['-t', 'a', '--random-filter', '101'], /percentage/],
    ['bad -D', ['-t', 'a', '-D', 'subscribe', 'content-type', 'x'], /not allowed in SUBSCRIBE/],
    ['-x on v3', ['-t', 'a', '-x', '10', '-V', '311'], /-x needs MQTT v5/],
    ['infinite session without id', ['-t', 'a', '-c'], /needs a client id/],
  ]
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await runMidgeInProcess(['sub', '-p', '1', ...args])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    })
  }

  it('exit 11 for an unreachable broker', async () => {
    const port = await freePort()
    const r = await runMidge(['sub', '-h', '127.0.0.1', '-p', String(port), '-t', 'a'])
    assert.equal(r.code, 11)
    assert.equal(r.stderr, `midge sub: cannot connect to 127.0.0.1:${port}: connection refused\n`)
  })
})

/** A broker that accepts any CONNECT, records SUBSCRIBEs and refuses filters starting with "deny". */
async function scriptedBroker(): Promise<{port: number; subscribes: SubscribePacket[]; server: Server}> {
  const subscribes: SubscribePacket[] = []
  const server = createServer((socket) => {
    const decoder = new PacketDecoder({maxPacketSize: 1 << 20})
    let version: 3 | 4 | 5 = 4
    const send = (p: Packet) => socket.write(encodePacket(p, version))
    socket.on('error', () => {})
    socket.on('data', (chunk) => decoder.push(chunk, (p) => {
      if (p.cmd === 'connect') {
        version = p.protocolVersion ?? 4
        decoder.protocolVersion = version
        send({cmd: 'connack', sessionPresent: false, ...(version === 5 ? {reasonCode: 0} : {returnCode: 0})} as Packet)
      } else if (p.cmd === 'subscribe') {
        subscribes.push(p)
        const granted = p.subscriptions.map((s) => s.topic.startsWith('deny') ? (version === 5 ? 0x87 : 0x80) : s.qos)
        send({cmd: 'suback', messageId: p.messageId, granted} as Packet)
      } else if (p.cmd === 'disconnect') {
        socket.end()
      }
    }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {port: (server.address() as {port: number}).port, subscribes, server}
}

describe('sub against a broker that refuses subscriptions', () => {
  let broker: Awaited<ReturnType<typeof scriptedBroker>>
  let conn: string[]
  before(async () => {
    broker = await scriptedBroker()
    conn = ['-h', '127.0.0.1', '-p', String(broker.port)]
  })
  after(() => { broker.server.close() })

  it('exit 14 when a subscription is refused, with the reason in words', async () => {
    const r = await runMidgeInProcess(['sub', ...conn, '-t', 'ok', '-t', 'deny/x'])
    assert.equal(r.code, 14)
    assert.equal(r.stderr, "midge sub: subscription to 'deny/x' refused: not authorized\n")
    const v3 = await runMidgeInProcess(['sub', ...conn, '-t', 'deny/x', '-V', '311'])
    assert.equal(v3.code, 14)
    assert.equal(v3.stderr, "midge sub: subscription to 'deny/x' refused: unspecified error\n")
  })

  it('--partial-ok: a warning for some refusals, exit 14 only when all are refused', async () => {
    const some = await runMidgeInProcess(['sub', ...conn, '-t', 'ok', '-t', 'deny/x', '--partial-ok', '-E'])
    assert.equal(some.code, 0)
    assert.equal(some.stderr, "midge sub: subscription to 'deny/x' refused: not authorized\n")
    const all = await runMidgeInProcess(['sub', ...conn, '-t', 'deny/a', '-t', 'deny/b', '--partial-ok'])
    assert.equal(all.code, 14)
    assert.equal(all.stderr, 'midge sub: all 2 subscriptions refused: not authorized\n')
  })

  it('subscription options and properties reach the SUBSCRIBE', async () => {
    broker.subscribes.length = 0
    const r = await runMidgeInProcess(['sub', ...conn, '-t', 'a', '-t', 'b', '-q', '2', '--no-local', '--retain-as-published', '--retain-handling', '1',
      '-D', 'subscribe', 'subscription-identifier', '9', '-D', 'subscribe', 'user-property', 'k', 'v', '-E'])
    assert.equal(r.code, 0, r.stderr)
    const [s] = broker.subscribes
    assert.deepEqual(s.subscriptions, [{topic: 'a', qos: 2, nl: true, rap: true, rh: 1}, {topic: 'b', qos: 2, nl: true, rap: true, rh: 1}])
    assert.equal(s.properties?.subscriptionIdentifier, 9)
    assert.deepEqual({...s.properties?.userProperties}, {k: 'v'})
  })
})
