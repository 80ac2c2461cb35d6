import type {Duplex} from 'node:stream'
import {
  encodePacket, encodePublish, MqttError, PacketDecoder, ProtocolError, ReasonCode, reasonName,
  type ConnackPacket, type ConnectPacket, type DisconnectPacket, type Packet, type ProtocolVersion, type PublishPacket,
  type PublishProperties, type QoS, type SubackPacket, type SubscribePacket, type UnsubackPacket,
} from '../codec/index.js'
import {ClientClosedError, ConnectionLostError} from './errors.js'
import {InflightWindow, type PublishAck} from './inflight.js'
import {MessageQueue} from './message-queue.js'
import type {PacketTrace} from './options.js'

/** A received PUBLISH (topic aliases already resolved; the payload is a Buffer the caller may keep). */
export type Message = PublishPacket & {payload: Buffer}

export interface PublishOptions {
  qos?: QoS
  retain?: boolean
  properties?: PublishProperties
}

export interface SubscribeRequest {
  topic: string
  qos?: QoS
  /** v5 No Local. */
  nl?: boolean
  /** v5 Retain As Published. */
  rap?: boolean
  /** v5 Retain Handling: 0 send retained, 1 only for new subscriptions, 2 never. */
  rh?: 0 | 1 | 2
}

export interface SubscribeResult {
  /** One code per filter, in order: the granted QoS (0-2) or a failure (>= 0x80; 0x80 on v3). */
  granted: number[]
  reasonString?: string
}

export interface DisconnectOptions {
  reasonCode?: number
  properties?: DisconnectPacket['properties']
}

type State = 'connecting' | 'connected' | 'closing' | 'closed'

const SUCCESS: PublishAck = Object.freeze({reasonCode: ReasonCode.Success})
const BACKLOG_LIMIT = 1000

/**
 * One MQTT connection over any duplex stream. Created by connect() (see connect.ts); this class is the
 * connected state: publishing with an inflight window, acks looked up by packet id, subscriptions,
 * inbound QoS 1/2 flows, keepalive and a clean or lost end.
 */
export class MqttClient {
  /** Resolves when the connection is over: undefined after disconnect(), else why it was lost. Never rejects. */
  readonly closed: Promise<Error | undefined>
  connack!: ConnackPacket
  clientId: string

  private state: State = 'connecting'
  private readonly decoder: PacketDecoder
  private readonly window: InflightWindow
  private readonly qos2Incoming = new Set<number>()
  private readonly aliases = new Map<number, string>()
  private handler: ((message: Message) => void) | undefined
  private queue: MessageQueue<Message> | undefined
  private backlog: Message[] = []
  private corked = false
  private sentSinceTick = false
  private unansweredTicks = 0
  private keepaliveTimer: NodeJS.Timeout | undefined
  private maxOutgoingPacket = Number.POSITIVE_INFINITY
  private maxQoS: QoS = 2
  private onConnack: ((packet: ConnackPacket | Error) => void) | undefined
  private onQoS2Drained: (() => void) | undefined
  private disconnectSent = false
  private resolveClosed!: (error: Error | undefined) => void

  private readonly trace: PacketTrace | undefined
  private readonly traceDecoder: PacketDecoder | undefined

