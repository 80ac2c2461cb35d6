// A connection's output: deliveries, control packets and acknowledgements, held and written once per
// event-loop iteration as one buffer (write-batch.ts). `Connection` extends it, so the held writes are
// fields of the connection itself: no object or closure per connection, none per message.
import type {Duplex} from 'node:stream'
import type {Packet, ProtocolVersion} from '../codec/index.js'
import {ConnState, type PeerLimits} from './conn-state.js'
import type {ConnectionHost} from './handlers/context.js'
import type {ListenerLink} from './listeners/link.js'
import type {Message} from './message.js'
import {unmountTopic} from './mount-point.js'
import {encodeDelivery, sharedDelivery} from './outbound.js'
import type {Delivery, DropReason, Session} from './session.js'
import type {OutboundAliases} from './topic-alias.js'
import {encodeWithin} from './answers.js'
import {NO_PATCH, patched, patchOf, type Corked, type Patch} from './write-batch.js'
import {Keepalive} from './keepalive.js'

/** Held writes past this size are flushed without waiting for the end of the iteration. */
const FLUSH_AT_BYTES = 8_192

/** The output path of `Connection` (connection.ts), which supplies the state it reads; its keepalive clock below it. */
export abstract class ConnectionOutput extends Keepalive implements Corked {
  abstract override readonly broker: ConnectionHost
  abstract readonly stream: Duplex
  abstract readonly listener: ListenerLink | undefined
  abstract get state(): ConnState
  abstract get version(): ProtocolVersion
  abstract get clientId(): string
  abstract get session(): Session | undefined
  abstract get peer(): PeerLimits
  abstract get outboundAliases(): OutboundAliases | undefined
  abstract close(sendWill: boolean, reason: string): void
  abstract disconnect(reasonCode: number, reason: string, sendWill?: boolean): void

  private corked = false
  /** Bytes held (heldCount packets), written at the end of the iteration (or at FLUSH_AT_BYTES) as one buffer. */
  private corkedBytes = 0
  private heldCount = 0
  /** The first packet held: a connection that writes one packet per iteration (a CONNACK, a PUBACK) needs no array. */
  private heldFirst: Buffer | undefined
  private heldFirstPatch: Patch = NO_PATCH
  /**
   * The packet id to write into each held shared encoding (write-batch.ts), beside `held`, valid for
   * held[0 .. heldCount) while `heldPatched`: made only once a batch holds a packet that has one, so a
   * subscriber that only ever gets QoS 0 never has it.
   */
  private heldPatches: Patch[] | undefined
  private heldPatched = false
  /**
   * While the held packets are consecutive entries of the broker's log of this iteration (write-batch.ts,
   * a run), where they start in it (they are log[heldRun .. heldRun + heldCount)); -1 when not.
   */
  private heldRun = -1
  /** All the held packets once there are two or more and they are not a run: held[0 .. heldCount), kept between batches, emptied slot by slot. */
  private held: Array<Buffer | undefined> | undefined
  private awaitingFlush = false
  /** This socket's share of the broker's `writes.outboundBytes` (its bytes held past its high-water mark). */
  private accounted = 0

  // --- SessionLink ---------------------------------------------------------------------------

  /**
   * Whether more may be sent now: false for a slow reader, one whose output passed its own limit, or
   * whose socket is backed up while the broker's sockets together hold more than theirs (the kernel's
   * backpressure bounds the broker's memory; a socket the kernel keeps up with is never held back).
   */
  get writable(): boolean {
    const {options} = this.broker
    return this.state === ConnState.Connected && this.stream.writableLength + this.corkedBytes < options.maxOutboundBufferBytes &&
      (this.accounted === 0 || this.broker.writes.outboundBytes < options.maxOutboundBufferBytesTotal)
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
    if (alias !== undefined && !alias.known) this.outboundAliases!.commit(d.message.topic, alias.alias)
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
      this.recount()
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
        this.recount()
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
    this.recount()
  }

