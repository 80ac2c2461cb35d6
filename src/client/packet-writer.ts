// Every byte the client sends goes through here: writes are corked and flushed once per event-loop
// turn (a burst of publishes is one syscall), traced when asked, and nothing follows DISCONNECT.
import type {Duplex} from 'node:stream'
import {encodePacket, PacketDecoder, type Packet, type ProtocolVersion} from '../codec/index.js'
import type {PacketTrace} from './options.js'

export class PacketWriter {
  /** Set by every write; the keepalive clears it on each tick. */
  sentSinceTick = false
  private corked = false
  private disconnectSent = false
  private readonly traceDecoder: PacketDecoder | undefined

  constructor(private readonly stream: Duplex, private readonly protocolVersion: ProtocolVersion, private readonly trace?: PacketTrace) {
    if (trace) this.traceDecoder = new PacketDecoder({maxPacketSize: Number.MAX_SAFE_INTEGER, protocolVersion})
  }

  /** Encodes `packet` with the connection's protocol version and writes it. */
  send(packet: Packet): boolean {
    return this.write(encodePacket(packet, this.protocolVersion))
  }

  /** Returns false when the socket's buffer is full (or DISCONNECT was sent). */
  write(bytes: Buffer): boolean {
    if (this.disconnectSent) return false
    this.sentSinceTick = true
    if (this.traceDecoder) this.traceDecoder.push(bytes, (p) => this.trace!('out', p))
    if (!this.corked) {
      this.corked = true
      this.stream.cork()
      process.nextTick(this.uncork)
    }
    return this.stream.write(bytes)
  }

  /** Sends DISCONNECT and ends the stream. */
  end(disconnect: Packet): void {
    this.send(disconnect)
    this.disconnectSent = true // [MQTT-3.14.4-1] nothing may follow DISCONNECT
    this.stream.end()
  }

  private readonly uncork = () => {
    this.corked = false
    this.stream.uncork()
  }
}