  constructor(private readonly stream: Duplex, readonly protocolVersion: ProtocolVersion,
    options: {clientId: string; maxInflight: number; maxPacketSize: number; trace?: PacketTrace}) {
    this.clientId = options.clientId
    this.trace = options.trace
    if (this.trace) this.traceDecoder = new PacketDecoder({maxPacketSize: Number.MAX_SAFE_INTEGER, protocolVersion})
    this.window = new InflightWindow(options.maxInflight)
    this.decoder = new PacketDecoder({maxPacketSize: options.maxPacketSize, protocolVersion})
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve })
    stream.on('data', this.onData)
    stream.on('error', (e: Error) => {
      if (this.state === 'closing') this.finish(undefined) // a reset after our DISCONNECT is the end we asked for
      else this.lose(new ConnectionLostError(`connection lost: ${e.message}`, undefined, {cause: e}))
    })
    stream.on('close', () => this.onStreamClose())
    stream.on('end', () => this.onStreamClose())
  }

  /** Packets in flight (QoS 1/2 publishes awaiting acks). */
  get inflight(): number { return this.window.size }
  /** How many QoS 1/2 publishes may be in flight at once (ours and the broker's Receive Maximum). */
  get inflightLimit(): number { return this.window.limit }
  get connected(): boolean { return this.state === 'connected' }

  /**
   * Sends CONNECT and waits for CONNACK (used by connect()). Resolves with the CONNACK, refused or not;
   * an accepted one switches to the connected state at once, so packets right behind it are handled.
   */
  handshake(connect: ConnectPacket, signal?: AbortSignal): Promise<ConnackPacket> {
    return new Promise((resolve, reject) => {
      const onAbort = () => settle(signal?.reason instanceof Error ? signal.reason : new Error('aborted'))
      const settle = (result: ConnackPacket | Error) => {
        this.onConnack = undefined
        signal?.removeEventListener('abort', onAbort)
        if (result instanceof Error) return reject(result)
        const code = (this.protocolVersion === 5 ? result.reasonCode : result.returnCode) ?? 0
        if (code === ReasonCode.Success) this.accept(result, connect.keepalive ?? 0)
        resolve(result)
      }
      this.onConnack = settle
      signal?.addEventListener('abort', onAbort, {once: true})
      this.write(encodePacket(connect, this.protocolVersion))
    })
  }

  private accept(connack: ConnackPacket, keepalive: number): void {
    this.connack = connack
    this.state = 'connected'
    const p = connack.properties
    if (p?.assignedClientIdentifier) this.clientId = p.assignedClientIdentifier
    if (p?.receiveMaximum) this.window.limit = Math.min(this.window.limit, p.receiveMaximum)
    if (p?.maximumPacketSize) this.maxOutgoingPacket = p.maximumPacketSize
    if (p?.maximumQoS !== undefined) this.maxQoS = p.maximumQoS as QoS
    const seconds = p?.serverKeepAlive ?? keepalive
    if (seconds > 0) {
      this.keepaliveTimer = setInterval(this.tick, seconds * 500)
      this.keepaliveTimer.unref()
    }
  }

  /**
   * Publishes at any QoS; resolves with the broker's ack (QoS 0: at once with success). Waits for a
   * window slot when QoS 1/2 publishes fill it. A refusal (reasonCode >= 0x80) resolves; a lost
   * connection rejects with ConnectionLostError.
   */
  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): Promise<PublishAck> {
    const qos = options.qos ?? 0
    if (this.state !== 'connected') return Promise.reject(new ClientClosedError())
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload
    if (qos === 0) {
      try {
        this.publishQoS0(topic, bytes, options)
      } catch (error) {
        return Promise.reject(error)
      }
      return Promise.resolve(SUCCESS)
    }
    const wait = this.window.acquire()
    if (wait) return wait.then(() => this.sendAcked(topic, bytes, qos, options))
    return this.sendAcked(topic, bytes, qos, options)
  }

  /**
   * The hot path for QoS 0: encodes and writes at once, no promise. Returns false when the socket's
   * buffer is full (await drained() before writing more).
   */
  publishQoS0(topic: string, payload: Buffer, options: {retain?: boolean; properties?: PublishProperties} = {}): boolean {
    if (this.state !== 'connected') throw new ClientClosedError()
    const encoded = encodePublish({topic, payload, qos: 0, retain: options.retain ?? false, properties: options.properties}, this.protocolVersion)
    this.checkSize(encoded.bytes.length)
    return this.write(encoded.bytes)
  }

  /** Resolves when the socket's write buffer has room again (or the connection is over). */
  drained(): Promise<void> {
    if (!this.stream.writableNeedDrain || this.state === 'closed') return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => { this.stream.off('drain', done); this.stream.off('close', done); resolve() }
      this.stream.on('drain', done)
      this.stream.on('close', done)
    })
  }

  subscribe(requests: SubscribeRequest[], options: {properties?: SubscribePacket['properties']} = {}): Promise<SubscribeResult> {
    const v5 = this.protocolVersion === 5
    const subscriptions = requests.map((r) => v5
      ? {topic: r.topic, qos: r.qos ?? 0, nl: r.nl ?? false, rap: r.rap ?? false, rh: r.rh ?? 0}
      : {topic: r.topic, qos: r.qos ?? 0})
    return this.request('subscribe', (messageId) => ({cmd: 'subscribe', messageId, subscriptions, properties: v5 ? options.properties : undefined}))
      .then((p) => {
        const suback = p as SubackPacket
        return {granted: suback.granted as number[], reasonString: suback.properties?.reasonString}
      })
  }

  /** Resolves with one reason code per filter (v3: all success, since UNSUBACK carries none). */
  unsubscribe(topics: string[], options: {properties?: {userProperties?: Record<string, string | string[]>}} = {}): Promise<number[]> {
    const v5 = this.protocolVersion === 5
    return this.request('unsubscribe', (messageId) => ({cmd: 'unsubscribe', messageId, unsubscriptions: topics, properties: v5 ? options.properties : undefined}))
      .then((p) => {
        const granted = (p as UnsubackPacket).granted
        return v5 && granted?.length ? granted : topics.map(() => ReasonCode.Success)
      })
  }

  /** Delivers every message to `handler` (synchronously, in order), starting with any that arrived before. */
  onMessage(handler: (message: Message) => void): void {
    this.handler = handler
    const backlog = this.backlog
    this.backlog = []
    for (const m of backlog) handler(m)
    this.stream.resume()
  }

  /** The messages as an async iterator; it ends after disconnect() and throws ConnectionLostError on loss. */
  messages(highWater = BACKLOG_LIMIT): AsyncIterableIterator<Message> {
    const queue = new MessageQueue<Message>(highWater, (paused) => paused ? this.stream.pause() : this.stream.resume())
    this.queue = queue
    const backlog = this.backlog
    this.backlog = []
    for (const m of backlog) queue.push(m)
    this.stream.resume()
    if (this.state === 'closed') void this.closed.then((e) => queue.end(e))
    return queue
  }

  /**
   * Sends DISCONNECT (v5: with a reason code and properties) and waits for the stream to close. Inbound
   * QoS 2 flows still waiting for PUBREL get a moment to finish first, so the broker is not left with them.
   */
  async disconnect(options: DisconnectOptions = {}): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') {
      await this.closed
      return
    }
    this.state = 'closing'
    clearInterval(this.keepaliveTimer)
    if (this.qos2Incoming.size > 0) {
      await new Promise<void>((resolve) => {
        this.onQoS2Drained = resolve
        setTimeout(resolve, 1000).unref()
      })
      this.onQoS2Drained = undefined
      if (this.state !== 'closing') return
    }
    const packet: DisconnectPacket = {cmd: 'disconnect'}
    if (this.protocolVersion === 5) {
      packet.reasonCode = options.reasonCode ?? ReasonCode.Success
      packet.properties = options.properties
    }
    this.write(encodePacket(packet, this.protocolVersion))
    this.disconnectSent = true // [MQTT-3.14.4-1] nothing may follow DISCONNECT
    this.stream.end()
    const timer = setTimeout(() => this.stream.destroy(), 2000)
    timer.unref()
    await this.closed
    clearTimeout(timer)
  }

  /** Drops the connection at once, without DISCONNECT (the broker then publishes the will). */
  destroy(): void {
    this.finish(undefined)
  }

  // ---- inbound ----

  private readonly onData = (chunk: Buffer) => {
    try {
      this.decoder.push(chunk, this.onPacket)
    } catch (error) {
      const e = error as Error
      if (error instanceof MqttError && this.state === 'connected' && this.protocolVersion === 5) {
        this.write(encodePacket({cmd: 'disconnect', reasonCode: error.reasonCode}, 5))
      }
      this.lose(error instanceof MqttError ? new ConnectionLostError(`protocol error from the broker: ${e.message}`, error.reasonCode, {cause: e}) : e)
    }
  }

  private readonly onPacket = (packet: Packet) => {
    this.unansweredTicks = 0
    this.trace?.('in', packet)
    if (this.state === 'connecting') {
      if (packet.cmd !== 'connack') throw new ProtocolError(`expected CONNACK, got ${packet.cmd.toUpperCase()}`)
      this.onConnack?.(packet)
      return
    }
    switch (packet.cmd) {
      case 'publish': return this.onPublish(packet as Message)
      case 'puback': return this.window.settle(packet.messageId!, ack(packet.reasonCode, packet.properties?.reasonString))
      case 'pubrec': return this.onPubrec(packet.messageId!, packet.reasonCode ?? 0, packet.properties?.reasonString)
      case 'pubcomp': return this.onPubcomp(packet.messageId!, packet.reasonCode ?? 0, packet.properties?.reasonString)
      case 'pubrel': {
        const known = this.qos2Incoming.delete(packet.messageId!)
        const reasonCode = known || this.protocolVersion < 5 ? undefined : ReasonCode.PacketIdentifierNotFound
        this.write(encodePacket({cmd: 'pubcomp', messageId: packet.messageId, reasonCode}, this.protocolVersion))
        if (this.qos2Incoming.size === 0) this.onQoS2Drained?.()
        return
      }
      case 'suback':
      case 'unsuback': {
        const request = this.window.takeRequest(packet.messageId!)
        if (!request || request.cmd !== packet.cmd.replace('ack', 'scribe')) throw new ProtocolError(`${packet.cmd.toUpperCase()} for unknown packet id ${packet.messageId}`)
        return request.resolve(packet)
      }
      case 'pingresp': return
      case 'disconnect': {
        const reason = packet.properties?.reasonString
        const code = packet.reasonCode ?? ReasonCode.Success
        const words = reasonWords(code)
        return this.lose(new ConnectionLostError(`disconnected by the broker: ${words}${reason && reason !== words ? ` (${reason})` : ''}`, code))
      }
      default: throw new ProtocolError(`unexpected ${packet.cmd.toUpperCase()} from the broker`)
    }
  }

  private onPublish(message: Message): void {
    const alias = message.properties?.topicAlias
    if (alias !== undefined) {
      if (message.topic) this.aliases.set(alias, message.topic)
      else {
        const topic = this.aliases.get(alias)
        if (topic === undefined) throw new MqttError(ReasonCode.TopicAliasInvalid, `unknown topic alias ${alias}`)
        message.topic = topic
      }
    }
    if (message.qos === 2) {
      const id = message.messageId!
      if (!this.qos2Incoming.has(id)) {
        this.qos2Incoming.add(id)
        this.deliver(message)
      }
      this.write(encodePacket({cmd: 'pubrec', messageId: id}, this.protocolVersion))
      return
    }
    this.deliver(message)
    if (message.qos === 1) this.write(encodePacket({cmd: 'puback', messageId: message.messageId}, this.protocolVersion))
  }

  private deliver(message: Message): void {
    if (this.handler) this.handler(message)
    else if (this.queue) this.queue.push(message)
    else if (this.backlog.push(message) === BACKLOG_LIMIT) this.stream.pause()
  }

  private onPubrec(id: number, reasonCode: number, reasonString?: string): void {
    const entry = this.window.get(id)
    if (!entry || entry.qos !== 2) {
      const code = this.protocolVersion === 5 ? ReasonCode.PacketIdentifierNotFound : undefined
      this.write(encodePacket({cmd: 'pubrel', messageId: id, reasonCode: code}, this.protocolVersion))
      return
    }
    if (reasonCode >= ReasonCode.UnspecifiedError) return this.window.settle(id, ack(reasonCode, reasonString))
    entry.ack = ack(reasonCode, reasonString)
    entry.released = true
    this.write(encodePacket({cmd: 'pubrel', messageId: id}, this.protocolVersion))
  }

  private onPubcomp(id: number, reasonCode: number, reasonString?: string): void {
    const entry = this.window.get(id)
    if (!entry?.released) throw new ProtocolError(`PUBCOMP for unknown packet id ${id}`)
    this.window.settle(id, reasonCode >= ReasonCode.UnspecifiedError ? ack(reasonCode, reasonString) : entry.ack ?? SUCCESS)
  }

  // ---- outbound ----

  private sendAcked(topic: string, payload: Buffer, qos: 1 | 2, options: PublishOptions): Promise<PublishAck> {
    if (this.state !== 'connected') return Promise.reject(new ClientClosedError())
    if (qos > this.maxQoS) {
      this.window.release()
      return Promise.reject(new MqttError(ReasonCode.QoSNotSupported, `the broker accepts QoS up to ${this.maxQoS}`))
    }
    let encoded
    try {
      encoded = encodePublish({topic, payload, qos, retain: options.retain ?? false, properties: options.properties}, this.protocolVersion)
      this.checkSize(encoded.bytes.length)
    } catch (error) {
      this.window.release()
      return Promise.reject(error)
    }
    const {bytes, packetIdOffset} = encoded
    return new Promise((resolve, reject) => {
      const id = this.window.add({qos, released: false, resolve, reject})
      bytes.writeUInt16BE(id, packetIdOffset)
      this.write(bytes)
    })
  }

  private request(cmd: 'subscribe' | 'unsubscribe', build: (messageId: number) => Packet): Promise<SubackPacket | UnsubackPacket> {
    if (this.state !== 'connected') return Promise.reject(new ClientClosedError())
    return new Promise((resolve, reject) => {
      const id = this.window.addRequest({cmd, resolve, reject})
      try {
        this.write(encodePacket(build(id), this.protocolVersion))
      } catch (error) {
        this.window.takeRequest(id)
        reject(error)
      }
    })
  }

  private checkSize(size: number): void {
    if (size > this.maxOutgoingPacket) throw new MqttError(ReasonCode.PacketTooLarge, `packet of ${size} bytes exceeds the broker's maximum of ${this.maxOutgoingPacket}`)
  }

  /** Writes are corked and flushed once per event-loop turn, so a burst of publishes is one syscall. */
  private write(bytes: Buffer): boolean {
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

  private readonly uncork = () => {
    this.corked = false
    this.stream.uncork()
  }

  /** Runs every half keepalive: pings when idle; two ticks with no answer means the link is dead. */
  private readonly tick = () => {
    if (this.unansweredTicks >= 2) {
      this.lose(new ConnectionLostError('connection lost: no answer to PINGREQ within the keepalive'))
      return
    }
    if (this.unansweredTicks > 0 || !this.sentSinceTick) {
      if (this.unansweredTicks === 0) this.write(encodePacket({cmd: 'pingreq'}, this.protocolVersion))
      this.unansweredTicks++
    }
    this.sentSinceTick = false
  }

  // ---- the end ----

  private onStreamClose(): void {
    if (this.state === 'closing') this.finish(undefined)
    else this.lose(new ConnectionLostError(this.state === 'connecting' ? 'connection closed before CONNACK' : 'connection closed by the broker'))
  }

  private lose(error: Error): void {
    if (this.state === 'closed') return
    this.onConnack?.(error)
    this.finish(error)
  }

  private finish(error: Error | undefined): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    clearInterval(this.keepaliveTimer)
    this.decoder.stop()
    this.stream.destroy()
    this.window.failAll(error ?? new ClientClosedError())
    this.queue?.end(error)
    this.resolveClosed(error)
  }
}

function ack(reasonCode: number | undefined, reasonString: string | undefined): PublishAck {
  if (!reasonCode && !reasonString) return SUCCESS
  return reasonString ? {reasonCode: reasonCode ?? 0, reasonString} : {reasonCode: reasonCode ?? 0}
}

function reasonWords(code: number): string {
  return code === ReasonCode.Success ? 'normal disconnection' : reasonName(code)
}
