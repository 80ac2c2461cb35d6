import type {TestContext} from 'node:test'
import {createBroker, type Broker} from '../../src/broker/broker.js'
import type {ConnectionContext} from '../../src/broker/connection.js'
import type {BrokerOptions} from '../../src/broker/options.js'
import {
  encodePacket, PacketDecoder, type ConnackPacket, type ConnectPacket, type Packet, type ProtocolVersion,
  type PublishPacket, type QoS, type SubackPacket, type Subscription, type UnsubackPacket,
} from '../../src/codec/index.js'
import {duplexPair, type Side} from './duplex-pair.js'
import {varint} from './varint.js'

/**
 * How long next/expect/closed wait by default before failing. It only decides how soon a broken test
 * fails, never whether a passing one passes, so it is generous: a loaded CI machine can stall for seconds.
 */
const WAIT_MS = 15_000

type ByCmd<C extends Packet['cmd']> = Extract<Packet, {cmd: C}>

/**
 * A raw MQTT peer on an in-memory stream to a broker (modelled on aedes' test helper): send packets
 * or bytes, expect packets, expect nothing, expect the broker to close.
 */
export class Wire {
  readonly stream: Side
  /** The broker's end of the stream. */
  readonly server: Side
  /** Chunks received from the broker (one per batched write). */
  chunks = 0
  private readonly decoder: PacketDecoder
  private readonly queue: Packet[] = []
  private waiters: Array<() => void> = []
  isClosed = false

  /**
   * `remoteAddress`: the address the broker sees (host:port), e.g. to tell clients' addresses apart;
   * `context`: what a listener would tell the engine (its link, a certificate's user name).
   */
  constructor(broker: Broker, public version: ProtocolVersion = 4, remoteAddress = 'test', context?: ConnectionContext) {
    const [client, server] = duplexPair()
    this.stream = client
    this.server = server
    this.decoder = new PacketDecoder({maxPacketSize: 268_435_460, protocolVersion: version})
    client.on('data', (chunk: Buffer) => {
      this.chunks++
      this.decoder.push(chunk, (p) => this.queue.push(p))
      this.wake()
    })
    client.on('close', () => { this.isClosed = true; this.wake() })
    client.on('end', () => { this.isClosed = true; this.wake() })
    client.on('error', () => undefined)
    broker.handle(server, remoteAddress, context)
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms)
      this.waiters.push(() => { clearTimeout(t); resolve() })
    })
  }

  send(packet: Packet): void {
    this.stream.write(encodePacket(packet, this.version))
  }

  sendRaw(bytes: Buffer | string): void {
    this.stream.write(typeof bytes === 'string' ? Buffer.from(bytes.replace(/\s+/g, ''), 'hex') : bytes)
  }

  /** The next packet from the broker (fails after ms). */
  async next(ms = WAIT_MS): Promise<Packet> {
    const deadline = Date.now() + ms
    while (this.queue.length === 0) {
      const left = deadline - Date.now()
      if (left <= 0 || this.isClosed) throw new Error(this.isClosed ? 'connection closed while waiting for a packet' : 'no packet within timeout')
      await this.changed(left)
    }
    return this.queue.shift()!
  }

  /** The next packet, which must be of the given type. */
  async expect<C extends Packet['cmd']>(cmd: C, ms = WAIT_MS): Promise<ByCmd<C>> {
    const p = await this.next(ms)
    if (p.cmd !== cmd) throw new Error(`expected ${cmd}, got ${JSON.stringify(p)}`)
    return p as ByCmd<C>
  }

  /** The next n packets, in arrival order (for answers whose relative order the spec leaves open). */
  async take(n: number): Promise<Packet[]> {
    const out: Packet[] = []
    for (let i = 0; i < n; i++) out.push(await this.next())
    return out
  }

  /** Resolves when the broker closes the connection (fails after ms). */
  async closed(ms = WAIT_MS): Promise<void> {
    const deadline = Date.now() + ms
    while (!this.isClosed) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('connection still open')
      await this.changed(left)
    }
  }

  /** Packets that arrived and were not consumed yet. */
  get buffered(): Packet[] { return this.queue }

  /** Sends CONNECT and returns the CONNACK. */
  async connect(fields: Partial<ConnectPacket> = {}): Promise<ConnackPacket> {
    this.send({cmd: 'connect', protocolId: this.version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: this.version,
      clientId: 'c1', clean: true, keepalive: 0, ...fields})
    return this.expect('connack')
  }

  end(): void { this.stream.end() }

  /** Stops reading (a slow reader): the broker's writes back up. */
  pause(): void { this.stream.pause() }

  resume(): void { this.stream.resume() }

  /** Sends a PUBLISH (QoS > 0 needs messageId in extra, else 1). */
  publish(topic: string, payload: string | Buffer, qos: QoS = 0, extra: Partial<PublishPacket> = {}): void {
    this.send({cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos,
      retain: false, dup: false, ...(qos > 0 ? {messageId: 1} : {}), ...extra} as PublishPacket)
  }

  /** Subscribes and returns the SUBACK. */
  async subscribe(filters: string | Array<string | Subscription>, qos: QoS = 0, extra: Record<string, unknown> = {}): Promise<SubackPacket> {
    const list = (Array.isArray(filters) ? filters : [filters]).map((f) => typeof f === 'string' ? {topic: f, qos} : f)
    this.send({cmd: 'subscribe', messageId: 1, subscriptions: list, ...extra})
    return this.expect('suback')
  }

  async unsubscribe(filters: string | string[], extra: Record<string, unknown> = {}): Promise<UnsubackPacket> {
    this.send({cmd: 'unsubscribe', messageId: 1, unsubscriptions: Array.isArray(filters) ? filters : [filters], ...extra})
    return this.expect('unsuback')
  }

  /**
   * A PINGREQ round trip that must come back with nothing before it: the broker handles one
   * connection's packets in order and writes in order, so this proves nothing else was sent in answer
   * to what came before (and, for another connection's packets already answered, nothing was routed
   * here). No sleeping, no timing.
   */
  async quiet(): Promise<void> {
    this.send({cmd: 'pingreq'})
    const p = await this.next()
    if (p.cmd !== 'pingresp') throw new Error(`expected nothing, got ${JSON.stringify(p)}`)
  }

  /** Answers a QoS 1/2 delivery through to its end (PUBACK, or PUBREC then PUBCOMP after PUBREL). */
  async ack(p: PublishPacket): Promise<void> {
    if (p.qos === 1) this.send({cmd: 'puback', messageId: p.messageId})
    if (p.qos === 2) {
      this.send({cmd: 'pubrec', messageId: p.messageId})
      const rel = await this.expect('pubrel')
      if (rel.messageId !== p.messageId) throw new Error(`PUBREL for ${rel.messageId}, expected ${p.messageId}`)
      this.send({cmd: 'pubcomp', messageId: p.messageId})
    }
  }
}

