// `sub --reconnect` and `pub -l --reconnect` across a broker restart: a real broker process (Debian's
// mosquitto, and `midge broker start`, both with persistence) is stopped and started again on the
// same port while they run, and no QoS 1 message is lost.
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {connect as netConnect} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import mqtt from 'mqtt'
import {BIN, collect, runMidge, spawnMidge} from '../helpers/cli.js'
import {freePort, hasMosquitto} from '../helpers/mosquitto.js'

// a --reconnect client keeps trying while its broker is gone: none may outlive this file, even when a
// test fails or times out before it could stop them
const children = new Set<ChildProcess>()
process.once('exit', () => { for (const c of children) c.kill('SIGKILL') })
function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** A broker process on a fixed port that can be stopped (SIGTERM, so it saves its state) and started again. */
interface Restartable { port: number; start(): Promise<void>; stop(): Promise<void>; dispose(): Promise<void> }

function waitForPort(port: number, child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 30_000
    const onExit = () => reject(new Error(`broker exited (${child.exitCode}) before listening`))
    child.once('exit', onExit)
    const attempt = () => {
      const s = netConnect({host: '127.0.0.1', port})
      s.once('connect', () => { s.destroy(); child.off('exit', onExit); resolve() })
      s.once('error', () => {
        if (Date.now() > deadline) return reject(new Error('broker did not listen within 30 s'))
        setTimeout(attempt, 50)
      })
    }
    attempt()
  })
}

function restartable(name: string, command: (port: number, dir: string) => [string, string[]]): () => Promise<Restartable> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), `midge-restart-${name}-`))
    const port = await freePort()
    let child: ChildProcess | undefined
    const reap = () => child?.kill('SIGKILL')
    process.once('exit', reap)
    const stop = async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGTERM')
        await exited
      }
      child = undefined
    }
    return {
      port,
      async start() {
        const [cmd, args] = command(port, dir)
        child = spawn(cmd, args, {stdio: 'ignore'})
        await waitForPort(port, child)
      },
      stop,
      async dispose() {
        await stop()
        process.off('exit', reap)
        rmSync(dir, {recursive: true, force: true})
      },
    }
  }
}

