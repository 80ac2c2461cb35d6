// A clean session's claim settles after its CONNACK (session-directory.ts, claimLater): two nodes on
// one real redis-server, clients we did not write (the `mqtt` package, mosquitto_sub). Takeover stays
// exactly once when both nodes claim at the same moment, a clean start still discards a persistent
// session held on another node, and a clean client gone before its claim settled leaves no owner.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {afterEach, beforeEach, describe, test} from 'node:test'
import mqtt from 'mqtt'
import {Redis} from 'ioredis'
import {engineOf} from '../../src/broker/internal.js'
import {collect, orphanSafe} from '../helpers/cli.js'
import {hasMosquitto} from '../helpers/mosquitto.js'
import {startRedis, type RedisServer} from '../helpers/redis.js'
import {connect, end, Liveness, PREFIX, startNode, type Node} from './session-nodes.js'

let redis: RedisServer
let control: Redis
let nodes: Node[] = []
const liveness = new Liveness()

beforeEach(async () => {
  redis = await startRedis()
  control = new Redis(redis.url)
  nodes = [await startNode(redis.url, 'node-a', liveness), await startNode(redis.url, 'node-b', liveness)]
})

afterEach(async () => {
  for (const n of nodes) await n.stop()
  control.disconnect()
  await redis.stop()
})

const portOf = (n: Node) => new URL(n.url).port

/** Polls `check` until it holds; fails with `what` after 20 s. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `not within 20 s: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Both nodes' claims are complete: whatever the race decided has been carried out. */
async function settled(): Promise<void> {
  for (const n of nodes) await n.directory.settled()
}

/** Exactly one node holds the client's session, connected, and Redis names it the owner. */
async function heldOnceBy(clientId: string, node: Node): Promise<void> {
  const holders = nodes.filter((n) => engineOf(n.broker).sessions.has(clientId))
  assert.deepEqual(holders.map((n) => n.id), [node.id], 'one node holds the session')
  assert.ok(engineOf(node.broker).isConnected(clientId), 'its client is connected there')
  assert.match(await control.get(`${PREFIX}:owner:${clientId}`) ?? '', new RegExp(`^${node.id}\\|`), 'Redis names that node the owner')
}

/** The client's session is gone from both nodes and from Redis' owner keys. */
async function gone(clientId: string): Promise<void> {
  await until(`${clientId} is nowhere`, async () => nodes.every((n) => !engineOf(n.broker).sessions.has(clientId))
    && await control.exists(`${PREFIX}:owner:${clientId}`) === 0)
}

/**
 * One mqtt.js client per node, connected at the same moment with the given options (each gets its
 * CONNACK); resolves once one of them is closed and the claims settled, with the loser, the winner and
 * the DISCONNECT reason each was sent.
 */
async function race(options: mqtt.IClientOptions[]): Promise<{clients: mqtt.MqttClient[]; reasons: Array<number | undefined>; loser: number; winner: number}> {
  const clients = nodes.map((n, i) => mqtt.connect(n.url, {...options[i], reconnectPeriod: 0, connectTimeout: 20_000}))
  const reasons: Array<number | undefined> = [undefined, undefined]
  for (const [i, c] of clients.entries()) c.on('disconnect', (packet) => { reasons[i] = packet.reasonCode })
  const closed = clients.map((c, i) => new Promise<number>((resolve) => c.once('close', () => resolve(i))))
  // each is answered at once (the claims settle after the CONNACK)
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve())
    c.once('error', reject)
  })))
  const loser = await Promise.race(closed)
  await settled()
  return {clients, reasons, loser, winner: 1 - loser}
}

describe('a clean client id connecting on two nodes at the same moment', {timeout: 120_000}, () => {
  for (const v of [5, 4] as const) {
    test(`mqtt package, MQTT ${v === 5 ? '5: one connection survives, the other gets DISCONNECT 0x8E' : '3.1.1: one connection survives, the other is closed'} (20 rounds)`, async () => {
      for (let round = 0; round < 20; round++) {
        const id = `racer-${v}-${round}`
        const options = {clientId: id, protocolVersion: v, clean: true}
        const {clients, reasons, loser, winner} = await race([options, options])
        assert.ok(clients[winner]!.connected, `round ${round}: the other connection survives`)
        if (v === 5) assert.equal(reasons[loser], 0x8e, `round ${round}: the loser is told Session taken over`)
        assert.equal(reasons[winner], undefined)
        await heldOnceBy(id, nodes[winner]!)
        clients[winner]!.end(true)
        await gone(id)
      }
    })
  }

  test('mosquitto_sub, MQTT 5: one stays subscribed, the other prints DISCONNECT (142) and exits (8 rounds)', {skip: hasMosquitto() ? false : 'mosquitto-clients is not installed'}, async () => {
    for (let round = 0; round < 8; round++) {
      const id = `mosq-racer-${round}`
      const subs = nodes.map((n) => {
        const child = spawn(...orphanSafe('stdbuf', ['-oL', 'mosquitto_sub', '-p', portOf(n), '-V', '5', '-i', id, '-t', 'race/x', '-d']), {stdio: ['ignore', 'pipe', 'pipe']})
        let out = ''
        child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
        return {child, done: collect(child, 60_000), output: () => out}
      })
      await until('both subscribed', () => subs.every((s) => s.output().includes('received SUBACK')))
      const loser = await Promise.race(subs.map((s, i) => s.done.then(() => i)))
      await settled()
      const winner = 1 - loser
      assert.match(subs[loser]!.output(), /Received DISCONNECT \(142\)/, `round ${round}: the loser was told 0x8E`)
      assert.equal((await subs[loser]!.done).code, 0)
      assert.equal(subs[winner]!.child.exitCode, null, `round ${round}: the other still runs`)
      assert.doesNotMatch(subs[winner]!.output(), /Received DISCONNECT/)
      await heldOnceBy(id, nodes[winner]!)
      subs[winner]!.child.kill('SIGTERM')
      await subs[winner]!.done
      await gone(id)
    }
  })
})

