import assert from 'node:assert/strict'
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {random, testSeed} from '../helpers/random.js'
import {after, test} from 'node:test'
import mqtt, {type IClientOptions, type MqttClient} from 'mqtt'
import {collect, spawnMidge, type RunResult} from '../helpers/cli.js'
import {freePort} from '../helpers/mosquitto.js'

/*
 * The crash test of `broker start --persistence`: publishers send QoS 1 and 2 messages (and retained
 * ones) under load while persistent subscribers receive them; the broker is killed with SIGKILL at
 * a random moment and started again on the same folder, several times. Every message a publisher got
 * its PUBACK/PUBCOMP for must reach every subscriber (before or after the crash), and every retained
 * message acknowledged must still be there (or a later one for its topic).
 */

const dir = mkdtempSync(join(tmpdir(), 'midge-persistence-'))
after(() => rmSync(dir, {recursive: true, force: true}))

interface Running { child: ChildProcess; result: Promise<RunResult> }

async function startBroker(port: number, data: string): Promise<Running> {
  const child = spawnMidge(['broker', 'start', '--port', String(port), '--json', '--persistence', data, '--max-queued-messages', '0', '--log-level', 'warn'])
  const result = collect(child, 300_000)
  await new Promise<void>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('"listening"')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`broker exited (${code}) before listening: ${out}`)))
  })
  return {child, result}
}

/** Online ones stay connected (reconnecting after each crash); the offline one connects only to collect after a restart. */
const SUBSCRIBERS: Array<{clientId: string; qos: 1 | 2; version: 4 | 5; offline?: boolean}> = [
  {clientId: 'sub-v5-q2', qos: 2, version: 5},
  {clientId: 'sub-v4-q1', qos: 1, version: 4},
  {clientId: 'sub-offline-v5-q1', qos: 1, version: 5, offline: true},
]

function options(clientId: string, version: 4 | 5, extra: IClientOptions = {}): IClientOptions {
  return {
    clientId, protocolVersion: version, clean: false, connectTimeout: 5000, keepalive: 30,
    ...(version === 5 ? {properties: {sessionExpiryInterval: 3600}} : {}), ...extra,
  }
}

test('kill -9 under QoS 1/2 load: every acknowledged message reaches its subscribers; retained messages survive (3 rounds)', async (t) => {
  const port = await freePort()
  const url = `mqtt://127.0.0.1:${port}`
  const data = join(dir, 'data')
  let broker = await startBroker(port, data)

  // persistent subscribers that stay for the whole test, reconnecting on their own after each crash
  const received = new Map<string, Set<string>>(SUBSCRIBERS.map((s) => [s.clientId, new Set()]))
  const subscribers: MqttClient[] = []
  const connect = async (s: (typeof SUBSCRIBERS)[number]): Promise<MqttClient> => {
    // the listener goes on before the CONNACK: a resumed session's queued messages can come in the
    // same read, and mqtt.js acknowledges (and emits) them before an awaited connectAsync resumes
    const client = mqtt.connect(url, options(s.clientId, s.version, {reconnectPeriod: s.offline ? 0 : 100}))
    client.on('message', (_topic, payload) => received.get(s.clientId)!.add(payload.toString()))
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
      client.once('close', () => reject(new Error(`${s.clientId}: the connection closed before its CONNACK`)))
    })
    client.on('error', () => undefined)
    return client
  }
  for (const s of SUBSCRIBERS) {
    const client = await connect(s)
    await client.subscribeAsync('load/#', {qos: s.qos})
    if (s.offline) await client.endAsync()
    else subscribers.push(client)
  }
  const offline = SUBSCRIBERS.filter((s) => s.offline)

  const acked = new Set<string>()
  const retainedAcked = new Map<string, number>()
  const seed = testSeed(0xdead) // how many acknowledgements each round waits for before the kill
  const rnd = random(seed)
  t.diagnostic(`seed ${seed} (TEST_SEED replays it)`)
  try {
    for (let round = 0; round < 3; round++) {
      // the kill comes after a (seeded) random number of new acknowledgements, not after a time
      const killAfter = acked.size + 100 + Math.floor(rnd() * 900)
      let reached: () => void = () => {}
      const enough = new Promise<void>((resolve) => { reached = resolve })
      // several publishers, v3.1.1 and v5, QoS 1 and 2, each keeping up to 50 messages in flight
      const publishers = await Promise.all([0, 1, 2].map((i) => mqtt.connectAsync(url, {
        clientId: `pub-${round}-${i}`, protocolVersion: i === 1 ? 4 : 5, reconnectPeriod: 0, connectTimeout: 5000,
      })))
      let stop = false
      const loops = publishers.map(async (client, i) => {
        client.on('error', () => undefined)
        let seq = 0
        const inflight = new Set<Promise<void>>()
        while (!stop && client.connected) {
          const n = seq++
          const id = `r${round}-p${i}-${n}`
          const retained = n % 10 === 0
          const topic = retained ? `retained/p${i}` : `load/p${i}`
          const p = client.publishAsync(topic, retained ? String(round * 1_000_000 + n) : id, {qos: n % 2 === 0 ? 1 : 2, retain: retained})
            .then(() => {
              if (!retained) {
                acked.add(id)
                if (acked.size >= killAfter) reached()
              } else retainedAcked.set(topic, Math.max(retainedAcked.get(topic) ?? -1, round * 1_000_000 + n))
            }, () => undefined)
            .finally(() => inflight.delete(p))
          inflight.add(p)
          if (inflight.size >= 50) await Promise.race(inflight)
        }
      })
      await Promise.race([enough, broker.result.then(() => { throw new Error(`round ${round}: the broker exited under load`) })])
      const before = acked.size
      broker.child.kill('SIGKILL')
      const result = await broker.result
      assert.equal(result.signal, 'SIGKILL')
      stop = true
      // QoS 1/2 publishes still in flight stay pending in mqtt.js until its client ends
      for (const c of publishers) c.end(true)
      await Promise.race([Promise.all(loops), sleep(5000, undefined, {ref: false})])
      assert.ok(before >= killAfter, `seed ${seed} round ${round}: messages were acknowledged before the crash`)

      broker = await startBroker(port, data)
      // every acknowledged message reaches every subscriber, once it has reconnected
      const collecting = await Promise.all(offline.map(connect))
      const deadline = Date.now() + 60_000
      const missing = () => SUBSCRIBERS.map((s) => [...acked].filter((id) => !received.get(s.clientId)!.has(id)).length)
      while (missing().some((n) => n > 0) && Date.now() < deadline) await sleep(100)
      // which ones, for the record: a run of one publisher's numbers (a window in flight) or scattered ones
      const which = SUBSCRIBERS.map((s) => `${s.clientId}: ${[...acked].filter((id) => !received.get(s.clientId)!.has(id)).slice(0, 30).join(' ')}`).join('; ')
      assert.deepEqual(missing(), SUBSCRIBERS.map(() => 0), `seed ${seed} round ${round}: acknowledged messages missing after the restart (${acked.size} acknowledged; ${which})`)
      await Promise.all(collecting.map((c) => c.endAsync()))
      t.diagnostic(`round ${round}: ${acked.size} messages acknowledged so far, all received by ${SUBSCRIBERS.length} subscribers`)

      const check = await mqtt.connectAsync(url, {clientId: `check-${round}`, reconnectPeriod: 0})
      const retained = new Map<string, number>()
      check.on('message', (topic, payload, packet) => { if (packet.retain) retained.set(topic, Number(payload.toString())) })
      // a barrier instead of a wait: the retained messages are sent at SUBSCRIBE, before a later publish
      const marker = new Promise<void>((resolve) => check.on('message', (topic) => { if (topic === 'retained/~marker') resolve() }))
      await check.subscribeAsync('retained/#', {qos: 1})
      await check.publishAsync('retained/~marker', 'm', {qos: 1})
      await marker
      await check.endAsync()
      for (const [topic, last] of retainedAcked) {
        assert.ok((retained.get(topic) ?? -1) >= last, `round ${round}: retained ${topic} is ${retained.get(topic)}, acknowledged ${last}`)
      }
    }
  } finally {
    for (const c of subscribers) c.end(true)
    broker.child.kill('SIGTERM')
    await broker.result
  }
  assert.ok(statSync(join(data, 'midge.db')).isFile())
})

