// The listeners of `broker start`: from flags (--listener URLs, -h/-p, --ws-port) or, when no flag
// names one, from the mosquitto.conf's listener sections (with their own authentication under
// per_listener_settings), then the TLS flags over every mqtts and wss listener.
import type {ListenerProtocol, ListenerSpec} from '../../index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import type {ConfListener, MosquittoConfig} from './mosquitto-conf.js'
import type {SettingsFlags} from './settings-flags.js'
import type {TlsFiles} from './tls-files.js'

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

const DEFAULT_PORTS: Partial<Record<ListenerProtocol, number>> = {mqtt: 1883, mqtts: 8883}

/** `--listener URL`s, then -h/-p (an mqtt listener), then --ws-port. */
export function listenersFromFlags(flags: SettingsFlags): ListenerSetting[] {
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
export function fromConfListener(l: ConfListener, conf: MosquittoConfig, flags: SettingsFlags): ListenerSetting {
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
export function applyTlsFlags(listeners: ListenerSetting[], f: SettingsFlags): void {
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
