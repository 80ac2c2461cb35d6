import type {Duplex} from 'node:stream'
import {
  isDisconnectReason, MqttError, PacketDecoder, ReasonCode, UnsupportedProtocolError,
  InboundAliases, type Packet, type ProtocolVersion, type WillMessage,
} from '../codec/index.js'
import type {Accepted, ConnectionHost, HandlerContext} from './handlers/context.js'
import {dispatch} from './handlers/dispatch.js'
import type {Session, SessionLink} from './session.js'
import type {OutboundAliases} from './topic-alias.js'
import {ConnState, DEFAULT_PEER, type PeerLimits} from './conn-state.js'
import type {ConnectionContext, ListenerLink} from './listeners/link.js'
import {refusingConnack, unsupportedLevelConnack} from './answers.js'
import {ConnectionOutput} from './connection-output.js'

export {ConnState, type PeerLimits} from './conn-state.js'
export type {ConnectionContext, ListenerLink} from './listeners/link.js'

const MAX_PENDING_PACKETS = 1000
const NO_CONTEXT: ConnectionContext = Object.freeze({})

const CONNECTION = Symbol('midge.connection')
type OwnedStream = Duplex & {[CONNECTION]?: Connection}

/**
 * One socket (any duplex stream): decodes packets, runs them through dispatch strictly in order
 * (holding later packets while an async step such as authentication runs), batches writes per
 * event-loop turn (its output path: connection-output.ts), and turns every error into the answer the
 * protocol wants.
 */
export class Connection extends ConnectionOutput implements HandlerContext, SessionLink {
  // The connection's own state: read through the getters below, written only here, by the named
  // transitions (setVersion ... becomeConnected, close) [DESIGN 3]
  private current: ConnState = ConnState.AwaitingConnect
  private protocol: ProtocolVersion = 4
  private bridge = false
  private id = ''
  private user: string | undefined
  private attached: Session | undefined
  private lastWill: WillMessage | undefined
  private announced: PeerLimits = DEFAULT_PEER
  private inboundAliases: InboundAliases | undefined
  private aliasesOut: OutboundAliases | undefined
  private method: string | undefined
  private readonly decoder: PacketDecoder
  private pending: Packet[] | undefined
  private closeTimer: unknown
  private closedController: AbortController | undefined
  /** Packets decoded on this connection (keepalive progress, see onData). */
  private packetsIn = 0

  /**
   * `context` is kept, not copied: a listener hands every connection without a certificate the same
   * object (broker.listen), so it costs a connection one field.
   */
  constructor(readonly broker: ConnectionHost, readonly stream: Duplex, readonly remoteAddress: string | undefined,
    private readonly context: ConnectionContext = NO_CONTEXT) {
    super()
    const {options} = broker
    this.decoder = new PacketDecoder({maxPacketSize: options.maxPacketSize, parsers: broker.parsers})
    // shared listeners find their connection on the stream: no closures per connection
    const owned = stream as OwnedStream
    owned[CONNECTION] = this
    owned.on('data', Connection.streamData)
    owned.on('error', Connection.streamError)
    owned.on('end', Connection.streamEnd)
    owned.on('close', Connection.streamClose)
    owned.on('drain', Connection.streamDrain)
    this.watchConnect(options.connectTimeoutMs) // the CONNECT timeout, then the keepalive (keepalive.ts)
  }

  private static streamData(this: OwnedStream, chunk: Buffer): void { this[CONNECTION]!.onData(chunk) }
  private static streamError(this: OwnedStream, err: Error): void { this[CONNECTION]!.closeSafely(`socket error: ${err.message}`) }
  private static streamEnd(this: OwnedStream): void { this[CONNECTION]!.closeSafely('connection closed by the client') }
  private static streamDrain(this: OwnedStream): void {
    const conn = this[CONNECTION]!
    conn.released()
    conn.session?.pump()
  }
  private static streamClose(this: OwnedStream): void {
    const conn = this[CONNECTION]!
    conn.closeSafely('connection closed')
    conn.current = ConnState.Closed
    conn.released()
    if (conn.closeTimer !== undefined) conn.broker.options.timers.clearTimeout(conn.closeTimer)
    conn.listener?.released()
  }