test('kill -9 after a QoS 0 retained message and a new persistent session are committed: both survive', async () => {
  const data = join(dir, 'unacknowledged')
  const port = await freePort()
  const url = `mqtt://127.0.0.1:${port}`
  let broker = await startBroker(port, data)
  try {
    // an offline persistent session subscribed at QoS 1: a PUBACK for a message queued to it waits for
    // the commit that holds it, and commits are made in order, so it says all before it is on disk
    const barrier = await mqtt.connectAsync(url, options('barrier', 5, {reconnectPeriod: 0}))
    await barrier.subscribeAsync('barrier/#', {qos: 1})
    await barrier.endAsync()
    // nothing here waits for a commit: no PUBACK, no SUBACK to hold back
    const pub = await mqtt.connectAsync(url, {clientId: 'pub', reconnectPeriod: 0})
    await pub.publishAsync('sensor/1', '21.5', {qos: 0, retain: true})
    const sub = await mqtt.connectAsync(url, options('later', 5, {reconnectPeriod: 0}))
    await sub.endAsync()
    // the barrier: acknowledged only once committed, after the retained message and the session
    await pub.publishAsync('barrier/x', 'committed', {qos: 1})
    await pub.endAsync()
    broker.child.kill('SIGKILL')
    await broker.result
    broker = await startBroker(port, data)
    const check = mqtt.connect(url, options('later', 5, {reconnectPeriod: 0}))
    const connack = await new Promise<{sessionPresent: boolean}>((resolve) => check.once('connect', resolve))
    assert.equal(connack.sessionPresent, true, 'the persistent session made just before the crash is still there')
    const got = new Promise<string>((resolve) => check.on('message', (_topic, payload) => resolve(payload.toString())))
    await check.subscribeAsync('sensor/#', {qos: 0})
    assert.equal(await Promise.race([got, sleep(30_000, undefined, {ref: false}).then(() => 'nothing')]), '21.5')
    await check.endAsync()
  } finally {
    broker.child.kill('SIGTERM')
    await broker.result
  }
})

test('--persistence refuses a damaged database (exit 17) and leaves it as it was', async () => {
  const data = join(dir, 'damaged')
  const {mkdirSync, writeFileSync, readFileSync} = await import('node:fs')
  mkdirSync(data)
  writeFileSync(join(data, 'midge.db'), 'not a database\n')
  const child = spawnMidge(['broker', 'start', '--port', '0', '--persistence', data])
  const result = await collect(child, 30_000)
  assert.equal(result.code, 17)
  assert.match(result.stderr, /not a SQLite database/)
  assert.equal(readFileSync(join(data, 'midge.db'), 'utf8'), 'not a database\n')
})
