import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {parseListenerUrl, resolveBrokerSettings, type SettingsFlags} from '../../src/cli/broker/settings.js'
import {CliError} from '../../src/cli/common/exit-codes.js'
import {parseMosquittoConf} from '../../src/cli/broker/mosquitto-conf.js'

const conf = (text: string) => parseMosquittoConf(text).config
const resolve = (flags: SettingsFlags, text?: string, engine = {}) => resolveBrokerSettings(flags, engine, text === undefined ? undefined : conf(text))

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof CliError && e.exitCode === 2 && pattern.test(e.message))
}

describe('broker settings: flags > env > file > defaults', () => {
  test('no flags, no file: one mqtt listener on 127.0.0.1:1883, $SYS every 10 s, log level info', () => {
    const s = resolve({})
    assert.deepEqual(s.listeners, [{spec: {protocol: 'mqtt', host: '127.0.0.1', port: 1883}, origin: 'default'}])
    assert.equal(s.engine.sysInterval, 10)
    assert.equal(s.logLevel, 'info')
    assert.equal(s.shutdownTimeoutMs, 10_000)
    assert.equal(s.http, undefined)
    assert.deepEqual(s.auth, {'password-file': undefined, 'acl-file': undefined, 'allow-anonymous': false})
    assert.equal(s.refuseEveryone, false)
  })

  test('the file\'s listeners, protocols and TLS; a listener without an address binds every IPv4 address', () => {
    const s = resolve({}, [
      'listener 1883 127.0.0.1', 'listener 8883', 'certfile s.crt', 'keyfile s.key', 'cafile ca.crt', 'require_certificate true',
      'use_subject_as_username true', 'tls_version tlsv1.3', 'max_connections 7', 'listener 9001', 'protocol websockets',
      'listener 9443', 'protocol websockets', 'certfile s.crt', 'keyfile s.key', 'socket_domain ipv6',
    ].join('\n'))
    assert.deepEqual(s.listeners.map((l) => [l.spec.protocol, l.spec.host, l.spec.port, l.spec.path, l.spec.maxConnections]), [
      ['mqtt', '127.0.0.1', 1883, undefined, undefined],
      ['mqtts', '0.0.0.0', 8883, undefined, 7],
      ['ws', '0.0.0.0', 9001, '*', undefined],
      ['wss', '::', 9443, '*', undefined],
    ])
    assert.deepEqual(s.listeners[1].tls, {
      certfile: 's.crt', keyfile: 's.key', cafile: 'ca.crt', capath: undefined, crlfile: undefined, requireCertificate: true,
      useIdentityAsUsername: false, useSubjectAsUsername: true, minVersion: 'TLSv1.3', ciphers: undefined, ciphersTls13: undefined,
    })
  })

  test('listener flags replace the file\'s listeners (and say so); -p/-h, --listener and --ws-port combine', () => {
    const s = resolve({port: 0, listener: ['ws://0.0.0.0:8080', 'mqtt://[::1]:1884'], 'ws-port': 9001}, 'listener 1883\nlistener 1884\n')
    assert.deepEqual(s.listeners.map((l) => [l.origin, l.spec.protocol, l.spec.host, l.spec.port, l.spec.path]), [
      ['--port', 'mqtt', '127.0.0.1', 0, undefined],
      ['--listener ws://0.0.0.0:8080', 'ws', '0.0.0.0', 8080, '/mqtt'],
      ['--listener mqtt://[::1]:1884', 'mqtt', '::1', 1884, undefined],
      ['--ws-port', 'ws', '127.0.0.1', 9001, '/mqtt'],
    ])
    assert.deepEqual(s.notes, ['the listeners given by flags replace the 2 of the configuration file'])
  })

  test('TLS flags make and override TLS settings; an mqtts listener without a certificate is a usage error', () => {
    const s = resolve({listener: ['mqtts://0.0.0.0'], cert: 'c.crt', key: 'c.key', cafile: 'ca.crt', 'require-certificate': true, 'tls-version': 'tlsv1.3'})
    assert.equal(s.listeners[0].spec.port, 8883)
    assert.equal(s.listeners[0].tls?.certfile, 'c.crt')
    assert.equal(s.listeners[0].tls?.requireCertificate, true)
    assert.equal(s.listeners[0].tls?.minVersion, 'TLSv1.3')
    const fromFile = resolve({cert: 'new.crt'}, 'listener 8883\ncertfile old.crt\nkeyfile old.key\nrequire_certificate true\ncafile ca\n')
    assert.equal(fromFile.listeners[0].tls?.certfile, 'new.crt')
    assert.equal(fromFile.listeners[0].tls?.keyfile, 'old.key')
    assert.equal(fromFile.listeners[0].tls?.requireCertificate, true)
    usage(() => resolve({listener: ['mqtts://0.0.0.0:8883']}), /needs --cert and --key/)
    usage(() => resolve({cert: 'c.crt', key: 'k'}), /need an mqtts:\/\/ or wss:\/\/ listener/)
  })

  test('--listener URLs', () => {
    assert.deepEqual(parseListenerUrl('mqtt://0.0.0.0'), {protocol: 'mqtt', host: '0.0.0.0', port: 1883})
    assert.deepEqual(parseListenerUrl('wss://[::]:8443/ws'), {protocol: 'wss', host: '::', port: 8443, path: '/ws'})
    assert.deepEqual(parseListenerUrl('ws://127.0.0.1:8080/*'), {protocol: 'ws', host: '127.0.0.1', port: 8080, path: '*'})
    usage(() => parseListenerUrl('ws://127.0.0.1'), /needs a port/)
    usage(() => parseListenerUrl('http://127.0.0.1:80'), /scheme/)
    usage(() => parseListenerUrl('mqtt://127.0.0.1:1883/x'), /no path/)
    usage(() => parseListenerUrl('localhost:1883'), /scheme/)
    usage(() => parseListenerUrl('nonsense'), /not a URL/)
  })

  test('engine options: the file under the flags; per-listener max_qos becomes the lowest', () => {
    const s = resolve({}, 'max_inflight_messages 5\nmax_queued_messages 50\nmax_packet_size 0\nmessage_size_limit 100\nsys_interval 0\nlistener 1\nmax_qos 1\nlistener 2\nmax_qos 2\n',
      {maxInflightMessages: 7, maxQueuedMessages: undefined})
    assert.equal(s.engine.maxInflightMessages, 7)
    assert.equal(s.engine.maxQueuedMessages, 50)
    assert.equal(s.engine.maxPacketSize, 268_435_460, 'max_packet_size 0: no limit beyond the protocol\'s')
    assert.equal(s.engine.messageSizeLimit, 100)
    assert.equal(s.engine.sysInterval, 0)
    assert.equal(s.engine.maxQos, 1)
    assert.deepEqual(s.notes, ['max_qos differs between listeners: midge applies 1 to all of them',
      'allow_anonymous is not set: as in Mosquitto 2, clients without a user name are refused'])
    assert.equal(s.engine.receiveMaximum, 5) // max_inflight_messages is announced as Receive Maximum, as in Mosquitto
    assert.equal(resolve({}, 'max_inflight_messages 0\n').engine.receiveMaximum, 65_535)
    assert.equal(resolve({'sys-interval': 3, 'message-size-limit': 9}, 'sys_interval 0\n').engine.sysInterval, 3)
    assert.equal(resolve({'message-size-limit': 9}).engine.messageSizeLimit, 9)
  })

  test('authentication, persistence, logging and max_connections from the file, under the flags', () => {
    const text = 'password_file pw\nacl_file acl\nallow_anonymous true\npersistence true\npersistence_location /var/lib/x\npersistence_file m.db\nlog_type error\nlistener 1883\nmax_connections 4\n'
    const s = resolve({}, text)
    assert.deepEqual(s.auth, {'password-file': 'pw', 'acl-file': 'acl', 'allow-anonymous': true})
    assert.equal(s.persistence, '/var/lib/x')
    assert.equal(s.persistenceFile, 'm.db') // relative to persistence_location, as in Mosquitto
    assert.equal(resolve({}, 'persistence true\n').persistenceFile, 'midge.db')
    assert.deepEqual(s.notes, [])
    assert.equal(s.logLevel, 'error')
    assert.equal(s.listeners[0].spec.maxConnections, 4)
    const f = resolve({'password-file': 'p2', 'allow-anonymous': false, persistence: '/tmp/p', 'log-level': 'debug', 'max-connections': 9}, text)
    assert.deepEqual(f.auth, {'password-file': 'p2', 'acl-file': 'acl', 'allow-anonymous': false})
    assert.equal(f.persistence, '/tmp/p')
    assert.equal(f.logLevel, 'debug')
    assert.equal(f.listeners[0].spec.maxConnections, 9)
    assert.equal(resolve({}, 'log_dest none\n').logLevel, 'silent')
  })

  test('a configured listener without allow_anonymous refuses anonymous clients, as Mosquitto 2 does', () => {
    const s = resolve({}, 'port 1883\n')
    assert.equal(s.auth['allow-anonymous'], false)
    assert.equal(s.refuseEveryone, true)
    assert.equal(resolve({}, 'listener 1883\nallow_anonymous true\n').refuseEveryone, false)
    assert.equal(resolve({'allow-anonymous': true}, 'listener 1883\n').refuseEveryone, false)
    assert.equal(resolve({port: 1883}, 'listener 1883\n').refuseEveryone, false) // listeners from flags: midge's own default
  })

  test('per_listener_settings true: each listener gets its own authentication and client id settings', () => {
    const s = resolve({}, 'per_listener_settings true\nlistener 1883 127.0.0.1\nallow_anonymous true\nmount_point m/\nlistener 1884\npassword_file pw\nauto_id_prefix p-\n')
    assert.equal(s.refuseEveryone, false)
    assert.deepEqual(s.listeners.map((l) => l.auth), [
      {'password-file': undefined, 'acl-file': undefined, 'allow-anonymous': true, refuseEveryone: false},
      {'password-file': 'pw', 'acl-file': undefined, 'allow-anonymous': false, refuseEveryone: false},
    ])
    assert.deepEqual(s.listeners.map((l) => [l.spec.id, l.spec.mountPoint, l.spec.autoIdPrefix]),
      [['mosquitto.conf:2', 'm/', undefined], ['mosquitto.conf:5', undefined, 'p-']])
    const noFile = resolve({}, 'per_listener_settings true\nlistener 1883\n')
    assert.equal(noFile.listeners[0].auth?.refuseEveryone, true) // Mosquitto's default: allow_anonymous false
    assert.equal(resolve({'password-file': 'all'}, 'per_listener_settings true\nlistener 1883\n').listeners[0].auth?.['password-file'], 'all')
  })

  test('Mosquitto 2.1\'s listener_allow_anonymous and listener_auto_id_prefix, without per_listener_settings', () => {
    const s = resolve({}, 'password_file pw\nlistener 1883 127.0.0.1\nlistener_allow_anonymous true\nlistener_auto_id_prefix lo-\nlistener 8883\n')
    assert.deepEqual(s.listeners.map((l) => l.auth), [
      {'password-file': 'pw', 'acl-file': undefined, 'allow-anonymous': true, refuseEveryone: false},
      {'password-file': 'pw', 'acl-file': undefined, 'allow-anonymous': false, refuseEveryone: false}, // the broker-wide settings
    ])
    assert.deepEqual(s.listeners.map((l) => l.spec.autoIdPrefix), ['lo-', undefined])
    assert.equal(resolve({}, 'listener 1883\n').listeners[0].auth, undefined) // nothing per listener: one set for the broker
  })

  test('allow_anonymous false without a password file refuses everyone, as in Mosquitto', () => {
    assert.equal(resolve({}, 'allow_anonymous false\n').refuseEveryone, true)
    assert.equal(resolve({'allow-anonymous': false}).refuseEveryone, true)
    assert.equal(resolve({}, 'allow_anonymous false\npassword_file pw\n').refuseEveryone, false)
  })

  test('--http-port: loopback unless --http-host', () => {
    assert.deepEqual(resolve({'http-port': 0}).http, {host: '127.0.0.1', port: 0})
    assert.deepEqual(resolve({'http-port': 9100, 'http-host': '0.0.0.0'}).http, {host: '0.0.0.0', port: 9100})
  })
})
