// The flags `broker start` resolves into its settings (see cli/broker/flags.ts and settings.ts).
import type {LogLevel} from '../common/logger.js'

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
  'cluster-ack-window'?: number
  'cluster-link'?: string
  'cluster-advertise'?: string
}
