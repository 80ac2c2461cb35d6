// Bridge topic lines and remapping, table-driven against what Mosquitto 2.0 does
// (src/bridge_topic.c, lib/send_publish.c, man mosquitto.conf: topic).
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {localTopicFor, nextRestartDelay, parseTopicLine, remoteTopicFor, resolveBridge, type BridgeTopic} from '../../src/broker/bridge/index.js'

const lines = (...l: string[]): BridgeTopic[] => l.map(parseTopicLine)

describe('bridge topic lines', () => {
  test('defaults: out, QoS 0, no prefixes', () => {
    assert.deepEqual(parseTopicLine('sensors/#'), {pattern: 'sensors/#', direction: 'out', qos: 0, localPrefix: undefined, remotePrefix: undefined,
      localTopic: 'sensors/#', remoteTopic: 'sensors/#'})
  })

  test('prefixes are prepended to the pattern on each side; "" stands for no prefix; the direction is case-insensitive', () => {
    const table: Array<[string, Partial<BridgeTopic>]> = [
      ['sensors/# OUT 1 local/ remote/', {direction: 'out', qos: 1, localTopic: 'local/sensors/#', remoteTopic: 'remote/sensors/#'}],
      ['# in 2 "" remote/', {direction: 'in', qos: 2, localPrefix: undefined, localTopic: '#', remoteTopic: 'remote/#'}],
      ['# both 0 local/ ""', {direction: 'both', localTopic: 'local/#', remoteTopic: '#', remotePrefix: undefined}],
      ['"" out 1 a/exact b/other', {pattern: undefined, localTopic: 'a/exact', remoteTopic: 'b/other'}],
      ['x/# in 1 # a comment', {direction: 'in', qos: 1, localTopic: 'x/#', remoteTopic: 'x/#'}],
    ]
    for (const [line, expected] of table) {
      const t = parseTopicLine(line)
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(t[k as keyof BridgeTopic], v, `${line}: ${k}`)
    }
  })

  test('lines Mosquitto refuses are refused with the reason', () => {
    const table: Array<[string, RegExp]> = [
      ['', /pattern is required/],
      ['a/# sideways', /invalid direction 'sideways'/],
      ['a/# out 3', /invalid QoS '3'/],
      ['"" out 0 local/', /needs both a local and a remote prefix/],
      ['"" both', /needs both/],
      ['a/# out 0 lo+cal/ r/', /invalid local prefix/],
      ['a/# out 0 l/ re#mote/', /invalid remote prefix/],
      ['#/x out', /invalid local topic '#\/x'/],
      ['a/# out 0 l/ r/ extra', /unexpected 'extra'/],
    ]
    for (const [line, error] of table) assert.throws(() => parseTopicLine(line), error, line)
  })
})

describe('bridge topic remapping', () => {
  const topics = lines('sensors/# both 1 local/ remote/', '"" out 0 alias/here alias/there', 'plain/# both', 'in-only/# in 0 l/ r/')

  test('out: the local prefix is removed and the remote prefix added; the first matching line decides', () => {
    const table: Array<[string, string]> = [
      ['local/sensors/a/b', 'remote/sensors/a/b'],
      ['alias/here', 'alias/there'],
      ['plain/x', 'plain/x'],
      ['l/in-only/x', 'l/in-only/x'], // an `in` line does not map outgoing messages
      ['unrelated', 'unrelated'],
    ]
    for (const [from, to] of table) assert.equal(remoteTopicFor(topics, from), to, from)
  })

  test('in: the remote prefix is removed and the local prefix added', () => {
    const table: Array<[string, string]> = [
      ['remote/sensors/a', 'local/sensors/a'],
      ['r/in-only/x', 'l/in-only/x'],
      ['alias/there', 'alias/there'], // an `out` line does not map incoming messages
      ['plain/x', 'plain/x'],
    ]
    for (const [from, to] of table) assert.equal(localTopicFor(topics, from), to, from)
  })

  test('$ topics match only patterns that name their first level', () => {
    const t = lines('# both 0 l/ r/', '$SYS/broker/connection/# out 0 "" up/')
    assert.equal(remoteTopicFor(t, '$SYS/broker/connection/x/state'), 'up/$SYS/broker/connection/x/state')
    assert.equal(remoteTopicFor(t, 'l/a'), 'r/a')
  })
})

describe('bridge defaults and restart delay', () => {
  test('client ids from the host name and the connection name, the notification topic from the remote id', () => {
    const b = resolveBridge({name: 'cloud', addresses: [{host: 'h', port: 1883}], topics: lines('#')}, 'edge1')
    assert.equal(b.remoteClientId, 'edge1.cloud')
    assert.equal(b.localClientId, 'local.edge1.cloud')
    assert.equal(b.notificationTopic, '$SYS/broker/connection/edge1.cloud/state')
    assert.deepEqual([b.protocolVersion, b.cleanSession, b.localCleanSession, b.keepalive, b.tryPrivate, b.notifications, b.startType,
      b.threshold, b.idleTimeout, b.attemptUnsubscribe, b.outgoingRetain], [4, false, false, 60, true, true, 'automatic', 10, 60, true, true])
    assert.deepEqual(b.restartTimeout, {base: 5, cap: 30})
  })

  test('a constant restart_timeout is used as is; base and cap give a jittered delay within them', () => {
    assert.equal(nextRestartDelay({base: 20}, 0), 20_000)
    assert.equal(nextRestartDelay({base: 20}, 99_000), 20_000)
    let d = 0
    for (let i = 0; i < 50; i++) {
      d = nextRestartDelay({base: 5, cap: 30}, d)
      assert.ok(d >= 5000 && d <= 30_000, String(d))
    }
    assert.equal(nextRestartDelay({base: 5, cap: 30}, 20_000, () => 0.999_999), 30_000, 'capped')
    assert.equal(nextRestartDelay({base: 5, cap: 30}, 20_000, () => 0), 5000, 'never below the base')
  })
})
