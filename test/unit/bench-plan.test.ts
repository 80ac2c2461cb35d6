import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {DEFAULT_CONFIG, type BenchConfig} from '../../src/bench/config.js'
import {assignShards, expand, fanout, planClients} from '../../src/bench/plan.js'
import {verdict} from '../../src/cli/bench/run.js'
import {fakeResult} from './bench-fixtures.js'

const config = (over: Partial<BenchConfig>): BenchConfig => ({...DEFAULT_CONFIG, mode: 'e2e', client: {}, brokerUrl: 'mqtt://x', ...over})

describe('bench client plans', () => {
  test('templates: %i, %r, %c and %%', () => {
    assert.equal(expand('bench/%i/%r/%c/100%%', 3, 'pub', 'id-3'), 'bench/3/pub/id-3/100%')
  })

  test('end to end: subscribers first, then publishers, ids and topics from the templates, offset by -n', () => {
    const clients = planClients(config({publishers: 3, subscribers: 2, clientId: 'b-%r-%i', topic: 't/%i/%c', subscribeTopics: ['t/#', 'x/%i'], startNumber: 10}))
    assert.deepEqual(clients.map((c) => [c.role, c.clientId]), [['sub', 'b-sub-10'], ['sub', 'b-sub-11'], ['pub', 'b-pub-10'], ['pub', 'b-pub-11'], ['pub', 'b-pub-12']])
    assert.deepEqual(clients[1].filters, ['t/#', 'x/11'])
    assert.equal(clients[4].topic, 't/12/b-pub-12')
    assert.deepEqual(clients.filter((c) => c.role === 'pub').map((c) => c.stream), [10, 11, 12])
  })

  test('-L is split over the publishers, the remainder to the first', () => {
    const clients = planClients(config({publishers: 3, limit: 10}))
    assert.deepEqual(clients.filter((c) => c.role === 'pub').map((c) => c.limit), [4, 3, 3])
    assert.deepEqual(planClients(config({publishers: 2, limit: 0})).filter((c) => c.role === 'pub').map((c) => c.limit), [0, 0])
  })

  test('modes plan only their own clients', () => {
    assert.deepEqual(new Set(planClients(config({mode: 'conn', connections: 5})).map((c) => c.role)), new Set(['idle']))
    assert.equal(planClients(config({mode: 'conn', connections: 5})).length, 5)
    assert.equal(planClients(config({mode: 'pub', publishers: 4})).length, 4)
    assert.equal(planClients(config({mode: 'sub', subscribers: 2})).length, 2)
  })

  test('shards: subscribers and publishers on separate threads when there are two or more', () => {
    const roles = (shards: ReturnType<typeof assignShards>) => shards.map((list) => list.map((c) => `${c.role}${c.index}`).join(' '))
    const clients = planClients(config({publishers: 5, subscribers: 2}))
    assert.deepEqual(roles(assignShards(clients, 1)), ['sub0 sub1 pub0 pub1 pub2 pub3 pub4'])
    assert.deepEqual(roles(assignShards(clients, 2)), ['sub0 sub1', 'pub0 pub1 pub2 pub3 pub4'])
    assert.deepEqual(roles(assignShards(clients, 4)), ['sub0', 'sub1', 'pub0 pub2 pub4', 'pub1 pub3'])
    assert.deepEqual(roles(assignShards(planClients(config({mode: 'conn', connections: 5})), 2)), ['conn0 conn2 conn4', 'conn1 conn3'].map((x) => x.replaceAll('conn', 'idle')))
  })

  test('fan-out counts the subscribed subscribers whose filters match each publisher', () => {
    const clients = planClients(config({publishers: 2, subscribers: 3, topic: 'a/%i', subscribeTopics: ['a/%i']}))
    // subscriber i filters a/i: publisher 0 matches subscriber 0, publisher 1 matches subscriber 1
    assert.deepEqual([...fanout(clients, new Set([0, 1, 2]))], [[0, 1], [1, 1]])
    assert.deepEqual([...fanout(clients, new Set([1]))], [[0, 0], [1, 1]])
    const wide = planClients(config({publishers: 1, subscribers: 100, topic: 'f', subscribeTopics: ['#']}))
    assert.deepEqual([...fanout(wide, new Set(Array.from({length: 100}, (_, i) => i)))], [[0, 100]])
  })
})

describe('bench verdict (exit codes)', () => {
  test('a clean run exits 0', () => {
    assert.deepEqual(verdict(fakeResult()), {exitCode: 0, failure: null})
  })
  test('failed connections: 11 with the reasons, or the CONNACK code when that is every failure', () => {
    const unreachable = verdict(fakeResult({connections: {attempted: 4, connected: 0, failed: 4, lost: 0, failures: {'connect: connection refused': 4}, rate: 0, connackCodes: {}}}))
    assert.equal(unreachable.exitCode, 11)
    assert.equal(unreachable.failure, '4 of 4 connections to mqtt://127.0.0.1:1883 failed: 4 × connect: connection refused')
    const refused = verdict(fakeResult({connections: {attempted: 4, connected: 0, failed: 4, lost: 0, failures: {'CONNACK: not authorized (0x87)': 4}, rate: 0, connackCodes: {135: 4}}}))
    assert.equal(refused.exitCode, 135)
  })
  test('lost connections 12, refused subscriptions 14, refused publishes 13', () => {
    assert.equal(verdict(fakeResult({connections: {...fakeResult().connections, lost: 2, failures: {'connection closed by the broker': 2}}})).exitCode, 12)
    assert.equal(verdict(fakeResult({errors: {'SUBACK: not authorized (0x87)': 1}})).exitCode, 14)
    assert.equal(verdict(fakeResult({messages: {...fakeResult().messages, refused: 5}, errors: {'PUBACK: quota exceeded (0x97)': 5}})).exitCode, 13)
  })
  test('a broker that drops everything: 15, saying nothing was delivered', () => {
    const v = verdict(fakeResult({messages: {...fakeResult().messages, received: 0, lost: 1_000_000, lossPercent: 100}}))
    assert.equal(v.exitCode, 15)
    assert.match(v.failure!, /no message was delivered/)
  })
  test('failed gates: 15, naming each', () => {
    const gates = [
      {condition: 'p99>20ms', passed: false, actual: 30_000, threshold: 20_000, message: 'p99>20ms failed: p99 = 30.0ms, > 20.0ms'},
      {condition: 'loss>0', passed: true, actual: 0, threshold: 0, message: 'loss>0 passed: lost = 0'},
    ]
    assert.deepEqual(verdict(fakeResult({gates})), {exitCode: 15, failure: 'p99>20ms failed: p99 = 30.0ms, > 20.0ms'})
  })
})
