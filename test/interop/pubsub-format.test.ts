// `midge sub` output compared byte for byte with Debian's mosquitto_sub, for the same messages from the
// same broker. Each subscriber first creates a persistent session (-c -E), the messages are published,
// then each reconnects and prints the queued messages: no race, and the same message ids for both.
// Set TZ=UTC for both.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {after, before, describe, it} from 'node:test'
import {BIN} from '../helpers/cli.js'
import {hasMosquitto, startMosquitto, type Mosquitto} from '../helpers/mosquitto.js'

const ENV = {...process.env, TZ: 'UTC', NO_COLOR: '1'}

interface Sample { topic: string; payload: Buffer; args: string[] }
const SAMPLES: Sample[] = [
  {topic: 'fmt/props', payload: Buffer.from('hello world'), args: ['-q', '1', '-D', 'publish', 'content-type', 'text/x', '-D', 'publish', 'user-property', 'k', 'v',
    '-D', 'publish', 'user-property', 'k2', 'v2', '-D', 'publish', 'response-topic', 'rt', '-D', 'publish', 'correlation-data', 'cd', '-D', 'publish', 'payload-format-indicator', '1']},
  {topic: 'fmt/json', payload: Buffer.from('{"x":1}'), args: ['-q', '1']},
  {topic: 'fmt/binary', payload: Buffer.from([0, 1, 0xff, 0x22, 0x5c]), args: ['-q', '0']},
  {topic: 'fmt/controls', payload: Buffer.from([1, 0x1f, 0x7f, 0xc3, 0xa9, 0xff, 9, 10, 0x22]), args: ['-q', '1']},
  {topic: 'fmt/empty', payload: Buffer.alloc(0), args: ['-q', '1']},
  {topic: 'fmt/numbers', payload: Buffer.from(' {"a" : [1, 2.50, 1e20, -0, 0.1, 1.23456789012345678, {}, [], "\\u00e9\\n\\u0001\\ud83d\\ude00", true, null, 1e400, 12345678901234567890, 0.000001, 01, 1.], "a":{"b":{}} } '), args: ['-q', '1']},
  {topic: 'fmt/nested', payload: Buffer.from('[1,2,[3,{"x":[]}]]'), args: ['-q', '1']},
  {topic: 'fmt/bad-json', payload: Buffer.from('[1,]'), args: ['-q', '1']},
  // last: libmosquitto hands QoS 2 messages over at PUBREL, midge at PUBLISH, so only the last keeps its place
  {topic: 'fmt/ünï/"q\\', payload: Buffer.from('ünïcödé'), args: ['-q', '2']},
]

function run(cmd: string, args: string[], input?: Buffer): Promise<{code: number | null; stdout: Buffer; stderr: string}> {
  const child = spawn(cmd, args, {env: ENV, stdio: 'pipe'})
  const out: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => out.push(d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  child.stdin.on('error', () => {}) // a child that exits without reading: its exit code tells
  child.stdin.end(input)
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  return new Promise((resolve) => child.on('close', (code) => { clearTimeout(timer); resolve({code, stdout: Buffer.concat(out), stderr}) }))
}

function midge(args: string[]): ReturnType<typeof run> {
  return run(process.execPath, [BIN, ...args])
}

/** The time-dependent parts of both outputs, replaced. */
function normalise(b: Buffer): string {
  return b.toString('latin1')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\+0000/g, 'TST')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000/g, 'ISO')
    .replace(/\d{10}\.\d{9}/g, 'UNIX')
}

describe('sub output matches mosquitto_sub', {skip: !hasMosquitto()}, () => {
  let broker: Mosquitto
  let n = 0
  before(async () => { broker = await startMosquitto({config: ['queue_qos0_messages true', 'max_queued_messages 0']}) })
  after(async () => { await broker.stop() })

  /** Runs mosquitto_sub and midge sub with the same output flags over the same queued messages. */
  async function both(output: string[], samples = SAMPLES): Promise<[Awaited<ReturnType<typeof run>>, Awaited<ReturnType<typeof run>>]> {
    n++
    const common = ['-p', String(broker.port), '-h', '127.0.0.1', '-t', 'fmt/#', '-q', '2', '-c', '-V', '5']
    const ids = [`mosq-${n}`, `midge-${n}`]
    assert.equal((await run('mosquitto_sub', [...common, '-i', ids[0], '-E'])).code, 0)
    assert.equal((await midge(['sub', ...common, '-i', ids[1], '-E'])).code, 0)
    for (const s of samples) {
      const r = await run('mosquitto_pub', ['-p', String(broker.port), '-h', '127.0.0.1', '-V', '5', '-t', s.topic, s.payload.length ? '-s' : '-n', ...s.args], s.payload)
      assert.equal(r.code, 0, r.stderr)
    }
    const count = ['-C', String(samples.length), '-x', '0']
    const theirs = await run('mosquitto_sub', [...common, '-i', ids[0], ...count, ...output])
    const ours = await midge(['sub', ...common, '-i', ids[1], ...count, ...output])
    return [ours, theirs]
  }

  const formats = [
    ['-v'], [], ['-N'], ['-v', '-N'],
    ['-F', '%t|%10t|%-10t|%.2t|%5.2t|%03.1t|%-0t|%p|%10p|%-10p|%2p|%-05p|%010p'],
    ['-F', '%x|%10x|%-12x|%X|%3X|%l|%05l|%-5l|%m|%-3m|%04m|%q|%5q|%r|%%|@@|\\t\\\\\\e\\a\\v\\r|\\0'],
    ['-F', '%C|%10C|%-8C|%.2C|%F|%05F|%P|%R|%5R|%S|%5S|%A|%3A|%D|%E|%05E'],
    ['-F', '%I|%25I|%-30I|%.4I|%U'],
    ['-F', '%j'], ['-F', '%J'], ['-F', '%j', '--pretty'], ['-F', '%J', '--pretty'], ['-F', 'topic=%t %j %J'],
    ['-F', '%t', '-N'],
  ]
  for (const output of formats) {
    it(output.join(' ') || '(default)', async () => {
      const [ours, theirs] = await both(output)
      assert.equal(ours.code, theirs.code, ours.stderr)
      assert.equal(normalise(ours.stdout), normalise(theirs.stdout))
      assert.equal(ours.stderr, theirs.stderr)
    })
  }

  it('@ strftime fields (retried if the clock ticks between the two runs)', async () => {
    const format = '@a @A @b @B @C @d @D @e @F @g @G @h @H @I @j @k @l @m @M @p @P @R @u @V @w @W @x @y @Y @z @Z @% @Q @@'
    for (let attempt = 0; ; attempt++) {
      const [ours, theirs] = await both(['-F', format], SAMPLES.slice(0, 1))
      if (ours.stdout.equals(theirs.stdout) || attempt === 2) {
        assert.equal(ours.stdout.toString(), theirs.stdout.toString())
        return
      }
    }
  })

  it('the same -F errors for invalid formats', async () => {
    for (const format of ['%', '%z', '%10', '@', '\\', '\\q', '%-0']) {
      const theirs = await run('mosquitto_sub', ['-t', 'x', '-F', format])
      const ours = await midge(['sub', '-t', 'x', '-F', format])
      assert.equal(ours.code, 2)
      assert.match(theirs.stderr, /^Error: (.*)$/m)
      assert.equal(ours.stderr, `midge sub: -F: ${/^Error: (.*)$/m.exec(theirs.stderr)![1]}\n`, format)
    }
  })
})
