import type {AddressInfo, Server, Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import {ReasonCode} from '../../codec/index.js'
import type {ListenerLink} from './link.js'
import {refuseConnection} from './refuse.js'

/** The four transports (Mosquitto: `listener` + `protocol mqtt|websockets` + TLS options). */
export type ListenerProtocol = 'mqtt' | 'mqtts' | 'ws' | 'wss'

/** TLS settings of an `mqtts` or `wss` listener (PEM contents, not paths: the engine reads no files). */
export interface TlsOptions {
  /** The server certificate chain (Mosquitto: certfile). */
  cert: string | Buffer
  /** Its private key (Mosquitto: keyfile). */
  key: string | Buffer
  /** CAs that client certificates must chain to (Mosquitto: cafile/capath). */
  ca?: string | Buffer | Array<string | Buffer>
  /** Certificate revocation lists (Mosquitto: crlfile). */
  crl?: string | Buffer | Array<string | Buffer>
  /** Mutual TLS: a client without a valid certificate signed by `ca` is refused during the handshake (Mosquitto: require_certificate). */
  requireCertificate?: boolean
  /** The client certificate's Common Name is the user name (Mosquitto: use_identity_as_username; needs requireCertificate). */
  useIdentityAsUsername?: boolean
  /** The client certificate's whole subject, RFC 2253 form, is the user name (Mosquitto: use_subject_as_username). */
  useSubjectAsUsername?: boolean
  /** Lowest TLS version accepted: 'TLSv1.2' by default (Mosquitto: tls_version). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  /** OpenSSL cipher list for TLS 1.2 (Mosquitto: ciphers). */
  ciphers?: string
  /** TLS 1.3 cipher suites (Mosquitto: ciphers_tls1.3). */
  ciphersTls13?: string
}

export interface ListenerSpec {
  protocol: ListenerProtocol
  /** Address to bind (default 127.0.0.1: loopback only). */
  host?: string
  /** Port (0: any free port). */
  port: number
  /** mqtts and wss: required. */
  tls?: TlsOptions
  /** ws and wss: the HTTP path of the upgrade ('/mqtt' by default; '*' accepts any path, as Mosquitto does). */
  path?: string
  /** Connections open at once beyond which new ones are refused (v5: CONNACK 0x97; v3: closed). Unlimited when undefined or < 0. */
  maxConnections?: number
  /** Largest WebSocket message accepted (ws, wss), in bytes. */
  maxWebSocketMessage?: number
  /** Mosquitto's mount_point: this listener's clients publish and subscribe under this topic prefix. */
  mountPoint?: string
  /** Names the listener to the auth hooks (ClientInfo.listener), e.g. its place in a configuration file. */
  id?: string
  /** Prefix of the client ids this listener assigns (Mosquitto's per-listener auto_id_prefix). */
  autoIdPrefix?: string
  /** Whether this listener accepts an empty client id (Mosquitto's per-listener allow_zero_length_clientid). */
  allowZeroLengthClientId?: boolean
}

/** Counters of one listener (for /metrics and $SYS). */
export interface ListenerStats {
  /** Connections open now. */
  connections: number
  /** Connections accepted since the start. */
  accepted: number
  /** Connections refused because of maxConnections. */
  refused: number
  /** TLS handshakes that failed (no, unknown, expired certificate; bad protocol). */
  handshakeFailures: number
  /** PUBLISH packets received and sent over this listener (counted by the engine). */
  messagesReceived: number
  messagesSent: number
}

/** What a listener knows of a connection it hands to the engine. */
export interface Accepted {
  remoteAddress?: string
  /** The user name a client certificate gives (use_identity_as_username / use_subject_as_username). */
  username?: string
  /** The subject (RFC 2253) of a verified client certificate, for authentication plugins. */
  certificateSubject?: string
  listener: Listener
}

export interface ListenerHandlers {
  /** Every admitted connection, as a duplex of MQTT bytes. */
  onStream(stream: Duplex, accepted: Accepted): void
  /** A TLS handshake or WebSocket upgrade failed (the connection never reached the engine). */
  onClientError?(error: Error, info: {listener: Listener; remoteAddress?: string}): void
}

const TRACKED_BY = Symbol('midge.listener')
type TrackedSocket = Socket & {[TRACKED_BY]?: Listener}

/**
 * One open listener: a server that turns connections into duplex streams for the engine, counts
 * them (and their wire bytes), refuses those beyond maxConnections, and stops accepting on close().
 */
export class Listener implements ListenerLink {
  readonly stats: ListenerStats = {connections: 0, accepted: 0, refused: 0, handshakeFailures: 0, messagesReceived: 0, messagesSent: 0}
  private readonly sockets = new Set<Socket>()
  private closedBytesRead = 0
  private closedBytesWritten = 0
  private closing = false
  private bound: AddressInfo | undefined

  constructor(readonly spec: ListenerSpec, readonly server: Server, protected readonly handlers: ListenerHandlers) {
    server.once('listening', () => this.address())
  }

  /** Bytes read from and written to the wire by this listener's connections (TLS and WebSocket framing included). */
  get bytesReceived(): number {
    let n = this.closedBytesRead
    for (const s of this.sockets) n += s.bytesRead
    return n
  }

  get bytesSent(): number {
    let n = this.closedBytesWritten
    for (const s of this.sockets) n += s.bytesWritten
    return n
  }

  get mountPoint(): string | undefined { return this.spec.mountPoint }
  get id(): string | undefined { return this.spec.id }
  get autoIdPrefix(): string | undefined { return this.spec.autoIdPrefix }
  get allowZeroLengthClientId(): boolean | undefined { return this.spec.allowZeroLengthClientId }

  /** Whether the listener accepts new connections (for /healthz). */
  get accepting(): boolean {
    return !this.closing && this.server.listening
  }

  /** Where it listens (still known after close). */
  address(): AddressInfo {
    const a = this.server.address()
    if (a !== null && typeof a === 'object') this.bound = a
    if (this.bound === undefined) throw new Error('the listener is not listening')
    return this.bound
  }

  /** `mqtts://0.0.0.0:8883`, `ws://127.0.0.1:8080/mqtt`: how clients reach it (and its label in /metrics). */
  get url(): string {
    const a = this.address()
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address
    const path = this.spec.protocol === 'ws' || this.spec.protocol === 'wss' ? (this.spec.path === '*' ? '/' : this.spec.path ?? '/mqtt') : ''
    return `${this.spec.protocol}://${host}:${a.port}${path}`
  }

  /** Puts new TLS settings in force for new connections; open connections keep theirs (SIGHUP). */
  setTls(_tls: TlsOptions): void {
    throw new Error(`a ${this.spec.protocol} listener has no TLS settings`)
  }

  /** Stops accepting. Open connections are the engine's to close; resolves once they all are. */
  close(): Promise<void> {
    this.closing = true
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** Counts the transport socket's bytes (implementations call it once per socket, as soon as it is accepted). */
  track(socket: Socket): void {
    this.sockets.add(socket)
    ;(socket as TrackedSocket)[TRACKED_BY] = this
    socket.on('close', Listener.untrack) // one shared function, not a closure per socket
  }

  private static untrack(this: TrackedSocket): void {
    const listener = this[TRACKED_BY]!
    listener.sockets.delete(this)
    listener.closedBytesRead += this.bytesRead
    listener.closedBytesWritten += this.bytesWritten
  }

  /** An admitted connection is over (the engine calls it once per connection). */
  released(): void {
    this.stats.connections--
  }

  /** Hands a connection to the engine, or refuses it when the listener is full (called by implementations). */
  admit(stream: Duplex, remoteAddress: string | undefined, username?: string, certificateSubject?: string): void {
    const max = this.spec.maxConnections
    if (this.closing) {
      stream.destroy()
      return
    }
    if (max !== undefined && max >= 0 && this.stats.connections >= max) {
      this.stats.refused++
      refuseConnection(stream, {reasonCode: ReasonCode.QuotaExceeded, reason: `listener full (max_connections ${max})`})
      return
    }
    this.stats.connections++ // until released()
    this.stats.accepted++
    this.handlers.onStream(stream, {remoteAddress, username, certificateSubject, listener: this})
  }

  protected clientError(error: Error, remoteAddress: string | undefined): void {
    this.handlers.onClientError?.(error, {listener: this, remoteAddress})
  }
}

/** `host:port` of a socket's peer, as the engine logs it. */
export function peerAddress(socket: Socket): string | undefined {
  if (socket.remoteAddress === undefined) return undefined
  const host = socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress
  return `${host}:${socket.remotePort}`
}

/** Listens and resolves once the server accepts connections (rejects on EADDRINUSE and the like). */
export function listenOn(server: Server, spec: ListenerSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(spec.port, spec.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}
