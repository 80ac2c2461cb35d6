// `broker start`: flags, MIDGE_* environment variables (oclif reads them into the flags), a
// mosquitto.conf (-c) and the defaults, resolved once, in that order, into one typed object: the
// engine options, the listeners (listener-settings.ts, with the TLS files they read, tls-files.ts, for
// SIGHUP), authentication, persistence, logging and the HTTP endpoint. Reading the file: conf-read.ts.
import {PROTOCOL_MAX_PACKET_SIZE} from '../../codec/index.js'
import type {BrokerOptions} from '../../index.js'
import type {QoS} from '../../codec/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import type {LogLevel} from '../common/logger.js'
import {applyTlsFlags, fromConfListener, listenersFromFlags, type ListenerSetting} from './listener-settings.js'
import {logLevelFor, type ConfListener, type LogDest, type MosquittoConfig} from './mosquitto-conf.js'
import type {SettingsFlags} from './settings-flags.js'
import {checkClusterUrl} from '../../cluster/redis.js'
import {parseAdvertise, parseLinkListen} from '../../cluster/link-address.js'
import {DEFAULT_LINK, type LinkSettings} from '../../cluster/node-types.js'

export type {SettingsFlags} from './settings-flags.js'
export {parseListenerUrl, type ListenerAuthSetting, type ListenerSetting} from './listener-settings.js'
export {loadTls, type TlsFiles} from './tls-files.js'
export {readMosquittoConf} from './conf-read.js'

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
  cluster?: {url: string; nodeId?: string; ackWindow?: number; link?: LinkSettings | 'off'}
  /** Things worth a log line: which listeners win, which file values were adjusted. */
  notes: string[]
}

export const DEFAULT_SYS_INTERVAL = 10
export const DEFAULT_SHUTDOWN_TIMEOUT = 10
export const DEFAULT_PERSISTENCE_FILE = 'midge.db'

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
    cluster: clusterSetting(flags.cluster ?? conf.clusterRedis, flags['node-id'], flags['cluster-ack-window'] ?? conf.clusterAckWindow,
      flags['cluster-link'] ?? conf.clusterLink, flags['cluster-advertise'] ?? conf.clusterAdvertise),
    notes,
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

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** --cluster / MIDGE_CLUSTER / cluster_redis: a Redis URL (checked: exit 17 otherwise). */
function clusterSetting(url: string | undefined, nodeId: string | undefined, ackWindow: number | undefined, link: string | undefined, advertise: string | undefined): BrokerSettings['cluster'] {
  if (url === undefined) {
    if (nodeId !== undefined) throw new CliError('--node-id names a node of a cluster: give --cluster redis://HOST:PORT too', ExitCode.BrokerStartFailed)
    for (const [flag, value] of [['--cluster-ack-window', ackWindow], ['--cluster-link', link], ['--cluster-advertise', advertise]] as const) {
      if (value !== undefined) throw new CliError(`${flag} is for a node of a cluster: give --cluster redis://HOST:PORT too`, ExitCode.BrokerStartFailed)
    }
    return undefined
  }
  try {
    checkClusterUrl(url)
  } catch (error) {
    throw new CliError(`--cluster: ${(error as Error).message}`, ExitCode.BrokerStartFailed)
  }
  if (nodeId !== undefined && !/^[\w.-]{1,64}$/.test(nodeId)) throw new CliError(`--node-id: ${JSON.stringify(nodeId)} must be 1 to 64 letters, digits, '.', '_' or '-'`, ExitCode.BrokerStartFailed)
  return {url, nodeId, ackWindow, link: linkSetting(link, advertise)}
}

/** --cluster-link and --cluster-advertise (undefined: the default, 127.0.0.1:0). */
function linkSetting(link: string | undefined, advertise: string | undefined): LinkSettings | 'off' | undefined {
  const parse = <T>(flag: string, f: () => T): T => {
    try {
      return f()
    } catch (error) {
      throw new CliError(`${flag}: ${(error as Error).message}`, ExitCode.BrokerStartFailed)
    }
  }
  if (link?.trim() === 'off') {
    if (advertise !== undefined) throw new CliError('--cluster-advertise names this node\'s link: not with --cluster-link off', ExitCode.BrokerStartFailed)
    return 'off'
  }
  if (link === undefined && advertise === undefined) return undefined
  const listen = link === undefined ? DEFAULT_LINK.listen : parse('--cluster-link', () => parseLinkListen(link))
  return {listen, advertise: advertise === undefined ? undefined : parse('--cluster-advertise', () => parseAdvertise(advertise))}
}
