import type {Duplex} from 'node:stream'
import {
  MqttError, PacketDecoder, ProtocolError, ReasonCode, reasonName,
  type ConnackPacket, type ConnectPacket, type DisconnectPacket, type Packet, type ProtocolVersion,
  type PublishProperties, type QoS, type SubackPacket, type SubscribePacket, type UnsubackPacket,
} from '../codec/index.js'
import {ClientClosedError, ConnectionLostError} from './errors.js'
import {BACKLOG_LIMIT, Inbox} from './inbox.js'
import {IncomingFlows} from './incoming.js'
import {InflightWindow, type PublishAck} from './inflight.js'
import {Keepalive} from './keepalive.js'
import type {PacketTrace} from './options.js'
import {OutgoingFlows} from './outgoing.js'
import {PacketWriter} from './packet-writer.js'
import type {DisconnectOptions, Message, PublishOptions, SubscribeRequest, SubscribeResult} from './types.js'

type State = 'connecting' | 'connected' | 'closing' | 'closed'

/**
 * One MQTT connection over any duplex stream. Created by connect() (see connect.ts); this class is the
 * connected state: it reads packets and hands them to the flows they belong to (our publishes in
 * outgoing.ts, the broker's in incoming.ts, subscriptions here), and owns the lifecycle: CONNACK,
 * keepalive, and a clean or lost end.
 */
export class MqttClient {
  /** Resolves when the connection is over: undefined after disconnect(), else why it was lost. Never rejects. */
  readonly closed: Promise<Error | undefined>
  connack!: ConnackPacket
  clientId: string

  private state: State = 'connecting'
  private readonly decoder: PacketDecoder
  private readonly window: InflightWindow
  private readonly writer: PacketWriter
  private readonly keepalive: Keepalive
  private readonly inbox: Inbox
  private readonly incoming: IncomingFlows
  private readonly outgoing: OutgoingFlows
  private onConnack: ((packet: ConnackPacket | Error) => void) | undefined
  private resolveClosed!: (error: Error | undefined) => void
  private readonly trace: PacketTrace | undefined

