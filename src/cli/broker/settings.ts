// `broker start`: flags, MIDGE_* environment variables (oclif reads them into the flags), a
// mosquitto.conf (-c) and the defaults, resolved once, in that order, into one typed object: the
// engine options, the listeners (with the TLS files they read, for SIGHUP), authentication,
// persistence, logging and the HTTP endpoint.
import {readdirSync, readFileSync} from 'node:fs'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {checkTlsOptions} from '../../broker/internal.js'
import {PROTOCOL_MAX_PACKET_SIZE} from '../../codec/index.js'
import type {BrokerOptions, ListenerProtocol, ListenerSpec, TlsOptions} from '../../index.js'
import type {QoS} from '../../codec/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import type {LogLevel} from '../common/logger.js'
import {logLevelFor, MosquittoConfError, parseMosquittoConf, type ConfDiagnostic, type ConfListener, type LogDest, type MosquittoConfig} from './mosquitto-conf.js'
import {checkClusterUrl} from '../../cluster/redis.js'

/** The flags this module reads (see cli/broker/flags.ts); undefined: not given on the command line nor in the environment. */
export interface SettingsFlags {
  host?: string
  port?: number
  listener?: string[]
  'ws-port'?: number
  cert?: string
  key?: string
  cafile?: string
  capath?: string
  crlfile?: string
  'require-certificate'?: boolean
  'use-identity-as-username'?: boolean
  'use-subject-as-username'?: boolean
  'tls-version'?: 'tlsv1.2' | 'tlsv1.3'
  'max-connections'?: number
  'http-port'?: number
  'http-host'?: string
  'sys-interval'?: number
  'message-size-limit'?: number
  'shutdown-timeout'?: number
  'allow-anonymous'?: boolean
  'password-file'?: string
  'acl-file'?: string
  dynsec?: string
  'log-level'?: LogLevel
  persistence?: string
  cluster?: string
  'node-id'?: string
}

/** The TLS settings of a listener as files (read at start and on every SIGHUP). */
export interface TlsFiles {
  certfile: string
  keyfile: string
  cafile?: string
  capath?: string
  crlfile?: string
  requireCertificate: boolean
  useIdentityAsUsername: boolean
  useSubjectAsUsername: boolean
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  ciphers?: string
  ciphersTls13?: string
}

/** A listener's own authentication (per_listener_settings true). */
export interface ListenerAuthSetting {
  'password-file'?: string
  'acl-file'?: string
  'allow-anonymous': boolean
  /** allow_anonymous false without a password file: the listener refuses every client, as in Mosquitto. */
  refuseEveryone: boolean
}

export interface ListenerSetting {
  spec: Omit<ListenerSpec, 'tls'>
  tls?: TlsFiles
  /** Its own authentication (per_listener_settings true); otherwise the broker-wide one applies. */
  auth?: ListenerAuthSetting
  /** Where it was asked for: `--listener`, `--port`, `--ws-port`, `FILE:LINE`. */
  origin: string
}

export interface BrokerSettings {
  /** Engine options from the file, overridden by flags (undefined: the engine's default). */
  engine: Partial<BrokerOptions>
  listeners: ListenerSetting[]
  auth: {'password-file'?: string; 'acl-file'?: string; 'allow-anonymous': boolean; dynsec?: string}
  /** allow_anonymous false (file) or --no-allow-anonymous without a password file: Mosquitto then refuses every client. */
  refuseEveryone: boolean
  /** The persistence folder (--persistence, or persistence true + persistence_location). */
  persistence?: string
  /** The database's file name in that folder: persistence_file (Mosquitto's meaning), else midge.db. */
  persistenceFile: string
  logLevel: LogLevel
  logDest?: LogDest[]
  http?: {host: string; port: number}
  shutdownTimeoutMs: number
  /** --cluster (or cluster_redis): the Redis URL of the cluster this node joins, and --node-id. */
  cluster?: {url: string; nodeId?: string}
  /** Things worth a log line: which listeners win, which file values were adjusted. */
  notes: string[]
}

export const DEFAULT_SYS_INTERVAL = 10
export const DEFAULT_SHUTDOWN_TIMEOUT = 10
export const DEFAULT_PERSISTENCE_FILE = 'midge.db'
const DEFAULT_PORTS: Partial<Record<ListenerProtocol, number>> = {mqtt: 1883, mqtts: 8883}

