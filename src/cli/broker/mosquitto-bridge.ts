// The bridge section of a mosquitto.conf (`connection NAME` and the options after it), read as
// Mosquitto 2.0 reads it (src/conf.c): every option with its meaning, the old aliases (clientid,
// username, password), and the checks Mosquitto makes before starting (an address, a topic, unique
// names and local client ids). Pure: TLS files are only named here; cli/broker/bridges.ts reads them.
import {BridgeTopicError, parseTopicLine, type BridgeAddress, type BridgeInput, type BridgeTopic} from '../../index.js'
import {bool, int, oneToken, text, ValueError} from './conf-values.js'

/** A bridge as the file gives it: the engine's input, TLS as file names, and where it was defined. */
export interface ConfBridge {
  /** `FILE:LINE` of its `connection` line. */
  origin: string
  name: string
  addresses: BridgeAddress[]
  topics: BridgeTopic[]
  options: Omit<BridgeInput, 'name' | 'addresses' | 'topics' | 'tls'>
  tls: {cafile?: string; capath?: string; certfile?: string; keyfile?: string; insecure?: boolean; alpn?: string; version?: string; ciphers?: string; ciphersTls13?: string}
}

/** A valid Mosquitto option that midge does not implement: the parser turns it into a warning. */
export class BridgeOptionWarning extends Error {}

type Setter = (args: string, b: ConfBridge) => void

const opt = <K extends keyof ConfBridge['options']>(key: K, parse: (args: string) => ConfBridge['options'][K]): Setter =>
  (args, b) => { b.options[key] = parse(args) }
const tls = <K extends keyof ConfBridge['tls']>(key: K, parse: (args: string) => ConfBridge['tls'][K]): Setter =>
  (args, b) => { b.tls[key] = parse(args) }

const PROTOCOLS: Record<string, 3 | 4 | 5> = {mqttv31: 3, mqttv311: 4, mqttv50: 5}

/** The options of a `connection` section, by name. */
export const BRIDGE_SETTERS: Record<string, Setter> = {
  address: (args, b) => { addresses(args, b) },
  addresses: (args, b) => { addresses(args, b) },
  topic: (args, b) => {
    try {
      b.topics.push(parseTopicLine(args))
    } catch (error) {
      if (error instanceof BridgeTopicError) throw new ValueError(error.message)
      throw error
    }
  },
  round_robin: opt('roundRobin', bool),
  remote_clientid: opt('remoteClientId', text),
  clientid: opt('remoteClientId', text),
  remote_username: opt('remoteUsername', text),
  username: opt('remoteUsername', text),
  remote_password: opt('remotePassword', text),
  password: opt('remotePassword', text),
  local_clientid: opt('localClientId', text),
  local_username: opt('localUsername', text),
  local_password: opt('localPassword', text),
  cleansession: opt('cleanSession', bool),
  local_cleansession: opt('localCleanSession', bool),
  keepalive_interval: opt('keepalive', (a) => Math.max(5, int(a, 0, 65_535))),
  idle_timeout: opt('idleTimeout', (a) => int(a, 0)),
  threshold: opt('threshold', (a) => Math.max(1, int(a, Number.MIN_SAFE_INTEGER))),
  restart_timeout: opt('restartTimeout', (a) => {
    const [first, second, ...rest] = a.split(/\s+/).filter(Boolean)
    if (first === undefined) throw new ValueError('a value is required')
    if (rest.length > 0) throw new ValueError(`expected a constant or a base and a cap, got '${a}'`)
    const base = Math.max(1, int(first, Number.MIN_SAFE_INTEGER))
    if (second === undefined) return {base}
    const cap = int(second, 0)
    if (cap < base) throw new ValueError('the backoff cap is lower than the base')
    return {base, cap}
  }),
  start_type: opt('startType', (a) => {
    const t = oneToken(a)
    if (t === 'automatic' || t === 'lazy' || t === 'once') return t
    if (t === 'manual') throw new ValueError('start_type manual is not supported (nor by Mosquitto)')
    throw new ValueError(`invalid start_type '${t}' (automatic, lazy or once)`)
  }),
  try_private: opt('tryPrivate', bool),
  notifications: opt('notifications', bool),
  notifications_local_only: opt('notificationsLocalOnly', bool),
  notification_topic: opt('notificationTopic', text),
  bridge_protocol_version: opt('protocolVersion', (a) => {
    const v = PROTOCOLS[oneToken(a)]
    if (v === undefined) throw new ValueError(`invalid bridge_protocol_version '${a}' (mqttv50, mqttv311 or mqttv31)`)
    return v
  }),
  bridge_attempt_unsubscribe: opt('attemptUnsubscribe', bool),
  bridge_outgoing_retain: opt('outgoingRetain', bool),
  bridge_max_packet_size: opt('maxPacketSize', (a) => Math.max(0, int(a, Number.MIN_SAFE_INTEGER))),
  bridge_bind_address: opt('bindAddress', oneToken),
  bridge_cafile: tls('cafile', text),
  bridge_capath: tls('capath', text),
  bridge_certfile: tls('certfile', text),
  bridge_keyfile: tls('keyfile', text),
  bridge_insecure: tls('insecure', bool),
  bridge_alpn: tls('alpn', text),
  bridge_tls_version: tls('version', (a) => {
    const v = oneToken(a)
    if (v !== 'tlsv1.3' && v !== 'tlsv1.2' && v !== 'tlsv1.1') throw new ValueError(`invalid bridge_tls_version '${v}' (tlsv1.3, tlsv1.2 or tlsv1.1)`)
    return v
  }),
  bridge_ciphers: tls('ciphers', text),
  'bridge_ciphers_tls1.3': tls('ciphersTls13', text),
  bridge_identity: () => { throw new ValueError('bridge_identity: TLS-PSK bridges are not supported by midge; use certificates (bridge_cafile)') },
  bridge_psk: () => { throw new ValueError('bridge_psk: TLS-PSK bridges are not supported by midge; use certificates (bridge_cafile)') },
  bridge_require_ocsp: (args) => {
    if (bool(args)) throw new ValueError('bridge_require_ocsp true is not supported by midge')
  },
  bridge_tls_use_os_certs: (args, b) => {
    if (bool(args)) throw new BridgeOptionWarning(`bridge ${b.name}: bridge_tls_use_os_certs: Node's own CA list is used whenever bridge_cafile and bridge_capath are not set`)
  },
  bridge_reload_type: () => { throw new BridgeOptionWarning('bridge_reload_type is ignored: bridges are not reloaded on SIGHUP') },
}

