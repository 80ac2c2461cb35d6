import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {describe, test} from 'node:test'
import {parseAclFile} from '../../src/broker/auth/acl-file.js'
import {logLevelFor, MosquittoConfError, parseDuration, parseMosquittoConf} from '../../src/cli/broker/mosquitto-conf.js'
import {PasswordFile} from '../../src/passwd/index.js'

const FIXTURES = new URL('../fixtures/mosquitto/', import.meta.url)
const DEBIAN_EXAMPLE = '/usr/share/doc/mosquitto/examples/mosquitto.conf'

function errorsOf(text: string): string[] {
  try {
    parseMosquittoConf(text, {source: 'test.conf'})
  } catch (error) {
    assert.ok(error instanceof MosquittoConfError)
    return error.message.split('\n')
  }
  assert.fail('expected an error')
}

function warningsOf(text: string): string[] {
  return parseMosquittoConf(text, {source: 'test.conf'}).warnings.map((w) => `${w.file}:${w.line}: ${w.message}`)
}

describe('mosquitto.conf', () => {
  test('Debian\'s example (everything commented out) gives an empty config and no warnings', {skip: !existsSync(DEBIAN_EXAMPLE)}, () => {
    const {config, warnings} = parseMosquittoConf(readFileSync(DEBIAN_EXAMPLE, 'utf8'))
    assert.deepEqual(config, {listeners: []})
    assert.deepEqual(warnings, [])
  })

  test('the example adapted: listeners with their protocol, TLS and limits; broker-wide options; warnings for the rest', () => {
    const {config, warnings} = parseMosquittoConf(readFileSync(new URL('mosquitto.conf', FIXTURES), 'utf8'), {source: 'mosquitto.conf'})
    assert.deepEqual(config.listeners, [
      {origin: 'mosquitto.conf:219', port: 1884, host: '0.0.0.0', protocol: 'mqtt', maxConnections: 100},
      {origin: 'mosquitto.conf:271', port: 1883, host: '127.0.0.1', protocol: 'mqtt'},
      {origin: 'mosquitto.conf:273', port: 9001, host: undefined, protocol: 'websockets', maxConnections: 10},
      {
        origin: 'mosquitto.conf:277', port: 8883, host: '0.0.0.0', protocol: 'mqtt',
        certfile: '/etc/midge/certs/server.crt', keyfile: '/etc/midge/certs/server.key', cafile: '/etc/midge/certs/ca.crt',
        requireCertificate: true, useIdentityAsUsername: true,
      },
    ])
    const {listeners: _, bridges, ...rest} = config
    assert.deepEqual(bridges?.map((b) => [b.origin, b.name, b.addresses, b.topics.map((t) => [t.localTopic, t.direction, t.qos])]), [
      ['mosquitto.conf:670', 'example-bridge', [{host: '127.0.0.1', port: 1884}], [['sensors/#', 'both', 0]]],
    ])
    assert.deepEqual(rest, {
      maxInflightMessages: 10, maxKeepalive: 300, maxPacketSize: 1_048_576, maxQueuedBytes: 1_000_000, maxQueuedMessages: 500,
      messageSizeLimit: 262_144, persistentClientExpiration: 14 * 86_400, sysInterval: 5,
      persistence: true, persistenceLocation: '/var/lib/midge/',
      logDest: [{kind: 'stderr'}], logType: ['error', 'warning', 'notice', 'information'], logTimestamp: true,
      allowAnonymous: false, passwordFile: 'pwfile.example', aclFile: 'aclfile.example',
    })
    assert.deepEqual(warnings.map((w) => `${w.line}: ${w.message}`), [
      '194: user is not supported by midge and is ignored: midge does not change user: run it as the user it should run as',
    ])
    assert.equal(logLevelFor(config.logType), 'info')
  })

  test('Mosquitto\'s aclfile.example and pwfile.example are read by midge\'s parsers', () => {
    const acl = parseAclFile(readFileSync(new URL('aclfile.example', FIXTURES), 'utf8'))
    assert.equal(acl.canRead('any', undefined, '$SYS/broker/uptime'), true)
    assert.equal(acl.canWrite('any', undefined, '$SYS/broker/uptime'), false)
    assert.equal(acl.canWrite('c1', 'roger', 'foo/bar'), true)
    assert.equal(acl.canWrite('c1', 'roger', '$SYS/broker/connection/c1/state'), true)
    const passwords = PasswordFile.parse(readFileSync(new URL('pwfile.example', FIXTURES), 'utf8'))
    assert.deepEqual([...passwords.users()].sort(), ['pub_client', 'roger', 'sub_client'])
  })

  test('Mosquitto options that midge now implements: maximum_qos, upgrade_outgoing_qos, max_inflight_bytes, persistence_file', () => {
    const {config, warnings} = parseMosquittoConf('upgrade_outgoing_qos true\nmax_inflight_bytes 65536\npersistence_file m.db\nlistener 1883\nmaximum_qos 1\n')
    assert.deepEqual(warnings, [])
    assert.equal(config.upgradeOutgoingQos, true)
    assert.equal(config.maxInflightBytes, 65_536)
    assert.equal(config.persistenceFile, 'm.db')
    assert.equal(config.listeners[0].maxQos, 1)
    assert.deepEqual(errorsOf('listener 1883\nmax_qos 1\nmaximum_qos 2\n'), ['test.conf:3: maximum_qos: duplicate maximum_qos value for this listener'])
    const mounted = parseMosquittoConf('listener 1883\nmount_point site/\nlistener 1884\n').config.listeners
    assert.deepEqual(mounted.map((l) => l.mountPoint), ['site/', undefined])
    assert.deepEqual(errorsOf('listener 1883\nmount_point a/#\n'), ['test.conf:2: mount_point: mount_point must not contain + or # (\'a/#\')'])
  })

  test('unknown options are warnings with their line numbers; the file still loads', () => {
    assert.deepEqual(warningsOf('# a comment\n\nsys_interval 5\nfrobnicate 7\n  \n  retain_avilable false\n'), [
      'test.conf:4: unknown option \'frobnicate\': ignored',
      'test.conf:6: unknown option \'retain_avilable\': ignored',
    ])
  })

  test('every invalid value is an error with its line number, all reported at once', () => {
    assert.deepEqual(errorsOf([
      'allow_anonymous yes', // 1
      'max_inflight_messages -3', // 2
      'listener', // 3
      'listener 70000', // 4
      'sys_interval 10s', // 5
      'persistent_client_expiration 3x', // 6
      'log_dest carrier-pigeon', // 7
      'max_packet_size 10', // 8
      'listener 8883', // 9
      'protocol mqtt-sn', // 10
      'tls_version sslv3', // 11
      'require_certificate true', // 12
      'password_file /a', // 13
      'password_file /b', // 14
      'per_listener_settings maybe', // 15
    ].join('\n')), [
      'test.conf:1: allow_anonymous: \'yes\' is not true or false',
      'test.conf:2: max_inflight_messages: -3 is outside 0..65535',
      'test.conf:3: listener: a port is required',
      'test.conf:4: listener: 70000 is outside 0..65535',
      'test.conf:5: sys_interval: \'10s\' is not an integer',
      'test.conf:6: persistent_client_expiration: \'3x\' is not a duration such as 2h, 14d, 1w, 6m or 1y',
      'test.conf:7: log_dest: unknown log_dest \'carrier-pigeon\' (stderr, stdout, file, syslog, topic, dlt or none)',
      'test.conf:8: max_packet_size: 10 is below the minimum of 20',
      'test.conf:10: protocol: protocol must be mqtt or websockets, not \'mqtt-sn\'',
      'test.conf:11: tls_version: tls_version must be tlsv1.3, tlsv1.2 or tlsv1.1, not \'sslv3\'',
      'test.conf:14: password_file: duplicate password_file value',
      'test.conf:15: per_listener_settings: \'maybe\' is not true or false',
      'test.conf:9: listener 8883: cafile, capath and require_certificate need certfile and keyfile',
      'test.conf:9: listener 8883: require_certificate needs cafile or capath',
    ])
  })

  test('per_listener_settings true: authentication and client id options belong to the listener before them', () => {
    const {config} = parseMosquittoConf([
      'listener 1883 127.0.0.1', 'allow_anonymous true', 'auto_id_prefix open-',
      'listener 8883', 'password_file /etc/pw', 'acl_file /etc/acl', 'allow_zero_length_clientid false',
      'per_listener_settings true', // read first, wherever it stands, as Mosquitto does
    ].join('\n'))
    assert.equal(config.perListenerSettings, true)
    assert.deepEqual(config.listeners.map((l) => l.security), [
      {allowAnonymous: true, autoIdPrefix: 'open-'},
      {passwordFile: '/etc/pw', aclFile: '/etc/acl', allowZeroLengthClientId: false},
    ])
    assert.equal(config.passwordFile, undefined)
    assert.deepEqual(errorsOf('per_listener_settings true\nacl_file /a\nlistener 1883\n'),
      ['test.conf:2: acl_file: with per_listener_settings true, acl_file belongs to a listener: put it after a listener (or port) line'])
    assert.deepEqual(errorsOf('per_listener_settings true\nlistener 1883\npassword_file /a\npassword_file /b\n'),
      ['test.conf:4: password_file: duplicate password_file value for this listener'])
    // with port, the options before any listener line are the default listener's
    assert.deepEqual(parseMosquittoConf('per_listener_settings true\nport 1884\nallow_anonymous true\n').config.listeners[0].security, {allowAnonymous: true})
  })

  test('TLS settings are checked per listener', () => {
    assert.deepEqual(errorsOf('listener 8883\ncertfile a.crt\n\nlistener 8884\ncertfile a.crt\nkeyfile a.key\nuse_identity_as_username true\n'), [
      'test.conf:1: listener 8883: certfile and keyfile go together',
      'test.conf:4: listener 8884: use_identity_as_username and use_subject_as_username need require_certificate true',
    ])
    assert.deepEqual(errorsOf('listener 1883\nmax_connections 5\nmax_connections 6\n'), ['test.conf:3: max_connections: duplicate max_connections value for this listener'])
  })

  test('options before any listener belong to the default listener (port, bind_address, TLS), which comes first', () => {
    const {config, warnings} = parseMosquittoConf('port 1884\nbind_address 127.0.0.1\nmax_connections 3\nlistener 9001\nprotocol websockets\n', {source: 'test.conf'})
    assert.deepEqual(config.listeners.map((l) => [l.port, l.host, l.protocol, l.maxConnections]), [[1884, '127.0.0.1', 'mqtt', 3], [9001, undefined, 'websockets', undefined]])
    assert.deepEqual(warnings.map((w) => w.line), [1, 2])
    // without port: 1883
    assert.equal(parseMosquittoConf('max_connections 3\n').config.listeners[0].port, 1883)
    // nothing listener-scoped: no default listener
    assert.deepEqual(parseMosquittoConf('sys_interval 3\n').config.listeners, [])
  })

  test('bridge options before any connection line are errors, as in Mosquitto (see mosquitto-bridge.test.ts)', () => {
    assert.deepEqual(errorsOf('sys_interval 5\naddress 10.0.0.2\n'), [
      'test.conf:2: address: a bridge option outside a bridge: it belongs after a `connection NAME` line',
    ])
  })

  test('known Mosquitto options midge does not implement are named as such', () => {
    assert.deepEqual(warningsOf('plugin_load x /usr/lib/x.so\nmemory_limit 0\nlog_dest syslog\ntls_version tlsv1.1\n').map((w) => w.replace(/:.*?: /, ': ')), [
      'test.conf: plugin_load is not supported by midge and is ignored: use plugin lines',
      'test.conf: memory_limit is not supported by midge and is ignored: not implemented',
      'test.conf: log_dest syslog is not supported (stderr, stdout, file or none)',
      'test.conf: tls_version tlsv1.1 is not supported: TLS 1.2 is the lowest version midge accepts',
    ])
  })

  test('auth_plugin and global_plugin load a plugin like plugin, with auth_opt_ like plugin_opt_', () => {
    const {config, warnings} = parseMosquittoConf('auth_plugin ./a.mjs\nauth_opt_x 1\nglobal_plugin ./b.mjs\nplugin_opt_y 2\n')
    assert.deepEqual(warnings, [])
    assert.deepEqual(config.plugins?.map((p) => [p.module, p.options]), [['./a.mjs', {x: '1'}], ['./b.mjs', {y: '2'}]])
  })

  test('include_dir reads the files it is given, with their own names in diagnostics', () => {
    const {config, warnings} = parseMosquittoConf('include_dir /etc/mosquitto/conf.d\nsys_interval 1\n', {
      source: 'main.conf',
      readDir: (dir) => {
        assert.equal(dir, '/etc/mosquitto/conf.d')
        return [{path: '/etc/mosquitto/conf.d/a.conf', text: 'listener 1883\nmystery 1\n'}, {path: '/etc/mosquitto/conf.d/b.conf', text: 'allow_anonymous true\n'}]
      },
    })
    assert.equal(config.listeners[0].origin, '/etc/mosquitto/conf.d/a.conf:1')
    assert.equal(config.allowAnonymous, true)
    assert.equal(config.sysInterval, 1)
    assert.deepEqual(warnings, [{file: '/etc/mosquitto/conf.d/a.conf', line: 2, message: 'unknown option \'mystery\': ignored'}])
  })

  test('listener 0 is any free port (midge); listener 0 with a path, a unix socket, is refused', () => {
    assert.equal(parseMosquittoConf('listener 0 127.0.0.1\n').config.listeners[0].port, 0)
    assert.deepEqual(errorsOf('listener 0 /run/mosquitto.sock\n'), ['test.conf:1: listener: unix socket listeners are not supported'])
  })

  test('values: paths keep their spaces; CRLF line ends; durations', () => {
    const {config} = parseMosquittoConf('password_file /etc/my files/pw\r\nacl_file  acl  \r\nlog_dest file /var/log/midge log\r\n')
    assert.equal(config.passwordFile, '/etc/my files/pw')
    assert.equal(config.aclFile, 'acl')
    assert.deepEqual(config.logDest, [{kind: 'file', path: '/var/log/midge log'}])
    assert.equal(parseDuration('2h'), 7200)
    assert.equal(parseDuration('1w'), 604_800)
    assert.equal(parseDuration('1y'), 31_536_000)
    assert.equal(parseDuration('90'), 90)
  })

  test('cluster_link and cluster_advertise (midge\'s own) are checked as their flags are', () => {
    const c = parseMosquittoConf('cluster_link 0.0.0.0:7000\ncluster_advertise 10.0.0.5\n').config
    assert.equal(c.clusterLink, '0.0.0.0:7000')
    assert.equal(c.clusterAdvertise, '10.0.0.5')
    assert.equal(parseMosquittoConf('cluster_link off\n').config.clusterLink, 'off')
    assert.match(errorsOf('cluster_link nowhere\n').join('\n'), /test\.conf:1: .*"nowhere" is not \[HOST:\]PORT or off/)
    assert.match(errorsOf('cluster_advertise h:99999\n').join('\n'), /test\.conf:1: .*is not a port/)
  })

  test('log types map to a log level', () => {
    assert.equal(logLevelFor(undefined), undefined)
    assert.equal(logLevelFor(['error']), 'error')
    assert.equal(logLevelFor(['error', 'warning']), 'warn')
    assert.equal(logLevelFor(['all']), 'debug')
    assert.equal(logLevelFor(['subscribe']), 'debug')
    assert.equal(logLevelFor(['none']), 'silent')
  })
})