/** Reads and parses a mosquitto.conf: unreadable is exit 10, invalid exit 17 (every error with its line). */
export async function readMosquittoConf(path: string): Promise<{config: MosquittoConfig; warnings: ConfDiagnostic[]}> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read the configuration file ${path}: ${describeFsError(error)}`, ExitCode.InputFile)
  }
  try {
    return parseMosquittoConf(text, {source: path, readDir: readConfDir})
  } catch (error) {
    if (error instanceof MosquittoConfError) {
      throw new CliError(`invalid configuration:\n${error.message}`, ExitCode.BrokerStartFailed)
    }
    throw new CliError((error as Error).message, ExitCode.BrokerStartFailed)
  }
}

/** include_dir: the directory's *.conf files, sorted by name (as Mosquitto reads them). */
function readConfDir(dir: string): Array<{path: string; text: string}> {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.conf')).sort()
  } catch (error) {
    throw new MosquittoConfError([{file: dir, line: 0, message: `include_dir: cannot read ${dir}: ${describeFsError(error)}`}])
  }
  return names.map((n) => ({path: join(dir, n), text: readFileSync(join(dir, n), 'utf8')}))
}

/** Resolves flags (and the environment, through them) over the file over the defaults. */
export function resolveBrokerSettings(flags: SettingsFlags, engineFlags: Partial<BrokerOptions>, file?: MosquittoConfig): BrokerSettings {
  const conf: MosquittoConfig = file ?? {listeners: []}
  const notes: string[] = []
  const listeners = listenersFromFlags(flags)
  const listenersFromFile = listeners.length === 0 && conf.listeners.length > 0
  if (listeners.length === 0) {
    listeners.push(...conf.listeners.map((l) => fromConfListener(l, conf, flags)))
  } else if (conf.listeners.length > 0) {
    notes.push(`the listeners given by flags replace the ${conf.listeners.length} of the configuration file`)
  }
  if (listeners.length === 0) listeners.push({spec: {protocol: 'mqtt', host: '127.0.0.1', port: 1883}, origin: 'default'})
  applyTlsFlags(listeners, flags)
  if (flags['max-connections'] !== undefined) for (const l of listeners) l.spec.maxConnections = flags['max-connections']
  for (const l of listeners) {
    const secure = l.spec.protocol === 'mqtts' || l.spec.protocol === 'wss'
    if (secure && l.tls === undefined) {
      throw new CliError(`${l.origin}: a ${l.spec.protocol} listener needs --cert and --key (certfile and keyfile)`, ExitCode.Usage)
    }
  }

  const engine: Partial<BrokerOptions> = {...engineFromConf(conf, notes), ...stripUndefined(engineFlags)}
  engine.sysInterval = flags['sys-interval'] ?? conf.sysInterval ?? DEFAULT_SYS_INTERVAL
  if (flags['message-size-limit'] !== undefined) engine.messageSizeLimit = flags['message-size-limit']

  const passwordFile = flags['password-file'] ?? conf.passwordFile
  let allowAnonymous = flags['allow-anonymous'] ?? conf.allowAnonymous
  const perListener = listenersFromFile && conf.perListenerSettings === true
  if (allowAnonymous === undefined && listenersFromFile && !perListener) {
    // Mosquitto 2 starts a configured listener with allow_anonymous false unless the file says otherwise
    allowAnonymous = false
    notes.push('allow_anonymous is not set: as in Mosquitto 2, clients without a user name are refused')
  }
  const dynsec = flags.dynsec ?? conf.dynsecFile
  const persistence = flags.persistence ?? (conf.persistence ? conf.persistenceLocation ?? '.' : undefined)
  // when some listener has its own authentication, every listener gets one, so none falls through
  if (listeners.some((l) => l.auth !== undefined)) {
    const pw = passwordFile
    for (const l of listeners) {
      l.auth ??= {'password-file': pw, 'acl-file': flags['acl-file'] ?? conf.aclFile, 'allow-anonymous': allowAnonymous ?? false,
        refuseEveryone: allowAnonymous === false && pw === undefined}
    }
  }
  const logTypeLevel = logLevelFor(conf.logType)
  const logDest = conf.logDest
  return {
    engine,
    listeners,
    auth: {'password-file': passwordFile, 'acl-file': flags['acl-file'] ?? conf.aclFile, 'allow-anonymous': allowAnonymous ?? false, ...(dynsec === undefined ? {} : {dynsec})},
    // per_listener_settings: each listener decides (ListenerSetting.auth); Dynamic Security decides itself
    refuseEveryone: !perListener && allowAnonymous === false && passwordFile === undefined && dynsec === undefined,
    persistence,
    // relative to the persistence folder, as Mosquitto reads it; midge's file is SQLite whatever its name
    persistenceFile: conf.persistenceFile ?? DEFAULT_PERSISTENCE_FILE,
    logLevel: flags['log-level'] ?? (logDest?.some((d) => d.kind === 'none') && logDest.length === 1 ? 'silent' : logTypeLevel) ?? 'info',
    logDest,
    http: flags['http-port'] === undefined ? undefined : {host: flags['http-host'] ?? '127.0.0.1', port: flags['http-port']},
    shutdownTimeoutMs: (flags['shutdown-timeout'] ?? DEFAULT_SHUTDOWN_TIMEOUT) * 1000,
    cluster: clusterSetting(flags.cluster ?? conf.clusterRedis, flags['node-id']),
    notes,
  }
}

/** `--listener URL`s, then -h/-p (an mqtt listener), then --ws-port. */
function listenersFromFlags(flags: SettingsFlags): ListenerSetting[] {
  const out: ListenerSetting[] = []
  const host = flags.host ?? '127.0.0.1'
  if (flags.host !== undefined || flags.port !== undefined) {
    out.push({spec: {protocol: 'mqtt', host, port: flags.port ?? 1883}, origin: '--port'})
  }
  for (const url of flags.listener ?? []) out.push({spec: parseListenerUrl(url), origin: `--listener ${url}`})
  if (flags['ws-port'] !== undefined) out.push({spec: {protocol: 'ws', host, port: flags['ws-port'], path: '/mqtt'}, origin: '--ws-port'})
  return out
}

/**
 * `mqtt://0.0.0.0:1883`, `mqtts://[::]:8883`, `ws://127.0.0.1:8080/mqtt`, `wss://0.0.0.0:8443/mqtt`.
 * mqtt and mqtts default to ports 1883 and 8883; ws and wss need one. A ws path of `/` (or none)
 * is `/mqtt`; `/*` accepts any path.
 */
