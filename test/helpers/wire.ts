import {setTimeout as sleep} from 'node:timers/promises'
import type {Duplex} from 'node:stream'
import type {Broker} from '../../src/broker/broker.js'
import {
  encodePacket, PacketDecoder, type ConnackPacket, type ConnectPacket, type Packet, type ProtocolVersion,
} from '../../src/codec/index.js'
import {duplexPair} from './duplex-pair.js'

type ByCmd<C extends Packet['cmd']> = Extract<Packet, {cmd: C}>

/**
 * A raw MQTT peer on an in-memory stream to a broker (modelled on aedes' test helper): send packets
 * or bytes, expect packets, expect nothing, expect the broker to close.
 */
export class Wire {
  readonly stream: Duplex
  private readonly decoder: PacketDecoder
  private readonly queue: Packet[] = []
  private waiters: Array<() => void> = []
  isClosed = false

  constructor(broker: Broker, public version: ProtocolVersion = 4) {
    const [client, server] = duplexPair()
    this.stream = client
    this.decoder = new PacketDecoder({maxPacketSize: 268_435_460, protocolVersion: version})
    client.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk, (p) => this.queue.push(p))
      this.wake()
    })
    client.on('close', () => { this.isClosed = true; this.wake() })
    client.on('end', () => { this.isClosed = true; this.wake() })
    client.on('error', () => undefined)
    broker.handle(server, 'test')
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
  async next(ms = 2000): Promise<Packet> {
    const deadline = Date.now() + ms
    while (this.queue.length === 0) {
      const left = deadline - Date.now()
      if (left <= 0 || this.isClosed) throw new Error(this.isClosed ? 'connection closed while waiting for a packet' : 'no packet within timeout')
      await this.changed(left)
    }
    return this.queue.shift()!
  }

  /** The next packet, which must be of the given type. */
  async expect<C extends Packet['cmd']>(cmd: C, ms = 2000): Promise<ByCmd<C>> {
    const p = await this.next(ms)
    if (p.cmd !== cmd) throw new Error(`expected ${cmd}, got ${JSON.stringify(p)}`)
    return p as ByCmd<C>
  }

  /** Asserts that no packet arrives within ms. */
  async nothing(ms = 100): Promise<void> {
    await sleep(ms)
    if (this.queue.length > 0) throw new Error(`expected no packet, got ${JSON.stringify(this.queue[0])}`)
  }

  /** Resolves when the broker closes the connection (fails after ms). */
  async closed(ms = 2000): Promise<void> {
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
}

/** Both protocol versions every scenario runs for. */
export const VERSIONS: ProtocolVersion[] = [4, 5]

export function connackCode(p: ConnackPacket): number {
  return p.reasonCode ?? p.returnCode ?? -1
}
