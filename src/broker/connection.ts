import type {Duplex} from 'node:stream'
import {
  isDisconnectReason, MqttError, PacketDecoder, ReasonCode, UnsupportedProtocolError,
  InboundAliases, type Packet, type ProtocolVersion, type WillMessage,
} from '../codec/index.js'
import type {Accepted, ConnectionHost, HandlerContext} from './handlers/context.js'
import {dispatch} from './handlers/dispatch.js'
import {unmountTopic} from './mount-point.js'
import {encodeDelivery, sharedDelivery} from './outbound.js'
import {NO_PATCH, patched, patchOf, type Patch} from './write-batch.js'
import type {Message} from './message.js'
import type {Delivery, DropReason, Session, SessionLink} from './session.js'
import type {OutboundAliases} from './topic-alias.js'
import {Keepalive, type Silent} from './keepalive.js'
import {ConnState, DEFAULT_PEER, type PeerLimits} from './conn-state.js'
import type {ConnectionContext, ListenerLink} from './listeners/link.js'
import {encodeWithin, refusingConnack, unsupportedLevelConnack} from './answers.js'

export {ConnState, type PeerLimits} from './conn-state.js'
export type {ConnectionContext, ListenerLink} from './listeners/link.js'

const MAX_PENDING_PACKETS = 1000
/** Held writes past this size are flushed without waiting for the end of the iteration. */
const FLUSH_AT_BYTES = 8_192

const CONNECTION = Symbol('midge.connection')
type OwnedStream = Duplex & {[CONNECTION]?: Connection}

/**
 * One socket (any duplex stream): decodes packets, runs them through dispatch strictly in order
 * (holding later packets while an async step such as authentication runs), batches writes per
 * event-loop turn, and turns every error into the answer the protocol wants.
 */
export class Connection implements HandlerContext, SessionLink, Silent {
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
  /** A user name the transport vouches for (a client certificate's identity), see ConnectionContext. */
  readonly certifiedUsername: string | undefined
  readonly certificateSubject: string | undefined
  readonly internal: boolean
  readonly listener: ListenerLink | undefined
  private readonly decoder: PacketDecoder
  private pending: Packet[] | undefined
  private corked = false
  /** Bytes held (heldCount packets), written at the end of the iteration (or at FLUSH_AT_BYTES) as one buffer. */
  private corkedBytes = 0
  private heldCount = 0
  /** The first packet held: a connection that writes one packet per iteration (a CONNACK, a PUBACK) needs no array. */
  private heldFirst: Buffer | undefined
  private heldFirstPatch: Patch = NO_PATCH
  /** The packet id to write into each held shared encoding (write-batch.ts), beside `held`. */
  private heldPatches: Patch[] | undefined
  /** All the held packets once there are two or more: held[0 .. heldCount), kept between batches, emptied slot by slot. */
  private held: Array<Buffer | undefined> | undefined
  private awaitingFlush = false
  private closeTimer: unknown
  private closedController: AbortController | undefined
  /** The CONNECT timeout, then the keepalive: how long this connection may stay silent. */
  private readonly keepalive: Keepalive
  /** Packets decoded on this connection (keepalive progress, see onData). */
  private packetsIn = 0

  constructor(readonly broker: ConnectionHost, readonly stream: Duplex, readonly remoteAddress: string | undefined, context: ConnectionContext = {}) {
    const {options} = broker
    this.certifiedUsername = context.username
    this.certificateSubject = context.certificateSubject
    this.internal = context.internal === true
    this.listener = context.listener
    this.decoder = new PacketDecoder({maxPacketSize: options.maxPacketSize})
    // shared listeners find their connection on the stream: no closures per connection
    const owned = stream as OwnedStream
    owned[CONNECTION] = this
    owned.on('data', Connection.streamData)
    owned.on('error', Connection.streamError)
    owned.on('end', Connection.streamEnd)
    owned.on('close', Connection.streamClose)
    owned.on('drain', Connection.streamDrain)
    this.keepalive = new Keepalive(this, broker.watchdog, options.timers, options.connectTimeoutMs)
  }

