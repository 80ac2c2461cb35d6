// The bridge section of mosquitto.conf: every option read with Mosquitto's meaning, and what
// Mosquitto refuses refused with the file and line.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {MosquittoConfError, parseMosquittoConf} from '../../src/cli/broker/mosquitto-conf.js'

function errorsOf(text: string): string[] {
  try {
    parseMosquittoConf(text, {source: 'b.conf'})
  } catch (error) {
    assert.ok(error instanceof MosquittoConfError)
    return error.message.split('\n')
  }
  assert.fail('expected an error')
}

const FULL = `
listener 1883
connection cloud
address broker1.example:8883 [::1]:1884 broker3.example
round_robin true
topic sensors/# out 1 edge/ site1/
topic cmd/# in 2
topic "" both 0 a/b c/d
bridge_protocol_version mqttv50
remote_clientid edge-1
remote_username edge
remote_password s3cret
local_clientid bridge-local
local_username bridge
local_password lp
cleansession true
local_cleansession false
keepalive_interval 2
idle_timeout 120
restart_timeout 10 60
start_type lazy
threshold 0
try_private false
notifications true
notification_topic edge/state
notifications_local_only true
bridge_attempt_unsubscribe false
bridge_outgoing_retain false
bridge_max_packet_size 65536
bridge_bind_address 10.0.0.5
bridge_cafile /etc/ca.crt
bridge_certfile /etc/c.crt
bridge_keyfile /etc/c.key
bridge_insecure true
bridge_alpn mqtt
bridge_tls_version tlsv1.3
connection second
address 10.0.0.9
topic # both
`

describe('mosquitto.conf bridges', () => {
  test('every option of a connection section, with Mosquitto\'s meaning and limits', () => {
    const {config, warnings} = parseMosquittoConf(FULL, {source: 'b.conf'})
    assert.deepEqual(warnings, [])
    const [cloud, second] = config.bridges!
    assert.equal(cloud.origin, 'b.conf:3')
    assert.deepEqual(cloud.addresses, [{host: 'broker1.example', port: 8883}, {host: '::1', port: 1884}, {host: 'broker3.example', port: 1883}])
    assert.deepEqual(cloud.topics.map((t) => [t.localTopic, t.remoteTopic, t.direction, t.qos]), [
      ['edge/sensors/#', 'site1/sensors/#', 'out', 1], ['cmd/#', 'cmd/#', 'in', 2], ['a/b', 'c/d', 'both', 0],
    ])
    assert.deepEqual(cloud.options, {
      roundRobin: true, protocolVersion: 5, remoteClientId: 'edge-1', remoteUsername: 'edge', remotePassword: 's3cret',
      localClientId: 'bridge-local', localUsername: 'bridge', localPassword: 'lp', cleanSession: true, localCleanSession: false,
      keepalive: 5, idleTimeout: 120, restartTimeout: {base: 10, cap: 60}, startType: 'lazy', threshold: 1, tryPrivate: false,
      notifications: true, notificationTopic: 'edge/state', notificationsLocalOnly: true, attemptUnsubscribe: false, outgoingRetain: false,
      maxPacketSize: 65_536, bindAddress: '10.0.0.5',
    })
    assert.deepEqual(cloud.tls, {cafile: '/etc/ca.crt', certfile: '/etc/c.crt', keyfile: '/etc/c.key', insecure: true, alpn: 'mqtt', version: 'tlsv1.3'})
    assert.equal(second.origin, 'b.conf:37')
    assert.deepEqual(second.topics.map((t) => t.direction), ['both'])
  })

  test('the old names clientid, username and password are the remote ones; a listener line does not end a bridge', () => {
    const {config} = parseMosquittoConf('connection b\naddress h\nclientid c\nusername u\npassword p\nlistener 1884\ntopic x out\n')
    assert.deepEqual(config.bridges![0].options, {remoteClientId: 'c', remoteUsername: 'u', remotePassword: 'p'})
    assert.equal(config.bridges![0].topics.length, 1)
  })

  test('a bridge with no topic, an unknown direction, a bad address: one line each with the file and line number', () => {
    assert.deepEqual(errorsOf('connection b1\naddress 10.0.0.1\n\nconnection b2\naddress h:99999\ntopic a/# sideways\ntopic a/# out 7\n'), [
      'b.conf:5: address: invalid port in address \'h:99999\'',
      'b.conf:6: topic: invalid direction \'sideways\' (in, out or both)',
      'b.conf:7: topic: invalid QoS \'7\' (0, 1 or 2)',
      'b.conf:1: bridge b1: no topic',
      'b.conf:4: bridge b2: no address',
      'b.conf:4: bridge b2: no topic',
    ])
  })

  test('what else Mosquitto refuses: duplicate names and local ids, a second address line, a cap below the base, PSK, a bad version', () => {
    assert.deepEqual(errorsOf([
      'connection a', 'address h', 'address h2', 'topic #', 'restart_timeout 10 5', 'bridge_protocol_version mqttv6', 'bridge_psk 00ff',
      'bridge_certfile c.crt', 'start_type manual',
      'connection a',
      'connection c', 'address h', 'topic #', 'local_clientid local.x',
      'connection d', 'address h', 'topic #', 'local_clientid local.x', 'remote_password p',
    ].join('\n')), [
      'b.conf:3: address: the addresses of a bridge are given once (several on one line)',
      'b.conf:5: restart_timeout: the backoff cap is lower than the base',
      'b.conf:6: bridge_protocol_version: invalid bridge_protocol_version \'mqttv6\' (mqttv50, mqttv311 or mqttv31)',
      'b.conf:7: bridge_psk: bridge_psk: TLS-PSK bridges are not supported by midge; use certificates (bridge_cafile)',
      'b.conf:9: start_type: start_type manual is not supported (nor by Mosquitto)',
      'b.conf:10: connection: duplicate bridge name \'a\'',
      'b.conf:1: bridge a: bridge_certfile and bridge_keyfile go together',
      'b.conf:15: bridge d: remote_password needs remote_username',
      'b.conf:15: bridge d: local_clientid \'local.x\' is also bridge c\'s: give one of them another local_clientid',
    ])
  })

  test('bridge options midge does not implement are warnings with their line', () => {
    const {warnings} = parseMosquittoConf('connection b\naddress h\ntopic #\nbridge_receive_maximum 10\nbridge_reload_type lazy\n', {source: 'b.conf'})
    assert.deepEqual(warnings.map((w) => `${w.line}: ${w.message}`), [
      '4: bridge_receive_maximum is not supported by midge and is ignored (bridge b)',
      '5: bridge_reload_type is ignored: bridges are not reloaded on SIGHUP',
    ])
  })
})