export function parseListenerUrl(text: string): ListenerSpec {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new CliError(`--listener ${text}: not a URL such as mqtts://0.0.0.0:8883`, ExitCode.Usage)
  }
  const protocol = url.protocol.slice(0, -1) as ListenerProtocol
  if (!['mqtt', 'mqtts', 'ws', 'wss'].includes(protocol)) {
    throw new CliError(`--listener ${text}: the scheme must be mqtt, mqtts, ws or wss`, ExitCode.Usage)
  }
  const port = url.port === '' ? DEFAULT_PORTS[protocol] : Number(url.port)
  if (port === undefined) throw new CliError(`--listener ${text}: a ${protocol} listener needs a port`, ExitCode.Usage)
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new CliError(`--listener ${text}: only a scheme, an address, a port and (ws, wss) a path`, ExitCode.Usage)
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const spec: ListenerSpec = {protocol, host, port}
  if (protocol === 'ws' || protocol === 'wss') spec.path = url.pathname === '/' ? '/mqtt' : url.pathname === '/*' ? '*' : url.pathname
  else if (url.pathname !== '/' && url.pathname !== '') throw new CliError(`--listener ${text}: an ${protocol} listener has no path`, ExitCode.Usage)
  return spec
}

/**
 * A mosquitto.conf listener: no bind address means every IPv4 address (ipv6 socket_domain: every
 * address). With per_listener_settings its authentication and client id options are its own (flags,
 * when given, still apply to every listener), and Mosquitto's default allow_anonymous false holds.
 */
