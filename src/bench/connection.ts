// The load generator's own connection: the transports and CONNECT of src/client (openTransport,
// connectPacket), but a receive path made for load. The codec's FrameScanner splits the socket
// chunks into frames in place (bounded by the maximum packet size, nothing copied but a frame that
// spans chunks); PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP and PINGRESP are read in place with the
// codec's in-place readers (no packet objects, no promises), and the acknowledgements for a whole
// chunk are written by the codec's writeShortAck into one buffer and go out in one write. Only the
// rare control packets (CONNACK, SUBACK) go through the codec's decoder.
import type {Duplex} from 'node:stream'
import {connect as netConnect, type Socket} from 'node:net'
import {connectPacket, describeTarget, openTransport, transportTarget, type ClientOptions, type TransportTarget} from '../client/index.js'
import {
  AckByte, ackPacketId, ackReasonCode, DISCONNECT_BYTES, disconnectReasonCode, encodePacket, FrameScanner, MqttError,
  PacketDecoder, PacketTooLargeError, PacketType, PINGREQ_BYTES, PROTOCOL_MAX_PACKET_SIZE, PublishView, reasonName, SHORT_ACK_SIZE, v3ConnackName, writeShortAck,
  type Packet, type ProtocolVersion, type QoS, type SubackPacket,
} from '../codec/index.js'

export interface ConnectionHandlers {
  /** A PUBLISH arrived; its payload is buf[start, end) (valid only during the call). */
  onPublish(buf: Buffer, start: number, end: number): void
  /** PUBACK, PUBCOMP, or a PUBREC refusing the message (reason >= 0x80). */
  onAck(packetId: number, reasonCode: number): void
  /** After every chunk of inbound bytes. */
  onChunk(): void
  /** The connection ended without our asking, and why. */
  onLost(reason: string): void
}

const NOOP: ConnectionHandlers = {onPublish() {}, onAck() {}, onChunk() {}, onLost() {}}

/** Why a connection or subscription failed: `reason` is the key the report counts by. */
export class BenchError extends Error {
  constructor(readonly reason: string, message?: string, readonly connackCode?: number) {
    super(message ?? reason)
    this.name = 'BenchError'
  }
}

const errnoWords: Record<string, string> = {
  ECONNREFUSED: 'connection refused', ETIMEDOUT: 'timed out', ECONNRESET: 'connection reset', EPIPE: 'broken pipe',
  ENOTFOUND: 'host not found', EAI_AGAIN: 'host name lookup failed', EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable', EADDRNOTAVAIL: 'no free local address/port (EADDRNOTAVAIL)',
  EMFILE: 'too many open files (EMFILE: raise ulimit -n)', ENFILE: 'too many open files in the system (ENFILE)', ENOENT: 'no such socket',
}

function errnoReason(error: unknown): string {
  const e = error as {code?: string; message?: string; cause?: {code?: string}}
  const code = e.code ?? e.cause?.code
  if (code && errnoWords[code]) return errnoWords[code]
  const message = e.message ?? String(error)
  return message.replace(/^cannot connect to [^:]+(:\d+)?: /, '')
}

/** Shared per thread: decodes the rare control packets, one decoder per protocol version. */
export class ControlDecoder {
  private readonly decoders = new Map<ProtocolVersion, PacketDecoder>()
  decode(frame: Buffer, version: ProtocolVersion): Packet {
    let d = this.decoders.get(version)
    if (!d) {
      d = new PacketDecoder({maxPacketSize: Number.MAX_SAFE_INTEGER, protocolVersion: version})
      this.decoders.set(version, d)
    }
    return d.decodeFrame(frame)
  }
}

// biome-ignore lint/suspicious/noExplicitAny: each waiter's caller knows what its packet's answer is (CONNACK code, SUBACK)
type Waiter = {cmd: 'connack' | 'suback'; resolve: (p: any) => void; reject: (e: Error) => void}

export class BenchConnection {
  handlers: ConnectionHandlers = NOOP
  /** The broker's Receive Maximum (v5), else 65535. */
  receiveMaximum = 65_535
  /** Set by every write; the keepalive tick clears it and pings when nothing was written. */
  wrote = false
  private state: 'connecting' | 'open' | 'closing' | 'closed' = 'connecting'
  private readonly frames: FrameScanner
  private readonly publish = new PublishView()
  private acks = Buffer.allocUnsafe(4096)
  private ackLength = 0
  private waiter: Waiter | undefined
  private lostReason: string | undefined

  private constructor(readonly stream: Duplex, readonly version: ProtocolVersion, private readonly control: ControlDecoder, maxPacketSize: number) {
    this.frames = new FrameScanner(maxPacketSize)
    stream.on('data', this.onData)
    stream.on('error', (e: Error) => this.ended(`connection lost: ${errnoReason(e)}`))
    stream.on('close', () => this.ended('connection closed by the broker'))
    stream.on('end', () => this.ended('connection closed by the broker'))
  }

