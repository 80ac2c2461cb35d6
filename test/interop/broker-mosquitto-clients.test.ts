// Interop: Debian's mosquitto_pub / mosquitto_sub (clients we did not write) against `midge broker start`.
import assert from 'node:assert/strict'
import {execFile, spawn} from 'node:child_process'
import {after, before, describe, test} from 'node:test'
import {promisify} from 'node:util'
import {collect, orphanSafe} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {hasMosquitto} from '../helpers/mosquitto.js'

const run = promisify(execFile)
const skip = hasMosquitto() ? false : 'mosquitto-clients is not installed (.ci/run installs it)'
const VERSIONS = ['311', '5'] as const

describe('mosquitto_pub / mosquitto_sub against midge broker start', {skip}, () => {
  let broker: MidgeBroker
  before(async () => { broker = await startMidgeBroker(['--log-level', 'warn']) })
  after(async () => { await broker.stop() })

  const port = () => String(broker.port)
  /** Starts mosquitto_sub and waits until its subscription is acknowledged (-d prints SUBACK). */
  async function subscriber(args: string[]) {
    // stdbuf: mosquitto_sub's stdout to a pipe is block-buffered; line buffering lets us see SUBACK
    const child = spawn(...orphanSafe('stdbuf', ['-oL', 'mosquitto_sub', '-p', port(), '-d', ...args]), {stdio: ['ignore', 'pipe', 'pipe']})
    const done = collect(child, 20_000)
    let seen = ''
    const checks = new Set<() => void>()
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString()
      for (const check of checks) check()
    })
    /** Resolves once mosquitto_sub's output has `text` `times` times (fails after 30 s). */
    const printed = (text: string, times = 1) => new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => { checks.delete(check); reject(new Error(`mosquitto_sub did not print ${text} ${times}x: ${seen}`)) }, 30_000)
      const check = () => {
        if (seen.split(text).length - 1 < times) return
        checks.delete(check)
        clearTimeout(t)
        resolve()
      }
      checks.add(check)
      check()
    })
    await printed('received SUBACK')
    return {child, done, printed}
  }
  const payloads = (stdout: string) => stdout.split('\n').filter((l) => !/^(Client |Subscribed|Received )/.test(l) && l !== '')

  for (const v of VERSIONS) {
    for (const q of ['0', '1', '2']) {
      test(`v${v} QoS ${q}: mosquitto_pub -> mosquitto_sub`, async () => {
        const topic = `mq/${v}/q${q}`
        const sub = await subscriber(['-V', v, '-q', q, '-t', topic, '-C', '3', '-W', '10', '-v'])
        for (const m of ['one', 'two', 'three']) await run('mosquitto_pub', ['-p', port(), '-V', v, '-q', q, '-t', topic, '-m', m])
        const r = await sub.done
        assert.equal(r.code, 0, r.stderr)
        assert.deepEqual(payloads(r.stdout), [`${topic} one`, `${topic} two`, `${topic} three`])
      })
    }

    test(`v${v} retained: a later subscriber gets it; -r with an empty message clears it`, async () => {
      const topic = `mq/${v}/retained`
      await run('mosquitto_pub', ['-p', port(), '-V', v, '-q', '1', '-r', '-t', topic, '-m', 'kept'])
      const got = await run('mosquitto_sub', ['-p', port(), '-V', v, '-t', topic, '-C', '1', '-W', '5', '-F', '%r %p'])
      assert.equal(got.stdout.trim(), '1 kept')
      await run('mosquitto_pub', ['-p', port(), '-V', v, '-q', '1', '-r', '-t', topic, '-n'])
      // nothing retained any more: --retained-only with -W times out (exit 27) having printed nothing
      const none = await run('mosquitto_sub', ['-p', port(), '-V', v, '-t', topic, '--retained-only', '-W', '1']).catch((e) => e)
      assert.equal(none.code, 27)
      assert.equal(none.stdout, '')
    })

    test(`v${v} will: published when the client is killed`, async () => {
      const topic = `mq/${v}/will`
      const watcher = await subscriber(['-V', v, '-q', '1', '-t', topic, '-C', '1', '-W', '10'])
      const dying = await subscriber(['-V', v, '-t', `mq/${v}/other`, '--will-topic', topic, '--will-payload', 'died', '--will-qos', '1'])
      dying.child.kill('SIGKILL')
      const r = await watcher.done
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(payloads(r.stdout), ['died'])
    })

    test(`v${v} persistent session: QoS 1 messages sent while offline arrive on resume`, async () => {
      const topic = `mq/${v}/persist`
      const id = `persist-${v}`
      const session = v === '5' ? ['-x', '300'] : []
      // subscribe once with a persistent session, then leave
      const first = await subscriber(['-V', v, '-q', '1', '-c', '-i', id, ...session, '-t', topic])
      first.child.kill('SIGTERM')
      await first.done
      for (const m of ['a', 'b', 'c']) await run('mosquitto_pub', ['-p', port(), '-V', v, '-q', '1', '-t', topic, '-m', m])
      const r = await run('mosquitto_sub', ['-p', port(), '-V', v, '-q', '1', '-c', '-i', id, ...session, '-t', topic, '-C', '3', '-W', '10'])
      assert.deepEqual(r.stdout.trim().split('\n'), ['a', 'b', 'c'])
    })
  }

  test('v5 takeover: the first mosquitto_sub is told 0x8E (142) and exits', async () => {
    const first = await subscriber(['-V', '5', '-i', 'same-id', '-t', 'mq/takeover'])
    await run('mosquitto_pub', ['-p', port(), '-V', '5', '-i', 'same-id', '-t', 'mq/x', '-m', 'x'])
    const r = await first.done
    assert.match(r.stdout + r.stderr, /Received DISCONNECT \(142\)/)
  })

  test('v3.1.1 takeover: the first mosquitto_sub loses its connection (and reconnects, as it does by default)', async () => {
    const first = await subscriber(['-V', '311', '-i', 'same-id-3', '-t', 'mq/takeover3'])
    await run('mosquitto_pub', ['-p', port(), '-V', '311', '-i', 'same-id-3', '-t', 'mq/x', '-m', 'x'])
    await first.printed('sending CONNECT', 2) // it reconnected: no need to wait any longer
    first.child.kill('SIGTERM')
    const r = await first.done
    assert.equal((r.stdout.match(/sending CONNECT/g) ?? []).length, 2, r.stdout)
  })
})