describe('a clean and a persistent connection with one id on two nodes at the same moment', {timeout: 120_000}, () => {
  test('mqtt package, MQTT 5: exactly one survives, the other gets its CONNACK and then 0x8E (10 rounds, sides swapped)', async () => {
    for (let round = 0; round < 10; round++) {
      const id = `mixed-${round}`
      const options = [
        {clientId: id, protocolVersion: 5 as const, clean: true},
        {clientId: id, protocolVersion: 5 as const, clean: false, properties: {sessionExpiryInterval: 3600}},
      ]
      if (round % 2 === 1) options.reverse()
      const {clients, reasons, loser, winner} = await race(options)
      assert.ok(clients[winner]!.connected, `round ${round}: the other connection survives`)
      assert.equal(reasons[loser], 0x8e, `round ${round}: the loser is told Session taken over`)
      await heldOnceBy(id, nodes[winner]!)
      clients[winner]!.end(true)
    }
  })
})

describe('a clean start on another node', {timeout: 120_000}, () => {
  test('discards the persistent session node A held: its client there gets 0x8E, its queue is not delivered, a later resume finds nothing', async () => {
    const [a, b] = nodes as [Node, Node]
    const first = await connect(a.url, {clientId: 'switcher', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}})
    await first.client.subscribeAsync({'sw/t': {qos: 1}})
    await end(first.client)
    const pub = (await connect(a.url, {clientId: 'sw-pub', protocolVersion: 5})).client
    await pub.publishAsync('sw/t', 'queued', {qos: 1})
    // the persistent session is on A, connected again: a clean start on B takes it over
    const again = await connect(a.url, {clientId: 'switcher', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}})
    await again.inbox.wait(1) // the queued message, on A
    let reason: number | undefined
    again.client.on('disconnect', (p) => { reason = p.reasonCode })
    const closed = new Promise<void>((resolve) => again.client.once('close', () => resolve()))
    const clean = await connect(b.url, {clientId: 'switcher', protocolVersion: 5, clean: true})
    assert.equal(clean.sessionPresent, false)
    await closed
    assert.equal(reason, 0x8e)
    await settled()
    await heldOnceBy('switcher', b)
    assert.equal(await control.hexists(`${PREFIX}:sessions`, 'switcher'), 0, 'the stored session is deleted')
    assert.equal(await control.exists(`${PREFIX}:sub:switcher`), 0, 'and its subscriptions')
    // published now: the clean session has no subscription, and the discarded one is nowhere
    await pub.publishAsync('sw/t', 'after', {qos: 1})
    await end(clean.client)
    await gone('switcher')
    const resumed = await connect(a.url, {clientId: 'switcher', protocolVersion: 5, clean: false, properties: {sessionExpiryInterval: 3600}})
    assert.equal(resumed.sessionPresent, false, 'nothing to resume')
    await resumed.client.subscribeAsync({'sw/marker': {qos: 1}})
    await pub.publishAsync('sw/marker', 'marker', {qos: 1})
    await resumed.inbox.wait(1)
    assert.deepEqual(resumed.inbox.messages, [{topic: 'sw/marker', payload: 'marker', qos: 1}], 'nothing of the discarded session arrives')
    for (const c of [resumed.client, pub]) await end(c)
  })
})

describe('a clean client gone before its claim settled', {timeout: 120_000}, () => {
  test('leaves no owner key, owned-set entry or will behind (50 clients)', async () => {
    const [a] = nodes as [Node]
    const ids = Array.from({length: 50}, (_, i) => `brief-${i}`)
    await Promise.all(ids.map(async (id) => {
      const c = mqtt.connect(a.url, {clientId: id, protocolVersion: 5, clean: true, reconnectPeriod: 0, will: {topic: 'w', payload: Buffer.from('x'), qos: 0, retain: false}})
      await new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject) })
      c.end(true) // at once: the claim may still be on its way
    }))
    await settled()
    for (const id of ids) await gone(id)
    await until('no will is recorded', async () => await control.hlen(`${PREFIX}:wills:node-a`) === 0)
    assert.deepEqual(await control.smembers(`${PREFIX}:owned:node-a`), [])
  })
})