  /** A user name the transport vouches for (a client certificate's identity), see ConnectionContext. */
  get certifiedUsername(): string | undefined { return this.context.username }
  get certificateSubject(): string | undefined { return this.context.certificateSubject }
  get internal(): boolean { return this.context.internal === true }
  get listener(): ListenerLink | undefined { return this.context.listener }
  get state(): ConnState { return this.current }
  get version(): ProtocolVersion { return this.protocol }
  /** A v3.x CONNECT with the bridge bit (0x80) on its protocol level: every subscription is No Local and Retain As Published, as in Mosquitto. */
  get isBridge(): boolean { return this.bridge }
  get clientId(): string { return this.id }
  get username(): string | undefined { return this.user }
  get session(): Session | undefined { return this.attached }
  get will(): WillMessage | undefined { return this.lastWill }
  /** What the client announced about itself (v5 CONNECT properties; protocol defaults otherwise). */
  get peer(): PeerLimits { return this.announced }
  /** Aliases we send (v5, option outboundTopicAliases, client Topic Alias Maximum > 0). */
  get outboundAliases(): OutboundAliases | undefined { return this.aliasesOut }
  get authMethod(): string | undefined { return this.method }

  get clientInfo() {
    return {clientId: this.clientId, username: this.username, protocolVersion: this.version, remoteAddress: this.remoteAddress,
      listener: this.listener?.id}
  }


  // --- input -----------------------------------------------------------------------------------

  /**
   * Bytes in. Keepalive counts progress, not bytes: silence is measured from the last packet completed
   * or, while a packet is arriving, from when it started. A client that trickles a packet that never
   * completes (100 B/s of an announced 2 MB) is closed 1.5 keepalives after the packet began, however
   * steadily the bytes come; a large packet that completes within that time resets the clock.
   */
  private onData(chunk: Buffer): void {
    const now = this.broker.options.timers.now()
    const midPacket = this.decoder.heldBytes > 0
    const packets = this.packetsIn
    this.broker.metrics.bytesReceived += chunk.length
    try {
      this.decoder.push(chunk, this.onPacket, this)
    } catch (error) {
      this.failSafely(error)
    }
    // a packet completed, none is pending, or this chunk started the one pending: progress
    if (!midPacket || this.packetsIn !== packets || this.decoder.heldBytes === 0) this.seen(now)
  }

  /** A method, not an arrow field: an arrow would be a closure (and a context) per connection. */
  private onPacket(packet: Packet): void {
    this.packetsIn++
    this.broker.metrics.packetsReceived++
    if (this.pending !== undefined) {
      this.pending.push(packet)
      if (this.pending.length >= MAX_PENDING_PACKETS) this.stream.pause()
      return
    }
    const step = this.dispatch(packet)
    if (step) void this.drainAfter(step)
  }

  /** Runs a packet's handler; an exception that is not a protocol error is the engine's own, and logged as such. */
  private dispatch(packet: Packet): Promise<void> | void {
    try {
      const step = dispatch(this, packet)
      return step === undefined ? step : step.catch((error: unknown) => this.reportAndRethrow(error, packet))
    } catch (error) {
      this.reportAndRethrow(error, packet)
    }
  }

  /** An error that is not a protocol error is the engine's own: reported as such, then answered as any error. */
  private reportAndRethrow(error: unknown, packet: Packet): never {
    if (!(error instanceof MqttError)) this.broker.internalError(error, {clientId: this.clientId, packet: packet.cmd, during: 'handling a packet'})
    throw error
  }

  /** Holds later packets until an async step finishes, then processes them in order. */
  private async drainAfter(step: Promise<void>): Promise<void> {
    const pending: Packet[] = (this.pending = [])
    try {
      await step
      while (pending.length > 0 && this.state < ConnState.Closing) {
        const next = this.dispatch(pending.shift()!)
        if (next) await next
      }
    } catch (error) {
      this.failSafely(error)
    } finally {
      this.pending = undefined
      if (this.stream.isPaused()) this.stream.resume()
    }
  }


  /**
   * Problem information for a v5 packet other than CONNACK, DISCONNECT or PUBLISH: only when the client
   * did not set Request Problem Information to 0 [MQTT-3.1.2-29].
   */
  problem(reason: string): {reasonString: string} | undefined {
    return this.version === 5 && this.peer.requestProblemInformation ? {reasonString: reason} : undefined
  }

  // --- ending ----------------------------------------------------------------------------------

  /** The one place an error becomes an answer: CONNACK before CONNECT completes, v5 DISCONNECT after, else a plain close. */
  fail(error: unknown): void {
    if (this.state >= ConnState.Closing) return
    const err = error instanceof MqttError ? error : new MqttError(ReasonCode.UnspecifiedError, (error as Error)?.message ?? String(error))
    this.broker.options.logger.debug({clientId: this.clientId, err: err.message, reasonCode: err.reasonCode}, 'connection error')
    if (err instanceof UnsupportedProtocolError) {
      this.write(unsupportedLevelConnack(err)) // then close (answers.ts)
      return this.close(false, err.message)
    }
    if (this.state === ConnState.Connected) return this.disconnect(err.reasonCode, err.message)
    // a v5 CONNECT that failed is told why in a CONNACK, if one fits (answers.ts)
    const connack = this.version === 5 || this.decoder.connectLevel === 5 ? refusingConnack(err, this.peer) : undefined
    if (connack !== undefined) this.write(connack)
    this.close(true, err.message)
  }