/** Both protocol versions every scenario runs for. */
export const VERSIONS: ProtocolVersion[] = [4, 5]

/** Every version, for CONNECT scenarios. */
export const ALL_VERSIONS: ProtocolVersion[] = [3, 4, 5]

export function versionName(v: ProtocolVersion): string {
  return v === 3 ? 'v3.1' : v === 4 ? 'v3.1.1' : 'v5'
}

export function connackCode(p: ConnackPacket): number {
  return p.reasonCode ?? p.returnCode ?? -1
}

/** A broker closed when the test ends. */
export function startBroker(t: TestContext, options: Partial<BrokerOptions> = {}): Broker {
  const broker = createBroker(options)
  t.after(() => broker.close())
  return broker
}

/** Hex (whitespace ignored) to bytes. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex')
}

/** A frame with the given first byte around body bytes (remaining length encoded for you). */
export function frame(first: number, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? hex(body) : body
  return Buffer.concat([Buffer.from([first]), varint(b.length), b])
}

/** An MQTT UTF-8 string field: two length bytes, then the bytes. */
export function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s
  const out = Buffer.alloc(2 + b.length)
  out.writeUInt16BE(b.length)
  b.copy(out, 2)
  return out
}

/** A raw CONNECT frame (for the cases an encoder will not produce). */
export function rawConnect(o: {name?: string; level: number; flags?: number; keepalive?: number; properties?: Buffer; payload: Buffer[]}): Buffer {
  const keepalive = Buffer.alloc(2)
  keepalive.writeUInt16BE(o.keepalive ?? 0)
  return frame(0x10, Buffer.concat([str(o.name ?? (o.level === 3 ? 'MQIsdp' : 'MQTT')), Buffer.from([o.level, o.flags ?? 0x02]), keepalive,
    ...(o.properties ? [o.properties] : []), ...o.payload]))
}