  /**
   * After a write: a socket past its high-water mark (it will emit 'drain') counts what it holds in the
   * broker's total; one that drained or closed (`released`) no longer does.
   */
  private recount(): void {
    const stream = this.stream
    if (!stream.writableNeedDrain || stream.destroyed) return this.released()
    const now = stream.writableLength
    this.broker.writes.outboundBytes += now - this.accounted
    this.accounted = now
  }

  /** The socket drained or closed: it holds nothing the broker counts. */
  protected released(): void {
    if (this.accounted === 0) return
    this.broker.writes.outboundBytes -= this.accounted
    this.accounted = 0
  }

  private hold(bytes: Buffer, patch: Patch): void {
    const n = this.heldCount++
    const writes = this.broker.writes
    if (n === 0) {
      this.heldFirst = bytes
      this.heldFirstPatch = patch
      if (patch === NO_PATCH) this.heldRun = writes.startRun(bytes)
      return
    }
    if (this.heldRun >= 0) {
      // a fan-out's subscriber: the packets it holds are the ones every subscriber holds, in that order
      if (patch === NO_PATCH && writes.extendRun(bytes, this.heldRun + n)) return
      this.endRun(n)
    }
    // kept for connections that write batches; one that writes one packet at a time (an idle client's
    // PINGRESP, a publisher's PUBACK) never makes an array
    const held = (this.held ??= [])
    if (n === 1) held[0] = this.heldFirst
    held[n] = bytes
    if (this.heldPatched || patch !== NO_PATCH || this.heldFirstPatch !== NO_PATCH) this.patchesTo(n)[n] = patch
  }

  /** The run's first n packets, into the array (none of them has a patch). */
  private endRun(n: number): void {
    const held = (this.held ??= [])
    for (let i = 0; i < n; i++) held[i] = this.broker.writes.loggedAt(this.heldRun + i)
    this.heldRun = -1
    this.broker.writes.endRun()
  }

  /** The held packets' patches, made valid for held[0 .. n) (NO_PATCH where none was held) if they were not. */
  private patchesTo(n: number): Patch[] {
    const patches = (this.heldPatches ??= [])
    if (!this.heldPatched) {
      patches[0] = this.heldFirstPatch
      for (let i = 1; i < n; i++) patches[i] = NO_PATCH
      this.heldPatched = true
    }
    return patches
  }

  /** Writes the held packets, as one buffer (at most about FLUSH_AT_BYTES copied). */
  private flushHeld(): void {
    const n = this.heldCount
    if (n === 0) return
    const stream = this.stream
    let bytes: Buffer
    if (n === 1) {
      bytes = this.heldFirstPatch === NO_PATCH ? this.heldFirst! : patched(this.heldFirst!, this.heldFirstPatch)
    } else if (this.heldRun >= 0) {
      bytes = this.broker.writes.joinRun(this.heldRun, n, this.corkedBytes, stream)
    } else {
      const held = this.held!
      bytes = this.broker.writes.join(held, this.heldPatched ? this.heldPatches : undefined, n, this.corkedBytes, stream)
      for (let i = 0; i < n; i++) held[i] = undefined
      this.heldPatched = false
    }
    if (this.heldRun >= 0) {
      this.heldRun = -1
      this.broker.writes.endRun()
    }
    this.heldFirst = undefined
    this.heldFirstPatch = NO_PATCH
    this.heldCount = 0
    this.corkedBytes = 0
    if (!stream.writable) return // a stream destroyed meanwhile drops them, as a corked one did
    stream.write(bytes)
    this.broker.writes.written(bytes, stream)
    this.recount()
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

  /** A PUBREC that will never be sent (AckQueue.abandon): its packet id is let go, so that the PUBLISH sent again is routed. */
  forgetInbound(packetId: number): void {
    const session = this.session
    if (session?.releaseInbound(packetId) === true) session.journal?.inbound(session, packetId, false)
  }
}