/** Options that only mean something in a bridge section (the aliases clientid, username, password are Mosquitto's too). */
export function isBridgeOption(name: string): boolean {
  return name in BRIDGE_SETTERS || name.startsWith('bridge_') || ['connection', 'local_cleansession'].includes(name)
}

export function newConfBridge(args: string, origin: string, existing: readonly ConfBridge[]): ConfBridge {
  const name = oneToken(args)
  if (existing.some((b) => b.name === name)) throw new ValueError(`duplicate bridge name '${name}'`)
  return {origin, name, addresses: [], topics: [], options: {}, tls: {}}
}

function addresses(args: string, b: ConfBridge): void {
  if (b.addresses.length > 0) throw new ValueError('the addresses of a bridge are given once (several on one line)')
  const tokens = args.split(/\s+/).filter(Boolean)
  const end = tokens.findIndex((t) => t.startsWith('#'))
  for (const token of end < 0 ? tokens : tokens.slice(0, end)) b.addresses.push(parseAddress(token))
  if (b.addresses.length === 0) throw new ValueError('an address is required')
}

/** `host[:port]` (an IPv6 address needs its port: the last colon separates it, as in Mosquitto; [::1]:1883 works too). */
export function parseAddress(token: string): BridgeAddress {
  const colon = token.lastIndexOf(':')
  let host = colon < 0 ? token : token.slice(0, colon)
  const portText = colon < 0 ? undefined : token.slice(colon + 1)
  host = host.replace(/^\[(.*)\]$/, '$1')
  if (host === '' || /\s/.test(host)) throw new ValueError(`invalid address '${token}'`)
  if (portText === undefined) return {host, port: 1883}
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) throw new ValueError(`invalid port in address '${token}'`)
  return {host, port: Number(portText)}
}

/** What Mosquitto checks once the file is read: the message, or undefined when the bridge can run. */
export function bridgeProblems(b: ConfBridge, all: readonly ConfBridge[], host: string): string[] {
  const problems: string[] = []
  if (b.addresses.length === 0) problems.push(`bridge ${b.name}: no address`)
  if (b.topics.length === 0) problems.push(`bridge ${b.name}: no topic`)
  const t = b.tls
  if ((t.certfile === undefined) !== (t.keyfile === undefined)) problems.push(`bridge ${b.name}: bridge_certfile and bridge_keyfile go together`)
  if (b.options.remotePassword !== undefined && b.options.remoteUsername === undefined) problems.push(`bridge ${b.name}: remote_password needs remote_username`)
  const localId = (x: ConfBridge) => x.options.localClientId ?? `local.${x.options.remoteClientId ?? `${host}.${x.name}`}`
  const twin = all.find((x) => x !== b && all.indexOf(x) < all.indexOf(b) && localId(x) === localId(b))
  if (twin !== undefined) problems.push(`bridge ${b.name}: local_clientid '${localId(b)}' is also bridge ${twin.name}'s: give one of them another local_clientid`)
  return problems
}
