// The load generator's own connection: the transports and CONNECT of src/client (openTransport,
// connectPacket), but a receive path made for load. PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP and
// PINGRESP are read in place from the socket chunk (no packet objects, no copies, no promises);
// acknowledgements for a whole chunk go out in one write. Only the rare control packets (CONNACK,
// SUBACK) go through the codec's decoder.
import type {Duplex} from 'node:stream'
import {connect as netConnect, type Socket} from 'node:net'
import {connectPacket, describeTarget, openTransport, transportTarget, type ClientOptions, type TransportTarget} from '../client/index.js'
import {
  encodePacket, PacketDecoder, reasonName, v3ConnackName,
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
  private carry: Buffer | undefined
  private acks = Buffer.allocUnsafe(4096)
  private ackLength = 0
  private waiter: Waiter | undefined
  private lostReason: string | undefined

  private constructor(readonly stream: Duplex, readonly version: ProtocolVersion, private readonly control: ControlDecoder) {
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
      const c = new BenchConnection(stream, version, control)
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
    if (this.state === 'open' && !this.wrote) this.stream.write(PINGREQ)
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
    if (wasOpen && !this.stream.destroyed) this.stream.end(DISCONNECT)
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
    let buf = chunk
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk])
      this.carry = undefined
    }
    const n = buf.length
    let p = 0
    while (p + 2 <= n) {
      let length = 0
      let multiplier = 1
      let i = p + 1
      let complete = false
      while (i < n) {
        const b = buf[i++]
        length += (b & 0x7f) * multiplier
        if ((b & 0x80) === 0) { complete = true; break }
        if (i - p > 4) return this.protocolError('malformed remaining length')
        multiplier *= 128
      }
      if (!complete) break
      const end = i + length
      if (end > n) break
      const first = buf[p]
      switch (first >> 4) {
        case 3: this.onPublish(first, buf, i, end); break
        case 4: // PUBACK
        case 7: // PUBCOMP
          this.handlers.onAck(buf.readUInt16BE(i), length > 2 ? buf[i + 2] : 0)
          break
        case 5: { // PUBREC
          const id = buf.readUInt16BE(i)
          const code = length > 2 ? buf[i + 2] : 0
          if (code >= 0x80) this.handlers.onAck(id, code)
          else this.queueAck(0x62, id)
          break
        }
        case 6: this.queueAck(0x70, buf.readUInt16BE(i)); break // PUBREL -> PUBCOMP
        case 13: break // PINGRESP
        case 14: { // DISCONNECT
          const code = length > 0 ? buf[i] : 0
          this.lostReason = `disconnected by the broker: ${code === 0 ? 'normal disconnection' : `${reasonName(code)} (0x${code.toString(16)})`}`
          this.flushAcks()
          this.ended(this.lostReason)
          return
        }
        case 2: // CONNACK: v3 is two bytes; v5 has properties (Receive Maximum), decoded by the codec
          if (this.version !== 5 && this.waiter?.cmd === 'connack') {
            const waiter = this.waiter
            this.waiter = undefined
            waiter.resolve({code: buf[i + 1]})
          } else {
            this.onControl(buf.subarray(p, end))
          }
          break
        default: this.onControl(buf.subarray(p, end))
      }
      if (this.state === 'closed') return
      p = end
    }
    if (p < n) this.carry = Buffer.from(buf.subarray(p))
    this.flushAcks()
    this.handlers.onChunk()
  }

  private onPublish(first: number, buf: Buffer, start: number, end: number): void {
    const qos = (first >> 1) & 3
    let pos = start + 2 + buf.readUInt16BE(start)
    let id = 0
    if (qos > 0) {
      id = buf.readUInt16BE(pos)
      pos += 2
    }
    if (this.version === 5) {
      let length = 0
      let multiplier = 1
      let b
      do {
        b = buf[pos++]
        length += (b & 0x7f) * multiplier
        multiplier *= 128
      } while (b & 0x80)
      pos += length
    }
    this.handlers.onPublish(buf, pos, end)
    if (qos === 1) this.queueAck(0x40, id)
    else if (qos === 2) this.queueAck(0x50, id)
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

  private queueAck(first: number, id: number): void {
    if (this.ackLength + 4 > this.acks.length) {
      const bigger = Buffer.allocUnsafe(this.acks.length * 2)
      this.acks.copy(bigger, 0, 0, this.ackLength)
      this.acks = bigger
    }
    const a = this.acks
    const o = this.ackLength
    a[o] = first
    a[o + 1] = 2
    a[o + 2] = id >> 8
    a[o + 3] = id & 0xff
    this.ackLength = o + 4
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

const PINGREQ = Buffer.from([0xc0, 0x00])
const DISCONNECT = Buffer.from([0xe0, 0x00])
