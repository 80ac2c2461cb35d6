// The shapes of a parsed mosquitto.conf (mosquitto-conf.ts parses it, conf-options.ts knows its options).
import type {ConfPlugin} from './conf-plugins.js'
import type {ConfBridge} from './mosquitto-bridge.js'

/** One `listener` (or the default listener of `port`/`bind_address` and the options before any listener). */
export interface ConfListener {
  /** Where the listener was defined: `FILE:LINE`. */
  origin: string
  port: number
  /** Bind address (undefined: every address, as in Mosquitto). */
  host?: string
  protocol: 'mqtt' | 'websockets'
  /** -1 or undefined: unlimited. */
  maxConnections?: number
  maxQos?: 0 | 1 | 2
  maxTopicAlias?: number
  socketDomain?: 'ipv4' | 'ipv6'
  /** TLS settings (paths as written; relative paths are relative to the working directory, as in Mosquitto). */
  cafile?: string
  capath?: string
  certfile?: string
  keyfile?: string
  crlfile?: string
  requireCertificate?: boolean
  useIdentityAsUsername?: boolean
  useSubjectAsUsername?: boolean
  tlsVersion?: 'TLSv1.2' | 'TLSv1.3'
  ciphers?: string
  ciphersTls13?: string
  /** A topic prefix for this listener's clients (mount_point). */
  mountPoint?: string
  /** With per_listener_settings true: this listener's authentication and client id options. */
  security?: ListenerSecurity
  /** Mosquitto 2.1's listener_allow_anonymous: overrides allow_anonymous for this listener. */
  allowAnonymous?: boolean
  /** Mosquitto 2.1's listener_auto_id_prefix. */
  autoIdPrefix?: string
}

/** What per_listener_settings true scopes to a listener (Mosquitto 2.0's list, plugins and PSK aside). */
export interface ListenerSecurity {
  passwordFile?: string
  aclFile?: string
  allowAnonymous?: boolean
  allowZeroLengthClientId?: boolean
  autoIdPrefix?: string
}


export type LogDest = {kind: 'stderr' | 'stdout' | 'none'} | {kind: 'file'; path: string}
export const LOG_TYPES = ['debug', 'error', 'warning', 'notice', 'information', 'subscribe', 'unsubscribe', 'websockets', 'none', 'all'] as const
export type LogType = (typeof LOG_TYPES)[number]

/** The options midge takes from a mosquitto.conf; absent fields were not in the file. */
export interface MosquittoConfig {
  listeners: ConfListener[]
  /** per_listener_settings true: authentication and client id options are each listener's (ConfListener.security). */
  perListenerSettings?: boolean
  allowAnonymous?: boolean
  passwordFile?: string
  aclFile?: string
  persistence?: boolean
  persistenceLocation?: string
  persistenceFile?: string
  /** cluster_redis (midge's own): the Redis URL of the cluster. */
  clusterRedis?: string
  /** cluster_ack_window (midge's own): --cluster-ack-window. */
  clusterAckWindow?: number
  /** cluster_link (midge's own): --cluster-link, as written. */
  clusterLink?: string
  /** cluster_advertise (midge's own): --cluster-advertise, as written. */
  clusterAdvertise?: string
  autosaveInterval?: number
  /** Seconds (Mosquitto writes `2h`, `14d`, `1y`...). */
  persistentClientExpiration?: number
  messageSizeLimit?: number
  maxPacketSize?: number
  maxInflightMessages?: number
  maxInflightBytes?: number
  upgradeOutgoingQos?: boolean
  maxQueuedMessages?: number
  maxQueuedBytes?: number
  maxKeepalive?: number
  sysInterval?: number
  allowZeroLengthClientId?: boolean
  autoIdPrefix?: string
  retainAvailable?: boolean
  logDest?: LogDest[]
  logType?: LogType[]
  logTimestamp?: boolean
  connectionMessages?: boolean
  /** `plugin` lines in order, each with its `plugin_opt_*` options. */
  plugins?: ConfPlugin[]
  /** Mosquitto's Dynamic Security plugin (a `plugin` line whose file name has `dynamic_security`): its plugin_opt_config_file. */
  dynsecFile?: string
  /** The `connection` sections, in order (see mosquitto-bridge.ts). */
  bridges?: ConfBridge[]
}

export interface ConfDiagnostic {
  file: string
  line: number
  message: string
}

export class MosquittoConfError extends Error {
  constructor(readonly errors: ConfDiagnostic[]) {
    super(errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n'))
    this.name = 'MosquittoConfError'
  }
}

export interface ParseOptions {
  /** The file name used in diagnostics. */
  source?: string
  /** Reads the `*.conf` files of an include_dir, in the order Mosquitto reads them (sorted by name). */
  readDir?: (dir: string) => Array<{path: string; text: string}>
}

export interface ParseResult {
  config: MosquittoConfig
  warnings: ConfDiagnostic[]
}

export type Scope = 'global' | 'listener'
export type Setter = (args: string, ctx: Ctx) => void

export interface Ctx {
  file: string
  line: number
  config: MosquittoConfig
  listener: ConfListener
  error(message: string): void
  warn(message: string): void
}