  /**
   * Opens the transport, sends CONNECT and waits for CONNACK. Throws a BenchError whose reason names
   * the failure (unreachable, timed out, closed, refused with its CONNACK code). Plain TCP, the case
   * of 10k-connection runs, opens its socket directly with one timer and no AbortSignals; TLS,
   * WebSocket and Unix sockets go through the client's transports.
   */
  static async open(options: ClientOptions, timeoutMs: number, control: ControlDecoder, signal?: AbortSignal): Promise<BenchConnection> {
    const version = options.protocolVersion ?? 5
    const target = transportTarget(options)
    const seconds = timeoutMs / 1000
    let phase: 'transport' | 'connack' = 'transport'
    let cancel: ((reason: string) => void) | undefined
    let why: string | undefined
    const stop = (reason: string) => { why ??= reason; cancel?.(reason) }
    const timer = setTimeout(() => stop(phase === 'transport' ? `no connection within ${seconds}s` : `no CONNACK within ${seconds}s`), timeoutMs)
    const onAbort = () => stop('aborted')
    signal?.addEventListener('abort', onAbort)
    try {
      let stream: Duplex
      try {
        if (signal?.aborted) throw new Error('aborted')
        stream = target.scheme === 'mqtt' && !target.socketPath
          ? await tcpConnect(target, (c) => { cancel = c })
          : await openTransport({...target, signal: abortable((c) => { cancel = c })})
      } catch (error) {
        const reason = why ?? errnoReason(error)
        throw new BenchError(`connect: ${reason}`, `cannot connect to ${describeTarget(target)}: ${reason}`)
      }
      phase = 'connack'
      const c = new BenchConnection(stream, version, control, options.properties?.maximumPacketSize ?? options.maxPacketSize ?? PROTOCOL_MAX_PACKET_SIZE)
      cancel = (reason) => c.ended(reason)
      if (why) c.ended(why)
      c.write(encodePacket(connectPacket(options), version))
      const connack = await c.expect('connack')
      const code = connack.code
      if (code !== 0) {
        c.destroy()
        const words = version === 5 ? reasonName(code) : v3ConnackName(code)
        throw new BenchError(`CONNACK: ${words} (0x${code.toString(16).padStart(2, '0')})`, `connection refused: ${words}`, code)
      }
      if (connack.receiveMaximum) c.receiveMaximum = connack.receiveMaximum
      c.state = 'open'
      return c
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  get open(): boolean { return this.state === 'open' }
  /** Bytes queued in the stream, not yet taken by the kernel. */
  get queued(): number { return this.stream.writableLength }

  /** Subscribes (one SUBSCRIBE); resolves with one granted code per filter (>= 0x80: refused). */
  async subscribe(filters: string[], qos: QoS, timeoutMs: number): Promise<number[]> {
    const v5 = this.version === 5
    const subscriptions = filters.map((topic) => v5 ? {topic, qos, nl: false, rap: false, rh: 0} : {topic, qos})
    this.write(encodePacket({cmd: 'subscribe', messageId: 1, subscriptions}, this.version))
    const timer = setTimeout(() => {
      const waiter = this.waiter
      this.waiter = undefined
      waiter?.reject(new BenchError(`subscribe: no SUBACK within ${timeoutMs / 1000}s`))
    }, timeoutMs)
    try {
      const suback = await this.expect('suback')
      return suback.granted as number[]
    } finally {
      clearTimeout(timer)
    }
  }

  write(bytes: Buffer): void {
    this.wrote = true
    this.stream.write(bytes)
  }

  ping(): void {
    if (this.state === 'open' && !this.wrote) this.stream.write(PINGREQ_BYTES)
    this.wrote = false
  }

  /** Sends DISCONNECT and closes (waits at most a second); `reset` drops the socket with a TCP RST instead. */
  async close(reset = false): Promise<void> {
    if (this.state === 'closed') return
    const wasOpen = this.state === 'open'
    this.state = 'closing'
    const socket = this.stream as Partial<Socket>
    if (reset && typeof socket.resetAndDestroy === 'function' && !this.stream.destroyed) {
      socket.resetAndDestroy()
      this.state = 'closed'
      return
    }
    if (wasOpen && !this.stream.destroyed) this.stream.end(DISCONNECT_BYTES)
    if (this.stream.destroyed) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.stream.destroy(); resolve() }, 1000)
      timer.unref()
      this.stream.once('close', () => { clearTimeout(timer); resolve() })
    })
  }

  destroy(): void {
    this.state = 'closed'
    this.stream.destroy()
  }

  private expect(cmd: 'connack'): Promise<{code: number; receiveMaximum?: number}>
  private expect(cmd: 'suback'): Promise<SubackPacket>
  private expect(cmd: Waiter['cmd']): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.lostReason) return reject(new BenchError(`${cmd === 'connack' ? 'connect' : 'subscribe'}: ${this.lostReason.replace(/^connection lost: /, '')}`))
      this.waiter = {cmd, resolve, reject}
    })
  }

  private ended(reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') {
      this.state = 'closed'
      return
    }
    const wasOpen = this.state === 'open'
    this.state = 'closed'
    this.lostReason ??= reason
    this.stream.destroy()
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter) waiter.reject(new BenchError(`${waiter.cmd === 'connack' ? 'connect' : 'subscribe'}: ${this.lostReason.replace(/^connection lost: /, '')}`))
    if (wasOpen) this.handlers.onLost(this.lostReason)
  }

  // ---- inbound: frames read in place ----

  private readonly onData = (chunk: Buffer) => {
    try {
      this.frames.push(chunk, this.onFrame)
    } catch (error) {
      if (!(error instanceof MqttError)) throw error // not the broker's bytes: a fault of ours, not to be blamed on it
      const what = error instanceof PacketTooLargeError ? 'oversized' : 'malformed'
      return this.protocolError(`${what} packet from the broker: ${(error as Error).message}`)
    }
    if (this.state === 'closed') return
    this.flushAcks()
    this.handlers.onChunk()
  }

  /** One whole frame, buf[start, end), its body from body; false stops reading (the connection ended). */
  private readonly onFrame = (buf: Buffer, start: number, body: number, end: number): boolean => {
    switch ((buf[start] as number) >> 4) {
      case PacketType.PUBLISH: {
        const view = this.publish.read(buf, start, body, end, this.version)
        this.handlers.onPublish(buf, view.payloadStart, end)
        if (view.qos === 1) this.queueAck(AckByte.puback, view.packetId)
        else if (view.qos === 2) this.queueAck(AckByte.pubrec, view.packetId)
        break
      }
      case PacketType.PUBACK:
      case PacketType.PUBCOMP:
        this.handlers.onAck(ackPacketId(buf, body, end), ackReasonCode(buf, body, end))
        break
      case PacketType.PUBREC: {
        const id = ackPacketId(buf, body, end)
        const code = ackReasonCode(buf, body, end)
        if (code >= 0x80) this.handlers.onAck(id, code)
        else this.queueAck(AckByte.pubrel, id)
        break
      }
      case PacketType.PUBREL: this.queueAck(AckByte.pubcomp, ackPacketId(buf, body, end)); break
      case PacketType.PINGRESP: break
      case PacketType.DISCONNECT: {
        const code = disconnectReasonCode(buf, body, end)
        this.lostReason = `disconnected by the broker: ${code === 0 ? 'normal disconnection' : `${reasonName(code)} (0x${code.toString(16)})`}`
        this.flushAcks()
        this.ended(this.lostReason)
        return false
      }
      case PacketType.CONNACK: // v3 is two bytes; v5 has properties (Receive Maximum), decoded by the codec
        if (this.version !== 5 && this.waiter?.cmd === 'connack' && end - body === 2) {
          const waiter = this.waiter
          this.waiter = undefined
          waiter.resolve({code: buf[body + 1]})
        } else {
          this.onControl(buf.subarray(start, end))
        }
        break
      default: this.onControl(buf.subarray(start, end))
    }
    return this.state !== 'closed'
  }

  private onControl(frame: Buffer): void {
    let packet: Packet
    try {
      packet = this.control.decode(frame, this.version)
    } catch (error) {
      return this.protocolError(`malformed packet from the broker: ${(error as Error).message}`)
    }
    const waiter = this.waiter
    if (!waiter || packet.cmd !== waiter.cmd) return
    this.waiter = undefined
    if (packet.cmd === 'connack') {
      waiter.resolve({code: (this.version === 5 ? packet.reasonCode : packet.returnCode) ?? 0, receiveMaximum: packet.properties?.receiveMaximum})
    } else {
      waiter.resolve(packet)
    }
  }

  private protocolError(message: string): void {
    this.ended(`connection lost: ${message}`)
  }

  private queueAck(first: AckByte, id: number): void {
    if (this.ackLength + SHORT_ACK_SIZE > this.acks.length) {
      const bigger = Buffer.allocUnsafe(this.acks.length * 2)
      this.acks.copy(bigger, 0, 0, this.ackLength)
      this.acks = bigger
    }
    this.ackLength = writeShortAck(this.acks, this.ackLength, first, id)
  }

  private flushAcks(): void {
    if (this.ackLength === 0 || this.state === 'closed') return
    this.write(Buffer.from(this.acks.subarray(0, this.ackLength)))
    this.ackLength = 0
  }
}

/** A TCP connection with Nagle off; `onCancel` receives the function that aborts it. */
function tcpConnect(t: TransportTarget, onCancel: (cancel: (reason: string) => void) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({host: t.host, port: t.port, localAddress: t.localAddress, noDelay: t.noDelay})
    const onError = (e: Error) => reject(e)
    socket.once('error', onError)
    socket.once('connect', () => {
      socket.off('error', onError)
      resolve(socket)
    })
    onCancel((reason) => {
      socket.destroy()
      reject(new Error(reason))
    })
  })
}

/** An AbortSignal for openTransport that `onCancel`'s function aborts. */
function abortable(onCancel: (cancel: (reason: string) => void) => void): AbortSignal {
  const controller = new AbortController()
  onCancel((reason) => controller.abort(new Error(reason)))
  return controller.signal
}