  /**
   * fail(), for the stream's own callbacks: whatever goes wrong while answering or closing (an engine
   * bug) is logged, and the connection is destroyed instead of the exception reaching the event loop.
   */
  private failSafely(error: unknown): void {
    try {
      this.fail(error)
    } catch (inner) {
      this.broker.internalError(inner, {clientId: this.clientId, during: 'closing after an error'})
      this.stream.destroy()
    }
  }

  /** close() from the stream's callbacks (end, error, close), contained like failSafely. */
  private closeSafely(reason: string): void {
    try {
      this.close(true, reason)
    } catch (error) {
      this.broker.internalError(error, {clientId: this.clientId, during: 'closing'})
      this.stream.destroy()
    }
  }

  /** Server-initiated disconnect: a v5 client is told why (DISCONNECT with reason code and string). */
  disconnect(reasonCode: number, reason: string, sendWill = true): void {
    if (this.state >= ConnState.Closing) return
    if (this.version === 5 && this.state === ConnState.Connected) {
      // a code DISCONNECT cannot carry would make the client read a malformed packet
      const code = isDisconnectReason(reasonCode) ? reasonCode : ReasonCode.UnspecifiedError
      // a reason string only for a client that did not set Request Problem Information to 0 (midge's policy: README)
      this.send({cmd: 'disconnect', reasonCode: code, properties: this.peer.requestProblemInformation ? {reasonString: reason} : {}})
    }
    this.close(sendWill, reason)
  }

  /** Aborted when the connection closes: work done on its behalf (a password verification) can be skipped. */
  get closedSignal(): AbortSignal {
    this.closedController ??= new AbortController()
    if (this.state >= ConnState.Closing) this.closedController.abort()
    return this.closedController.signal
  }

  /** Silent too long (Keepalive): a missed keepalive, or a CONNECT that never came. */
  silent(keepalive: boolean): void {
    try {
      if (keepalive) this.disconnect(ReasonCode.KeepAliveTimeout, 'keepalive timeout')
      else if (this.state === ConnState.AwaitingConnect || this.state === ConnState.Authenticating) this.close(false, 'no CONNECT in time')
    } catch (error) {
      this.broker.internalError(error, {clientId: this.clientId, during: 'closing a silent connection'})
      this.stream.destroy()
    }
  }

  /** Closes once: detaches the session (publishing the will when due) and ends the socket. */
  close(sendWill: boolean, reason: string): void {
    if (this.state >= ConnState.Closing) return
    const wasConnected = this.state === ConnState.Connected
    this.current = ConnState.Closing
    this.decoder.stop()
    this.stopKeepalive()
    this.closedController?.abort()
    this.broker.detach(this, wasConnected, sendWill, reason)
    this.uncork()
    if (this.stream.destroyed) return // reset or errored: nothing left to end
    this.stream.end()
    // a peer that does not read cannot hold the socket open
    this.closeTimer = this.broker.options.timers.setTimeout(() => this.stream.destroy(), 2000)
  }

  // --- transitions (HandlerContext) ---------------------------------------------------------------

  /** Learns the protocol version (and a v3 bridge's bit) from CONNECT; packets are parsed and encoded with it from now on. */
  setVersion(version: ProtocolVersion, isBridge = false): void {
    this.protocol = version
    this.bridge = isBridge
    this.decoder.protocolVersion = version
  }

  setPeer(peer: PeerLimits): void {
    this.announced = peer
  }

  beginAuthentication(method: string): void {
    this.method = method
    this.current = ConnState.Authenticating
  }

  identify(clientId: string, username: string | undefined): void {
    this.id = clientId
    this.user = username
  }

  reauthenticated(username: string): void {
    this.user = username
  }

  becomeConnected({session, will, outboundAliases}: Accepted): void {
    this.attached = session
    this.lastWill = will
    this.aliasesOut = outboundAliases
    this.current = ConnState.Connected
  }

  takeWill(): WillMessage | undefined {
    const will = this.lastWill
    this.lastWill = undefined
    return will
  }

  inboundAliasTable(): InboundAliases {
    return (this.inboundAliases ??= new InboundAliases(this.broker.options.topicAliasMaximum))
  }

  /** Applies the maximum packet size we announce to this client. */
  setMaxPacketSize(bytes: number): void {
    this.decoder.maxPacketSize = bytes
  }
}
