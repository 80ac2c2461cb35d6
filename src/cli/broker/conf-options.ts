// The options of mosquitto.conf that midge knows: how each is read (OPTIONS, PER_LISTENER_SECURITY),
// why the ones it does not implement are warnings (IGNORED), and the table of every Mosquitto option
// with what midge does with it (confOptionTable), which the README shows.
import {bool, int, oneToken, parseDuration, text, ValueError} from './conf-values.js'
import type {ConfListener, ListenerSecurity, LogDest, LogType, MosquittoConfig, Scope, Setter} from './conf-types.js'
import {LOG_TYPES} from './conf-types.js'
import {checkClusterUrl} from '../../cluster/redis.js'
import {parseAdvertise, parseLinkListen} from '../../cluster/link-address.js'

/** `value` once `check` accepts it (its error as the file's ValueError). */
function checked(value: string, check: (v: string) => unknown): string {
  try {
    check(value)
  } catch (error) {
    throw new ValueError((error as Error).message)
  }
  return value
}

export const PER_LISTENER_SECURITY: Record<string, {key: keyof ListenerSecurity; parse: (args: string) => string | boolean}> = {
  password_file: {key: 'passwordFile', parse: text},
  acl_file: {key: 'aclFile', parse: text},
  allow_anonymous: {key: 'allowAnonymous', parse: bool},
  allow_zero_length_clientid: {key: 'allowZeroLengthClientId', parse: bool},
  auto_id_prefix: {key: 'autoIdPrefix', parse: text},
}

/** Sets a global field once; a second value is an error, as in Mosquitto ("Duplicate ... value"). */
function once<K extends keyof MosquittoConfig>(key: K, parse: (args: string) => MosquittoConfig[K], name: string): Setter {
  return (args, ctx) => {
    if (ctx.config[key] !== undefined) throw new ValueError(`duplicate ${name} value`)
    ctx.config[key] = parse(args)
  }
}

/** Sets a global field; a later value replaces an earlier one. */
function global<K extends keyof MosquittoConfig>(key: K, parse: (args: string) => MosquittoConfig[K]): Setter {
  return (args, ctx) => { ctx.config[key] = parse(args) }
}

function perListener<K extends keyof ConfListener>(key: K, parse: (args: string) => ConfListener[K], name: string): Setter {
  return (args, ctx) => {
    if (ctx.listener[key] !== undefined) throw new ValueError(`duplicate ${name} value for this listener`)
    ctx.listener[key] = parse(args)
  }
}

