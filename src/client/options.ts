import type {ConnectionOptions as TlsOptions} from 'node:tls'
import type {Duplex} from 'node:stream'
import type {ConnectProperties, Packet, ProtocolVersion, PublishProperties, QoS} from '../codec/index.js'

export type Scheme = 'mqtt' | 'mqtts' | 'ws' | 'wss'

/** Where and how to open the byte stream to the broker. */
export interface TransportTarget {
  scheme: Scheme
  host: string
  port: number
  /** A Unix socket path: used instead of host and port when set. */
  socketPath?: string
  /** The HTTP path of a WebSocket endpoint. */
  wsPath: string
  tls?: TlsOptions
  /** Local address to bind the outgoing socket to. */
  localAddress?: string
  /** socks5h://[user[:password]@]host[:port]: reach the broker through this SOCKS5 proxy (it resolves the name). */
  proxy?: string
  /** Disable Nagle's algorithm (default true). */
  noDelay: boolean
  signal?: AbortSignal
}

/** Opens a byte stream to the broker; plug one in to add a transport (QUIC, a proxy, an in-memory pair...). */
export type TransportFactory = (target: TransportTarget) => Promise<Duplex>

export interface WillOptions {
  topic: string
  payload: Buffer | string
  qos?: QoS
  retain?: boolean
  properties?: PublishProperties & {willDelayInterval?: number}
}

export interface ClientOptions {
  /** `mqtt://`, `mqtts://`, `ws://` or `wss://` URL with optional `user:password@`; fields below override it. */
  url?: string
  host?: string
  port?: number
  scheme?: Scheme
  socketPath?: string
  wsPath?: string
  tls?: TlsOptions
  localAddress?: string
  /** socks5h://[user[:password]@]host[:port] (mqtt:// and mqtts:// only). */
  proxy?: string
  noDelay?: boolean
  /** Replaces the built-in transports. */
  transport?: TransportFactory
  /** 3 (3.1), 4 (3.1.1) or 5 (default). */
  protocolVersion?: ProtocolVersion
  /** Empty: v5 lets the broker assign one; v3.x gets a random `midge-` id. */
  clientId?: string
  clean?: boolean
  /** Seconds; 0 disables pings. Default 60. */
  keepalive?: number
  username?: string
  password?: string | Buffer
  will?: WillOptions
  /** v5 CONNECT properties. */
  properties?: ConnectProperties
  /** Milliseconds to wait for the transport and CONNACK (default 30 000). */
  connectTimeout?: number
  /** Cap on QoS 1/2 publishes awaiting their ack; the broker's Receive Maximum caps it too. */
  maxInflight?: number
  /** Largest inbound packet accepted (default: the protocol maximum). */
  maxPacketSize?: number
  /** Aborts connecting. */
  signal?: AbortSignal
  /** Received QoS 1/2 messages are acknowledged only by client.ack(message) (a bridge acks once it passed them on). */
  manualAck?: boolean
  /**
   * Sets the bridge bit (0x80) of the protocol level in CONNECT, as Mosquitto's try_private does, so a
   * broker that knows it treats us as a bridge (no echo of our own messages, retain as published).
   */
  bridgeMode?: boolean
  /** Called with every packet sent and received (for -d); costs nothing when unset. */
  trace?: PacketTrace
}

export type PacketTrace = (direction: 'in' | 'out', packet: Packet) => void

export const DEFAULT_PORTS: Record<Scheme, number> = {mqtt: 1883, mqtts: 8883, ws: 80, wss: 443}

export interface ParsedUrl {
  scheme: Scheme
  host: string
  port: number
  username?: string
  password?: string
  /** mqtt(s): the path names a topic; ws(s): it is the endpoint path. */
  path: string
}

/** Parses `scheme://[user[:password]@]host[:port][/path]`. Throws a TypeError with a one-line message. */
export function parseBrokerUrl(text: string): ParsedUrl {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new TypeError(`invalid URL '${text}'`)
  }
  const scheme = url.protocol.slice(0, -1)
  if (!(scheme in DEFAULT_PORTS)) throw new TypeError(`unsupported URL scheme '${scheme}:' (use mqtt, mqtts, ws or wss)`)
  if (!url.hostname) throw new TypeError(`URL '${text}' has no host`)
  const s = scheme as Scheme
  return {
    scheme: s,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : DEFAULT_PORTS[s],
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    path: decodeURIComponent(url.pathname),
  }
}

/** Resolves the URL and the explicit fields into one transport target. */
export function transportTarget(options: ClientOptions): TransportTarget {
  const fromUrl = options.url ? parseBrokerUrl(options.url) : undefined
  const scheme = options.scheme ?? fromUrl?.scheme ?? (options.tls ? 'mqtts' : 'mqtt')
  const wsPath = options.wsPath ?? (fromUrl && (scheme === 'ws' || scheme === 'wss') && fromUrl.path !== '/' ? fromUrl.path : '/mqtt')
  return {
    scheme,
    host: options.host ?? fromUrl?.host ?? 'localhost',
    port: options.port ?? fromUrl?.port ?? DEFAULT_PORTS[scheme],
    socketPath: options.socketPath,
    wsPath,
    tls: options.tls,
    localAddress: options.localAddress,
    proxy: options.proxy,
    noDelay: options.noDelay ?? true,
    signal: options.signal,
  }
}