  constructor(private readonly stream: Duplex, readonly protocolVersion: ProtocolVersion,
    options: {clientId: string; maxInflight: number; maxPacketSize: number; trace?: PacketTrace; manualAck?: boolean}) {
    this.clientId = options.clientId
    this.trace = options.trace
    this.writer = new PacketWriter(stream, protocolVersion, options.trace)
    this.keepalive = new Keepalive(this.writer, (error) => this.lose(error))
    this.window = new InflightWindow(options.maxInflight)
    this.inbox = new Inbox(stream)
    this.incoming = new IncomingFlows(this.writer, protocolVersion, (message) => this.inbox.deliver(message), options.manualAck)
    this.outgoing = new OutgoingFlows(this.writer, this.window, protocolVersion, () => this.state === 'connected')
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

  /** Lowers the largest packet we send (the broker's Maximum Packet Size from CONNACK still applies). */
  limitOutgoingPacketSize(bytes: number): void {
    if (bytes > 0 && bytes < this.outgoing.maxPacketSize) this.outgoing.maxPacketSize = bytes
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
      this.writer.send(connect)
    })
  }

  private accept(connack: ConnackPacket, keepalive: number): void {
    this.connack = connack
    this.state = 'connected'
    const p = connack.properties
    if (p?.assignedClientIdentifier) this.clientId = p.assignedClientIdentifier
    if (p?.receiveMaximum) this.window.limit = Math.min(this.window.limit, p.receiveMaximum)
    if (p?.maximumPacketSize) this.outgoing.maxPacketSize = p.maximumPacketSize
    if (p?.maximumQoS !== undefined) this.outgoing.maxQoS = p.maximumQoS as QoS
    this.keepalive.start(p?.serverKeepAlive ?? keepalive)
  }

  /**
   * Publishes at any QoS; resolves with the broker's ack (QoS 0: at once with success). Waits for a
   * window slot when QoS 1/2 publishes fill it. A refusal (reasonCode >= 0x80) resolves; a lost
   * connection rejects with ConnectionLostError.
   */
  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): Promise<PublishAck> {
    return this.outgoing.publish(topic, payload, options)
  }

  /**
   * The hot path for QoS 0: encodes and writes at once, no promise. Returns false when the socket's
   * buffer is full (await drained() before writing more).
   */
  publishQoS0(topic: string, payload: Buffer, options: {retain?: boolean; properties?: PublishProperties} = {}): boolean {
    return this.outgoing.publishQoS0(topic, payload, options)
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

  /**
   * With the manualAck option: acknowledges a received QoS 1/2 message (PUBACK, or PUBREC) once the
   * caller is done with it. Nothing is sent when the connection it came on is over.
   */
  ack(message: Message): void {
    if (this.state === 'connected' || this.state === 'closing') this.incoming.ack(message)
  }

  /** Delivers every message to `handler` (synchronously, in order), starting with any that arrived before. */
  onMessage(handler: (message: Message) => void): void {
    this.inbox.onMessage(handler)
  }

  /** The messages as an async iterator; it ends after disconnect() and throws ConnectionLostError on loss. */
  messages(highWater = BACKLOG_LIMIT): AsyncIterableIterator<Message> {
    return this.inbox.messages(highWater, this.state === 'closed' ? this.closed : undefined)
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
    this.keepalive.stop()
    if (this.incoming.waiting) {
      await this.incoming.drained(1000)
      if (this.state !== 'closing') return
    }
    const packet: DisconnectPacket = {cmd: 'disconnect'}
    if (this.protocolVersion === 5) {
      packet.reasonCode = options.reasonCode ?? ReasonCode.Success
      packet.properties = options.properties
    }
    this.writer.end(packet)
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
        this.writer.send({cmd: 'disconnect', reasonCode: error.reasonCode})
      }
      this.lose(error instanceof MqttError ? new ConnectionLostError(`protocol error from the broker: ${e.message}`, error.reasonCode, {cause: e}) : e)
    }
  }

  private readonly onPacket = (packet: Packet) => {
    this.keepalive.heard()
    this.trace?.('in', packet)
    if (this.state === 'connecting') {
      if (packet.cmd !== 'connack') throw new ProtocolError(`expected CONNACK, got ${packet.cmd.toUpperCase()}`)
      this.onConnack?.(packet)
      return
    }
    switch (packet.cmd) {
      case 'publish': return this.incoming.onPublish(packet as Message)
      case 'puback': return this.outgoing.onPuback(packet.messageId!, packet.reasonCode, packet.properties?.reasonString)
      case 'pubrec': return this.outgoing.onPubrec(packet.messageId!, packet.reasonCode ?? 0, packet.properties?.reasonString)
      case 'pubcomp': return this.outgoing.onPubcomp(packet.messageId!, packet.reasonCode ?? 0, packet.properties?.reasonString)
      case 'pubrel': return this.incoming.onPubrel(packet.messageId!)
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

  // ---- outbound ----

  private request(cmd: 'subscribe' | 'unsubscribe', build: (messageId: number) => Packet): Promise<SubackPacket | UnsubackPacket> {
    if (this.state !== 'connected') return Promise.reject(new ClientClosedError())
    return new Promise((resolve, reject) => {
      const id = this.window.addRequest({cmd, resolve, reject})
      try {
        this.writer.send(build(id))
      } catch (error) {
        this.window.takeRequest(id)
        reject(error)
      }
    })
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
    this.keepalive.stop()
    this.decoder.stop()
    this.stream.destroy()
    this.window.failAll(error ?? new ClientClosedError())
    this.inbox.end(error)
    this.resolveClosed(error)
  }
}

function reasonWords(code: number): string {
  return code === ReasonCode.Success ? 'normal disconnection' : reasonName(code)
}