  private static streamData(this: OwnedStream, chunk: Buffer): void { this[CONNECTION]!.onData(chunk) }
  private static streamError(this: OwnedStream, err: Error): void { this[CONNECTION]!.closeSafely(`socket error: ${err.message}`) }
  private static streamEnd(this: OwnedStream): void { this[CONNECTION]!.closeSafely('connection closed by the client') }
  private static streamDrain(this: OwnedStream): void { this[CONNECTION]!.session?.pump() }
  private static streamClose(this: OwnedStream): void {
    const conn = this[CONNECTION]!
    conn.closeSafely('connection closed')
    conn.current = ConnState.Closed
    if (conn.closeTimer !== undefined) conn.broker.options.timers.clearTimeout(conn.closeTimer)
    conn.listener?.released()
  }

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

  // --- SessionLink ---------------------------------------------------------------------------

  get writable(): boolean {
    return this.state === ConnState.Connected && this.stream.writableLength + this.corkedBytes < this.broker.options.maxOutboundBufferBytes
  }

  get inflightWindow(): number {
    const ours = this.broker.options.maxInflightMessages || 65_535
    return this.peer.receiveMaximum < ours ? this.peer.receiveMaximum : ours
  }

  sendPublish(d: Delivery, packetId: number, dup: boolean): void {
    const mount = this.listener?.mountPoint
    if (mount !== undefined) {
      const topic = unmountTopic(mount, d.message.topic)
      // outside the mount point (a session resumed from another listener): never sent, as in Mosquitto
      if (topic === undefined) return this.undeliverable(d, packetId, 'not-authorized')
      d = {...d, message: {...d.message, topic, encoded: undefined}} // encoded for this client alone
    }
    const alias = this.outboundAliases?.lookup(d.message.topic)
    let bytes: Buffer
    let patch = NO_PATCH
    try {
      // QoS 1/2: the message's shared encoding, patched with the packet id where it is copied into the batch
      const shared = packetId !== 0 ? sharedDelivery(d, this.version, alias) : undefined
      if (shared !== undefined) patch = patchOf(shared.packetIdOffset, packetId, dup)
      bytes = shared?.bytes ?? encodeDelivery(d, this.version, packetId, dup, this.broker.options.timers.now(), alias)
    } catch (error) {
      // a message that cannot be encoded for this client costs this delivery only, never the session's state
      this.broker.internalError(error, {clientId: this.clientId, packet: 'publish', during: 'encoding a delivery'})
      return this.undeliverable(d, packetId, 'delivery-failed')
    }
    // [MQTT-3.1.2-25] never send a packet larger than the client's Maximum Packet Size: drop it for this client
    if (bytes.length > this.peer.maximumPacketSize) return this.undeliverable(d, packetId, 'too-large')
    if (alias !== undefined && !alias.known) this.aliasesOut!.commit(d.message.topic, alias.alias)
    this.write(bytes, true, patch)
    const m = this.broker.metrics
    m.messagesSent++
    m.publishBytesSent += d.message.payload.length
    if (this.listener !== undefined) this.listener.stats.messagesSent++
  }

  private undeliverable(d: Delivery, packetId: number, reason: DropReason): void {
    this.broker.dropped(this.session, d, reason)
    if (packetId !== 0) this.session?.complete(packetId)
  }