function fromConfListener(l: ConfListener, conf: MosquittoConfig, flags: SettingsFlags): ListenerSetting {
  const tls = l.certfile !== undefined && l.keyfile !== undefined
  const protocol: ListenerProtocol = l.protocol === 'websockets' ? (tls ? 'wss' : 'ws') : (tls ? 'mqtts' : 'mqtt')
  const spec: Omit<ListenerSpec, 'tls'> = {
    protocol,
    host: l.host ?? (l.socketDomain === 'ipv6' ? '::' : '0.0.0.0'),
    port: l.port,
    // Mosquitto's WebSockets take any path
    ...(l.protocol === 'websockets' ? {path: '*'} : {}),
    ...(l.maxConnections !== undefined && l.maxConnections >= 0 ? {maxConnections: l.maxConnections} : {}),
    ...(l.mountPoint !== undefined ? {mountPoint: l.mountPoint} : {}),
    id: l.origin,
  }
  let auth: ListenerAuthSetting | undefined
  const perListener = conf.perListenerSettings === true
  // Mosquitto 2.1's listener_* options need no per_listener_settings: the broker-wide files still apply
  const own = perListener ? l.security ?? {} : {passwordFile: conf.passwordFile, aclFile: conf.aclFile, allowAnonymous: conf.allowAnonymous}
  const autoIdPrefix = l.autoIdPrefix ?? (perListener ? own.autoIdPrefix : undefined)
  if (autoIdPrefix !== undefined) spec.autoIdPrefix = autoIdPrefix
  if (perListener || l.allowAnonymous !== undefined) {
    if (own.allowZeroLengthClientId !== undefined) spec.allowZeroLengthClientId = own.allowZeroLengthClientId
    const passwordFile = flags['password-file'] ?? own.passwordFile
    const allowAnonymous = flags['allow-anonymous'] ?? l.allowAnonymous ?? own.allowAnonymous ?? false
    auth = {'password-file': passwordFile, 'acl-file': flags['acl-file'] ?? own.aclFile, 'allow-anonymous': allowAnonymous,
      refuseEveryone: !allowAnonymous && passwordFile === undefined}
  }
  return {
    spec,
    auth,
    origin: l.origin,
    tls: tls ? {
      certfile: l.certfile!, keyfile: l.keyfile!, cafile: l.cafile, capath: l.capath, crlfile: l.crlfile,
      requireCertificate: l.requireCertificate ?? false, useIdentityAsUsername: l.useIdentityAsUsername ?? false,
      useSubjectAsUsername: l.useSubjectAsUsername ?? false, minVersion: l.tlsVersion, ciphers: l.ciphers, ciphersTls13: l.ciphersTls13,
    } : undefined,
  }
}

/** --cert, --key, --cafile ... set (or override) the TLS settings of every mqtts and wss listener. */
function applyTlsFlags(listeners: ListenerSetting[], f: SettingsFlags): void {
  const given = [f.cert, f.key, f.cafile, f.capath, f.crlfile, f['require-certificate'], f['use-identity-as-username'], f['use-subject-as-username'], f['tls-version']]
    .some((v) => v !== undefined)
  if (!given) return
  const secure = listeners.filter((l) => l.spec.protocol === 'mqtts' || l.spec.protocol === 'wss')
  if (secure.length === 0) throw new CliError('the TLS flags (--cert, --key, --cafile, ...) need an mqtts:// or wss:// listener', ExitCode.Usage)
  for (const l of secure) {
    const t = l.tls
    const certfile = f.cert ?? t?.certfile
    const keyfile = f.key ?? t?.keyfile
    if (certfile === undefined || keyfile === undefined) continue // reported by the caller
    l.tls = {
      certfile, keyfile,
      cafile: f.cafile ?? t?.cafile, capath: f.capath ?? t?.capath, crlfile: f.crlfile ?? t?.crlfile,
      requireCertificate: f['require-certificate'] ?? t?.requireCertificate ?? false,
      useIdentityAsUsername: f['use-identity-as-username'] ?? t?.useIdentityAsUsername ?? false,
      useSubjectAsUsername: f['use-subject-as-username'] ?? t?.useSubjectAsUsername ?? false,
      minVersion: f['tls-version'] === undefined ? t?.minVersion : f['tls-version'] === 'tlsv1.3' ? 'TLSv1.3' : 'TLSv1.2',
      ciphers: t?.ciphers, ciphersTls13: t?.ciphersTls13,
    }
  }
}