const BROKERS = [
  {name: 'mosquitto', skip: !hasMosquitto(), make: restartable('mosquitto', (port, dir) => {
    writeFileSync(join(dir, 'mosquitto.conf'), [`user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'allow_anonymous true',
      'persistence true', `persistence_location ${dir}/`, 'max_queued_messages 0'].join('\n') + '\n')
    return ['mosquitto', ['-c', join(dir, 'mosquitto.conf')]]
  })},
  {name: 'midge', skip: false, make: restartable('midge', (port, dir) =>
    [process.execPath, [BIN, 'broker', 'start', '--host', '127.0.0.1', '--port', String(port), '--persistence', dir, '--max-queued-messages', '0', '--log-level', 'error']])},
]

/** Everything a stream printed so far, and a wait for what it prints (checked on every chunk; no fixed waits). */
function watch(stream: NodeJS.ReadableStream) {
  let all = ''
  const waiters = new Set<() => void>()
  stream.on('data', (d: Buffer) => { all += d.toString(); for (const w of waiters) w() })
  return {
    text: () => all,
    until(test: (all: string) => boolean, what: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`timed out waiting for ${what}; got: ${all}`)) }, 40_000)
        const check = () => { if (test(all)) { clearTimeout(timer); waiters.delete(check); resolve() } }
        waiters.add(check)
        check()
      })
    },
  }
}

for (const b of BROKERS) {
  describe(`--reconnect across a ${b.name} restart`, {skip: b.skip}, () => {
    let broker: Restartable
    before(async () => {
      broker = await b.make()
      await broker.start()
    })
    const receivers = new Set<mqtt.MqttClient>()
    after(async () => {
      for (const r of receivers) r.end(true)
      for (const c of children) c.kill('SIGKILL')
      await broker.dispose()
    })

    it('sub -c --reconnect gets every QoS 1 message, including those published while it was away', async () => {
      const id = `rs-${b.name}`
      const publish = async (payload: string) => {
        const res = await runMidge(['pub', '-h', '127.0.0.1', '-p', String(broker.port), '-t', 'rs/t', '-m', payload, '-q', '1'])
        assert.equal(res.code, 0, res.stderr)
      }
      // the persistent session and its subscription first (-E: exit once subscribed), so that m1 waits in it
      const made = await runMidge(['sub', '-h', '127.0.0.1', '-p', String(broker.port), '-c', '-i', id, '-q', '1', '-t', 'rs/#', '-E'])
      assert.equal(made.code, 0, made.stderr)
      await publish('m1')
      const sub = track(spawnMidge(['sub', '-h', '127.0.0.1', '-p', String(broker.port), '-c', '-i', id, '-q', '1', '-t', 'rs/#', '--reconnect=0.1..0.5', '-C', '6']))
      const out = watch(sub.stdout!)
      const err = watch(sub.stderr!)
      const result = collect(sub, 120_000)
      await out.until((all) => all.includes('m1\n'), 'm1')
      await publish('m2')
      await out.until((all) => all.includes('m2\n'), 'm2')
      await broker.stop()
      await err.until((all) => all.includes('connection lost'), 'the loss logged')
      await broker.start()
      await publish('m3') // queued in the session if sub has not reconnected yet
      await publish('m4')
      await err.until((all) => all.includes('reconnected'), 'the reconnect logged')
      await publish('m5')
      await publish('m6')
      const res = await result
      assert.equal(res.code, 0, res.stderr)
      assert.deepEqual(res.stdout.trim().split('\n'), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'])
      assert.match(res.stderr, /connection lost .*reconnecting/)
      assert.match(res.stderr, /reconnected after \d+ attempts? \(1 reconnect so far\), session resumed/)
    })

    it('pub -l --reconnect publishes every QoS 1 line once the broker is back', async () => {
      // the receiver is the mqtt package's client, with a persistent session, reconnecting on its own
      const received: string[] = []
      const receiver = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, {clientId: `rp-${b.name}`, clean: false, reconnectPeriod: 100, protocolVersion: 4})
      receivers.add(receiver)
      receiver.on('message', (_t, payload) => received.push(payload.toString()))
      await new Promise<void>((resolve) => receiver.once('connect', () => resolve()))
      await receiver.subscribeAsync('rp/#', {qos: 1})
      const until = (n: number) => new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${new Set(received).size} of ${n} lines arrived: ${received.join(',')}`)), 60_000)
        const check = () => { if (new Set(received).size >= n) { clearTimeout(timer); receiver.off('message', check); resolve() } }
        receiver.on('message', check)
        check()
      })
      const pub = track(spawnMidge(['pub', '-h', '127.0.0.1', '-p', String(broker.port), '-t', 'rp/t', '-l', '-q', '1', '--reconnect=0.1..0.5']))
      const err = watch(pub.stderr!)
      const result = collect(pub, 120_000)
      const lines = (from: number, to: number) => Array.from({length: to - from + 1}, (_, i) => `line ${from + i}\n`).join('')
      pub.stdin!.write(lines(1, 20))
      await until(20)
      await broker.stop()
      await err.until((all) => all.includes('connection lost'), 'the loss logged')
      pub.stdin!.write(lines(21, 40)) // written while the broker is down
      await broker.start()
      await err.until((all) => all.includes('reconnected'), 'the reconnect logged')
      pub.stdin!.end(lines(41, 60))
      const res = await result
      assert.equal(res.code, 0, res.stderr)
      await until(60)
      receiver.end()
      const expected = Array.from({length: 60}, (_, i) => `line ${i + 1}`)
      assert.deepEqual([...new Set(received)].sort(), [...expected].sort())
      assert.match(res.stderr, /\(1 reconnect so far\)/)
    })

    it('without --reconnect, a lost connection still exits 12', async () => {
      const sub = spawnMidge(['sub', '-h', '127.0.0.1', '-p', String(broker.port), '-t', 'plain/#', '-E'])
      assert.equal((await collect(sub)).code, 0)
      const live = track(spawnMidge(['sub', '-h', '127.0.0.1', '-p', String(broker.port), '-t', 'plain/#', '-v']))
      const out = watch(live.stdout!)
      const result = collect(live, 60_000)
      const ready = out.until((all) => all.includes('plain/x ready'), 'the first message')
      const res1 = await runMidge(['pub', '-h', '127.0.0.1', '-p', String(broker.port), '-t', 'plain/x', '-m', 'ready', '-r'])
      assert.equal(res1.code, 0)
      await ready
      await broker.stop()
      const res = await result
      assert.equal(res.code, 12)
      assert.match(res.stderr, /^midge sub: .+\n$/)
      await broker.start()
      await runMidge(['pub', '-h', '127.0.0.1', '-p', String(broker.port), '-t', 'plain/x', '-n', '-r'])
    })
  })
}

describe('--reconnect usage', () => {
  for (const value of ['0', 'x', '5..1', '-1']) {
    it(`--reconnect=${value}: exit 2 with one line`, async () => {
      const res = await runMidge(['sub', '-p', '1', '-t', 'a', `--reconnect=${value}`])
      assert.equal(res.code, 2)
      assert.match(res.stderr, /^midge sub: --reconnect: '.*' is not SECONDS or MIN\.\.MAX seconds/)
    })
  }
})