  sendPubrel(packetId: number): void {
    this.send({cmd: 'pubrel', messageId: packetId})
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
      this.decoder.push(chunk, this.onPacket)
    } catch (error) {
      this.failSafely(error)
    }
    // a packet completed, none is pending, or this chunk started the one pending: progress
    if (!midPacket || this.packetsIn !== packets || this.decoder.heldBytes === 0) this.keepalive.seen(now)
  }

  private readonly onPacket = (packet: Packet): void => {
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

  // --- output ----------------------------------------------------------------------------------

  /**
   * Queues bytes; everything written in one event-loop iteration goes out in one writev (WriteBatch). The write that
   * takes the output past maxOutboundBufferBytes (so `writable` turns false) carries a callback that
   * resumes the session's queue once it is flushed: 'drain' alone is not enough, since the stream
   * emits it only past its own high-water mark, which may be above our limit.
   * `hold` false: at once, when nothing is held (still in order behind anything that is).
   */
  write(bytes: Buffer, hold = true, patch: Patch = NO_PATCH): void {
    if (!this.stream.writable) return
    const m = this.broker.metrics
    m.packetsSent++
    m.bytesSent += bytes.length
    if (!hold && !this.corked && this.stream.writableLength === 0) {
      this.stream.write(patch === NO_PATCH ? bytes : patched(bytes, patch))
      return
    }
    if (!this.corked) {
      this.corked = true
      this.broker.writes.add(this)
    }
    if (this.awaitingFlush || this.stream.writableLength + this.corkedBytes + bytes.length < this.broker.options.maxOutboundBufferBytes) {
      if (bytes.length >= FLUSH_AT_BYTES) {
        // a large packet goes as it is, after what is held: never copied (but for its packet id)
        this.flushHeld()
        this.stream.write(patch === NO_PATCH ? bytes : patched(bytes, patch))
        return
      }
      // held here rather than in the corked stream: a fan-out to a thousand subscribers left several
      // objects per delivery in the stream's buffer (promoted to the old generation under load, the bulk
      // of the peak RSS); this is one array slot, and one write per batch
      this.hold(bytes, patch)
      if ((this.corkedBytes += bytes.length) >= FLUSH_AT_BYTES) this.flushHeld()
      return
    }
    this.awaitingFlush = true
    this.flushHeld()
    this.stream.write(patch === NO_PATCH ? bytes : patched(bytes, patch), () => this.onFlushed())
  }

  private hold(bytes: Buffer, patch: Patch): void {
    const n = this.heldCount++
    if (n === 0) {
      this.heldFirst = bytes
      this.heldFirstPatch = patch
      return
    }
    // kept for connections that write batches; one that writes one packet at a time (an idle client's
    // PINGRESP, a publisher's PUBACK) never makes an array
    const held = (this.held ??= [])
    const patches = (this.heldPatches ??= [])
    if (n === 1) {
      held[0] = this.heldFirst
      patches[0] = this.heldFirstPatch
    }
    held[n] = bytes
    patches[n] = patch
  }

  /** Writes the held packets, as one buffer (at most about FLUSH_AT_BYTES copied). */
  private flushHeld(): void {
    const n = this.heldCount
    if (n === 0) return
    const stream = this.stream
    let bytes: Buffer
    if (n === 1) {
      bytes = this.heldFirstPatch === NO_PATCH ? this.heldFirst! : patched(this.heldFirst!, this.heldFirstPatch)
    } else {
      const held = this.held!
      bytes = this.broker.writes.join(held, this.heldPatches!, n, this.corkedBytes, stream)
      for (let i = 0; i < n; i++) held[i] = undefined
    }
    this.heldFirst = undefined
    this.heldFirstPatch = NO_PATCH
    this.heldCount = 0
    this.corkedBytes = 0
    if (!stream.writable) return // a stream destroyed meanwhile drops them, as a corked one did
    stream.write(bytes)
    this.broker.writes.written(bytes, stream)
  }

  private onFlushed(): void {
    this.awaitingFlush = false
    if (this.state === ConnState.Connected) this.session?.pump()
  }

  uncork(): void {
    if (!this.corked) return
    this.corked = false
    this.flushHeld()
  }

  /**
   * Sends a control packet. [MQTT-3.1.2-24] nothing larger than the client's Maximum Packet Size:
   * a reason string and user properties are left out first [MQTT-3.2.2-19] [MQTT-3.14.2-3]; a packet
   * still too large is not sent, and the connection is closed rather than leave the client waiting for
   * an answer that cannot come. `hold`: as for write().
   */
  send(packet: Packet, hold = true): void {
    const bytes = encodeWithin(packet, this.version, this.peer.maximumPacketSize)
    if (bytes === undefined) {
      if (packet.cmd !== 'disconnect') this.close(true, `a ${packet.cmd.toUpperCase()} larger than the client's Maximum Packet Size`)
      return
    }
    this.write(bytes, hold)
  }

  /**
   * Sends an acknowledgement that confirms durable state (PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK):
   * with persistence on, once the writes made so far are committed, in order with the others; the
   * PUBACK of a QoS 1 `message` also once every stored delivery of it is acknowledged (AckQueue).
   */
  sendAck(packet: Packet, message?: Message): void {
    const persistence = this.broker.persistence
    if (persistence === undefined) this.send(packet)
    else persistence.reply(this, packet, message)
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

  /** CONNECT arrived: the connect timeout no longer applies (keepalive.ts). */
  connectReceived(): void {
    this.keepalive.connectReceived()
  }

  /** Closes the connection after 1.5 times the keepalive of silence [MQTT-3.1.2-24]; 0 turns this off. */
  startKeepalive(seconds: number): void {
    this.keepalive.start(seconds)
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
    this.keepalive.stop()
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