export const OPTIONS: Record<string, {scope: Scope; set: Setter}> = {
  // authentication and access
  allow_anonymous: {scope: 'global', set: global('allowAnonymous', bool)},
  password_file: {scope: 'global', set: once('passwordFile', text, 'password_file')},
  acl_file: {scope: 'global', set: once('aclFile', text, 'acl_file')},
  allow_zero_length_clientid: {scope: 'global', set: global('allowZeroLengthClientId', bool)},
  auto_id_prefix: {scope: 'global', set: global('autoIdPrefix', text)},
  // read before the rest of the file (parseMosquittoConf), as Mosquitto does: it decides where the others go
  per_listener_settings: {scope: 'global', set: (args) => { bool(args) }},
  // persistence
  persistence: {scope: 'global', set: global('persistence', bool)},
  persistence_location: {scope: 'global', set: global('persistenceLocation', text)},
  persistence_file: {scope: 'global', set: global('persistenceFile', text)},
  autosave_interval: {scope: 'global', set: global('autosaveInterval', (a) => int(a, 0))},
  persistent_client_expiration: {scope: 'global', set: global('persistentClientExpiration', (a) => parseDuration(oneToken(a)))},
  // midge's own: the cluster (--cluster)
  cluster_redis: {scope: 'global', set: global('clusterRedis', (a) => {
    const url = text(a)
    try {
      checkClusterUrl(url)
    } catch (error) {
      throw new ValueError((error as Error).message)
    }
    return url
  })},
  cluster_ack_window: {scope: 'global', set: global('clusterAckWindow', (a) => int(a, 0))},
  cluster_link: {scope: 'global', set: global('clusterLink', (a) => checked(oneToken(a), (t) => t === 'off' || parseLinkListen(t)))},
  cluster_advertise: {scope: 'global', set: global('clusterAdvertise', (a) => checked(oneToken(a), parseAdvertise))},
  // limits
  // 0: no limit (Mosquitto 2.0's default for both)
  message_size_limit: {scope: 'global', set: global('messageSizeLimit', (a) => int(a, 0, 268_435_455))},
  max_packet_size: {scope: 'global', set: global('maxPacketSize', (a) => {
    const n = int(a, 0, 268_435_460)
    if (n > 0 && n < 20) throw new ValueError(`${n} is below the minimum of 20`)
    return n
  })},
  max_inflight_messages: {scope: 'global', set: global('maxInflightMessages', (a) => int(a, 0, 65_535))},
  max_inflight_bytes: {scope: 'global', set: global('maxInflightBytes', (a) => int(a, 0))},
  upgrade_outgoing_qos: {scope: 'global', set: global('upgradeOutgoingQos', bool)},
  max_queued_messages: {scope: 'global', set: global('maxQueuedMessages', (a) => int(a, 0))},
  max_queued_bytes: {scope: 'global', set: global('maxQueuedBytes', (a) => int(a, 0))},
  max_keepalive: {scope: 'global', set: global('maxKeepalive', (a) => int(a, 10, 65_535))},
  retain_available: {scope: 'global', set: global('retainAvailable', bool)},
  sys_interval: {scope: 'global', set: global('sysInterval', (a) => int(a, 0, 65_535))},
  // logging
  log_dest: {scope: 'global', set: (args, ctx) => { (ctx.config.logDest ??= []).push(logDest(args)) }},
  log_type: {scope: 'global', set: (args, ctx) => {
    const t = oneToken(args)
    if (!(LOG_TYPES as readonly string[]).includes(t)) throw new ValueError(`unknown log_type '${t}' (${LOG_TYPES.join(', ')})`)
    ;(ctx.config.logType ??= []).push(t as LogType)
  }},
  log_timestamp: {scope: 'global', set: global('logTimestamp', bool)},
  connection_messages: {scope: 'global', set: global('connectionMessages', bool)},
  // listeners
  max_connections: {scope: 'listener', set: perListener('maxConnections', (a) => int(a, -1), 'max_connections')},
  max_qos: {scope: 'listener', set: perListener('maxQos', (a) => int(a, 0, 2) as 0 | 1 | 2, 'max_qos')},
  maximum_qos: {scope: 'listener', set: perListener('maxQos', (a) => int(a, 0, 2) as 0 | 1 | 2, 'maximum_qos')}, // Mosquitto's synonym
  max_topic_alias: {scope: 'listener', set: perListener('maxTopicAlias', (a) => int(a, 0, 65_535), 'max_topic_alias')},
  protocol: {scope: 'listener', set: (args, ctx) => {
    const p = oneToken(args)
    if (p !== 'mqtt' && p !== 'websockets') throw new ValueError(`protocol must be mqtt or websockets, not '${p}'`)
    ctx.listener.protocol = p
  }},
  socket_domain: {scope: 'listener', set: perListener('socketDomain', (a) => {
    const d = oneToken(a)
    if (d !== 'ipv4' && d !== 'ipv6') throw new ValueError(`socket_domain must be ipv4 or ipv6, not '${d}'`)
    return d
  }, 'socket_domain')},
  // Mosquitto 2.1: the listener's own, with or without per_listener_settings
  listener_allow_anonymous: {scope: 'listener', set: perListener('allowAnonymous', bool, 'listener_allow_anonymous')},
  listener_auto_id_prefix: {scope: 'listener', set: perListener('autoIdPrefix', text, 'listener_auto_id_prefix')},
  mount_point: {scope: 'listener', set: perListener('mountPoint', (a) => {
    const m = text(a)
    if (/[+#]/.test(m)) throw new ValueError(`mount_point must not contain + or # ('${m}')`)
    return m
  }, 'mount_point')},
  cafile: {scope: 'listener', set: perListener('cafile', text, 'cafile')},
  capath: {scope: 'listener', set: perListener('capath', text, 'capath')},
  certfile: {scope: 'listener', set: perListener('certfile', text, 'certfile')},
  keyfile: {scope: 'listener', set: perListener('keyfile', text, 'keyfile')},
  crlfile: {scope: 'listener', set: perListener('crlfile', text, 'crlfile')},
  require_certificate: {scope: 'listener', set: perListener('requireCertificate', bool, 'require_certificate')},
  use_identity_as_username: {scope: 'listener', set: perListener('useIdentityAsUsername', bool, 'use_identity_as_username')},
  use_subject_as_username: {scope: 'listener', set: perListener('useSubjectAsUsername', bool, 'use_subject_as_username')},
  ciphers: {scope: 'listener', set: perListener('ciphers', text, 'ciphers')},
  'ciphers_tls1.3': {scope: 'listener', set: perListener('ciphersTls13', text, 'ciphers_tls1.3')},
  tls_version: {scope: 'listener', set: (args, ctx) => {
    const v = oneToken(args)
    if (v === 'tlsv1.3') ctx.listener.tlsVersion = 'TLSv1.3'
    else if (v === 'tlsv1.2') ctx.listener.tlsVersion = 'TLSv1.2'
    else if (v === 'tlsv1.1') ctx.warn('tls_version tlsv1.1 is not supported: TLS 1.2 is the lowest version midge accepts')
    else throw new ValueError(`tls_version must be tlsv1.3, tlsv1.2 or tlsv1.1, not '${v}'`)
  }},
}

/** Options of Mosquitto that midge knows but does not implement: a warning, not an unknown-option warning. */
export const IGNORED: Record<string, string> = {
  autosave_on_changes: 'persistence is saved by the store, not on a change count',
  bind_interface: 'bind to an address instead',
  check_retain_source: 'not implemented',
  clientid_prefixes: 'not implemented',
  dhparamfile: 'Node chooses the key exchange',
  http_dir: 'midge serves no files',
  memory_limit: 'not implemented',
  pid_file: 'not implemented',
  psk_file: 'TLS-PSK is not supported',
  psk_hint: 'TLS-PSK is not supported',
  queue_qos0_messages: 'QoS 0 messages are never queued for offline clients',
  set_tcp_nodelay: 'Nagle\'s algorithm is always off',
  use_username_as_clientid: 'not implemented',
  user: 'midge does not change user: run it as the user it should run as',
  websockets_headers_size: 'not needed',
  websockets_log_level: 'not needed',
  log_facility: 'syslog is not supported',
  log_timestamp_format: 'the log format is pino\'s',
  allow_duplicate_messages: 'duplicates are always delivered',
  auth_plugin_deny_special_chars: 'it concerns Mosquitto\'s native authentication plugins; midge\'s plugins get user names as they are',
  tls_engine: 'not supported',
  tls_keyform: 'not supported',
  tls_engine_kpass_sha1: 'not supported',
}

function logDest(args: string): LogDest {
  const [kind, ...rest] = args.split(/\s+/)
  const path = rest.join(' ')
  switch (kind) {
    case 'stderr': case 'stdout': case 'none':
      if (path !== '') throw new ValueError(`log_dest ${kind} takes no argument`)
      return {kind}
    case 'file':
      if (path === '') throw new ValueError('log_dest file needs a path')
      return {kind, path}
    case 'syslog': case 'topic': case 'dlt':
      throw new UnsupportedValue(`log_dest ${kind} is not supported (stderr, stdout, file or none)`)
    default:
      throw new ValueError(`unknown log_dest '${kind}' (stderr, stdout, file, syslog, topic, dlt or none)`)
  }
}

/** A valid Mosquitto value that midge does not implement: a warning. */
export class UnsupportedValue extends Error {}

// --- the table of every option (README: "mosquitto.conf options") ------------------------------------

/** Every option of Mosquitto 2.0's mosquitto.conf(5), with the 2.1 additions midge reads. */
export const MOSQUITTO_OPTIONS: readonly string[] = [
  'acl_file', 'address', 'addresses', 'allow_anonymous', 'allow_duplicate_messages', 'allow_zero_length_clientid',
  'auth_opt_*', 'auth_plugin', 'auth_plugin_deny_special_chars', 'auto_id_prefix', 'autosave_interval', 'autosave_on_changes',
  'bind_address', 'bind_interface', 'bridge_alpn', 'bridge_attempt_unsubscribe', 'bridge_bind_address', 'bridge_cafile',
  'bridge_capath', 'bridge_certfile', 'bridge_ciphers', 'bridge_ciphers_tls1.3', 'bridge_identity', 'bridge_insecure',
  'bridge_keyfile', 'bridge_max_packet_size', 'bridge_max_topic_alias', 'bridge_outgoing_retain', 'bridge_protocol_version',
  'bridge_psk', 'bridge_receive_maximum', 'bridge_reload_type', 'bridge_require_ocsp', 'bridge_session_expiry_interval',
  'bridge_tcp_keepalive', 'bridge_tcp_user_timeout', 'bridge_tls_use_os_certs', 'bridge_tls_version', 'cafile', 'capath',
  'certfile', 'check_retain_source', 'ciphers', 'ciphers_tls1.3', 'cleansession', 'clientid_prefixes', 'connection',
  'connection_messages', 'crlfile', 'dhparamfile', 'global_plugin', 'http_dir', 'idle_timeout', 'include_dir',
  'keepalive_interval', 'keyfile', 'listener', 'listener_allow_anonymous', 'listener_auto_id_prefix', 'local_cleansession',
  'local_clientid', 'local_password', 'local_username', 'log_dest', 'log_facility', 'log_timestamp', 'log_timestamp_format',
  'log_type', 'max_connections', 'max_inflight_bytes', 'max_inflight_messages', 'max_keepalive', 'max_packet_size', 'max_qos',
  'max_queued_bytes', 'max_queued_messages', 'max_topic_alias', 'maximum_qos', 'memory_limit', 'message_size_limit',
  'mount_point', 'notification_topic', 'notifications', 'notifications_local_only', 'password_file', 'per_listener_settings',
  'persistence', 'persistence_file', 'persistence_location', 'persistent_client_expiration', 'pid_file', 'plugin',
  'plugin_load', 'plugin_opt_*', 'plugin_use', 'port', 'protocol', 'psk_file', 'psk_hint', 'queue_qos0_messages',
  'remote_clientid', 'remote_password', 'remote_username', 'require_certificate', 'restart_timeout', 'retain_available',
  'round_robin', 'set_tcp_nodelay', 'socket_domain', 'start_type', 'sys_interval', 'threshold', 'tls_engine',
  'tls_engine_kpass_sha1', 'tls_keyform', 'tls_version', 'topic', 'try_private', 'upgrade_outgoing_qos',
  'use_identity_as_username', 'use_subject_as_username', 'use_username_as_clientid', 'user', 'websockets_headers_size',
  'websockets_log_level',
]

/** What midge does with the options the parser reads itself, or whose meaning needs a word. */
const NOTES: Record<string, string> = {
  listener: 'yes',
  port: 'yes (deprecated by Mosquitto 2: a warning)',
  bind_address: 'yes (deprecated by Mosquitto 2: a warning)',
  include_dir: 'yes',
  connection: 'yes: starts a bridge section',
  plugin: 'yes: a JavaScript module, `midge:http`, `midge:jwt`, or Dynamic Security; another native `.so` is refused (exit 17)',
  auth_plugin: 'yes, as `plugin`',
  global_plugin: 'yes, as `plugin` (plugins apply to every listener)',
  'plugin_opt_*': 'yes: the options of the plugin above',
  'auth_opt_*': 'yes, as `plugin_opt_*`',
  plugin_load: 'warning: use `plugin` lines',
  plugin_use: 'warning: use `plugin` lines',
  per_listener_settings: 'yes (read before the rest of the file, as Mosquitto does)',
  log_dest: 'yes: stderr, stdout, file, none (syslog, topic and dlt: a warning)',
  tls_version: 'yes: tlsv1.3, tlsv1.2 (tlsv1.1: a warning, TLS 1.2 is the minimum)',
  persistence_file: 'yes: the database\'s name (SQLite), in `persistence_location`',
  bridge_identity: 'refused (exit 17): TLS-PSK is not supported',
  bridge_psk: 'refused (exit 17): TLS-PSK is not supported',
  bridge_require_ocsp: 'yes when false; true is refused (exit 17)',
  bridge_tls_use_os_certs: 'warning: Node\'s CA list is used whenever no `bridge_cafile`/`bridge_capath` is set',
  bridge_reload_type: 'warning: bridges are not reloaded on SIGHUP',
}

/**
 * The option names a bridge section reads (mosquitto-bridge.ts's setters), and the per-listener
 * security options: given by the caller so that this table follows the code it describes.
 */
export interface OptionRegistries {
  bridge: Iterable<string>
}

/** One row per Mosquitto option: what midge does with it. */
export function confOptionTable(registries: OptionRegistries): Array<{option: string; midge: string}> {
  const bridge = new Set(registries.bridge)
  return MOSQUITTO_OPTIONS.map((option) => {
    const note = NOTES[option]
    if (note !== undefined) return {option, midge: note}
    if (bridge.has(option)) return {option, midge: 'yes, in a bridge section'}
    const o = OPTIONS[option]
    if (o !== undefined) {
      const scoped = option in PER_LISTENER_SECURITY ? ' (per listener with `per_listener_settings true`)' : ''
      return {option, midge: o.scope === 'listener' ? 'yes, per listener' : `yes${scoped}`}
    }
    const why = IGNORED[option]
    if (why !== undefined) return {option, midge: `warning: ${why}`}
    if (option.startsWith('bridge_')) return {option, midge: 'warning: not supported (Mosquitto 2.1)'}
    return {option, midge: 'unknown: a warning'}
  })
}

/** The table in Markdown, as the README shows it. */
export function renderConfTable(registries: OptionRegistries): string {
  const rows = confOptionTable(registries).map((r) => `| \`${r.option}\` | ${r.midge} |`)
  return ['| option | midge |', '|---|---|', ...rows].join('\n') + '\n'
}