/** The file's broker-wide options as engine options. */
function engineFromConf(c: MosquittoConfig, notes: string[]): Partial<BrokerOptions> {
  const lowest = (pick: (l: ConfListener) => number | undefined, name: string): number | undefined => {
    const values = c.listeners.map(pick).filter((v): v is number => v !== undefined)
    if (values.length === 0) return undefined
    const min = Math.min(...values)
    if (new Set(values).size > 1 || values.length < c.listeners.length) notes.push(`${name} differs between listeners: midge applies ${min} to all of them`)
    return min
  }
  return stripUndefined({
    maxPacketSize: c.maxPacketSize === 0 ? PROTOCOL_MAX_PACKET_SIZE : c.maxPacketSize, // 0: no limit
    messageSizeLimit: c.messageSizeLimit,
    maxInflightMessages: c.maxInflightMessages,
    maxInflightBytes: c.maxInflightBytes,
    upgradeOutgoingQos: c.upgradeOutgoingQos,
    // Mosquitto announces max_inflight_messages to v5 clients as its Receive Maximum (0: no limit)
    receiveMaximum: c.maxInflightMessages === undefined ? undefined : c.maxInflightMessages || 65_535,
    maxQueuedMessages: c.maxQueuedMessages,
    maxQueuedBytes: c.maxQueuedBytes,
    maxKeepalive: c.maxKeepalive,
    persistentClientExpiration: c.persistentClientExpiration,
    allowZeroLengthClientId: c.allowZeroLengthClientId,
    autoIdPrefix: c.autoIdPrefix,
    retainAvailable: c.retainAvailable,
    maxQos: lowest((l) => l.maxQos, 'max_qos') as QoS | undefined,
    topicAliasMaximum: lowest((l) => l.maxTopicAlias, 'max_topic_alias'),
  })
}

/**
 * Reads a listener's TLS files into the engine's settings. A file that cannot be read, or settings
 * Mosquitto would refuse, stop the start (exit 17) or, on SIGHUP, keep the previous ones in force.
 */
export async function loadTls(files: TlsFiles, origin: string): Promise<TlsOptions> {
  const read = async (path: string, what: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8')
    } catch (error) {
      throw new CliError(`${origin}: cannot read the ${what} ${path}: ${describeFsError(error)}`, ExitCode.BrokerStartFailed)
    }
  }
  const cert = await read(files.certfile, 'certificate')
  const key = await read(files.keyfile, 'key')
  const ca: string[] = []
  if (files.cafile !== undefined) ca.push(await read(files.cafile, 'CA file'))
  if (files.capath !== undefined) {
    let names: string[]
    try {
      names = (await readdir(files.capath)).filter((n) => /\.(pem|crt)$/.test(n)).sort()
    } catch (error) {
      throw new CliError(`${origin}: cannot read the CA folder ${files.capath}: ${describeFsError(error)}`, ExitCode.BrokerStartFailed)
    }
    for (const n of names) ca.push(await read(join(files.capath, n), 'CA file'))
  }
  const tls: TlsOptions = {
    cert,
    key,
    ca: ca.length === 0 ? undefined : ca,
    crl: files.crlfile === undefined ? undefined : await read(files.crlfile, 'CRL file'),
    requireCertificate: files.requireCertificate,
    useIdentityAsUsername: files.useIdentityAsUsername,
    useSubjectAsUsername: files.useSubjectAsUsername,
    minVersion: files.minVersion,
    ciphers: files.ciphers,
    ciphersTls13: files.ciphersTls13,
  }
  try {
    checkTlsOptions(tls)
  } catch (error) {
    throw new CliError(`${origin}: ${(error as Error).message}`, ExitCode.BrokerStartFailed)
  }
  return tls
}

function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  return ({ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory', ENOTDIR: 'not a directory'} as Record<string, string>)[e.code ?? ''] ?? e.message
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** --cluster / MIDGE_CLUSTER / cluster_redis: a Redis URL (checked: exit 17 otherwise). */
function clusterSetting(url: string | undefined, nodeId: string | undefined): BrokerSettings['cluster'] {
  if (url === undefined) {
    if (nodeId !== undefined) throw new CliError('--node-id names a node of a cluster: give --cluster redis://HOST:PORT too', ExitCode.BrokerStartFailed)
    return undefined
  }
  try {
    checkClusterUrl(url)
  } catch (error) {
    throw new CliError(`--cluster: ${(error as Error).message}`, ExitCode.BrokerStartFailed)
  }
  if (nodeId !== undefined && !/^[\w.-]{1,64}$/.test(nodeId)) throw new CliError(`--node-id: ${JSON.stringify(nodeId)} must be 1 to 64 letters, digits, '.', '_' or '-'`, ExitCode.BrokerStartFailed)
  return {url, nodeId}
}
