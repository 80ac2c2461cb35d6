import {PacketIdAllocator, ProtocolError, type SubackPacket, type UnsubackPacket} from '../codec/index.js'

/** What a QoS 1/2 publish resolves with: the broker's reason code (PUBACK, or PUBREC/PUBCOMP for QoS 2). */
export interface PublishAck {
  reasonCode: number
  reasonString?: string
}

/** A SUBSCRIBE or UNSUBSCRIBE awaiting its ack. */
export interface Request {
  cmd: 'subscribe' | 'unsubscribe'
  resolve: (packet: SubackPacket | UnsubackPacket) => void
  reject: (error: Error) => void
}

export interface Pending {
  qos: 1 | 2
  /** QoS 2: PUBREC seen, PUBREL sent, waiting for PUBCOMP. */
  released: boolean
  ack?: PublishAck
  resolve: (ack: PublishAck) => void
  reject: (error: Error) => void
}

/**
 * The outgoing window: QoS 1/2 publishes awaiting their acks, keyed by packet id. At most `limit`
 * are in flight (our cap, lowered to the broker's Receive Maximum); further publishes wait for a slot
 * in order. Ids are never reused while in use.
 */
export class InflightWindow {
  private readonly pending = new Map<number, Pending>()
  private readonly requests = new Map<number, Request>()
  private readonly waiters: Array<() => void> = []
  private waiterHead = 0
  private readonly ids = new PacketIdAllocator()
  private reserved = 0

  constructor(public limit: number) {}

  get size(): number { return this.pending.size }
  private get free(): boolean { return this.pending.size + this.reserved < this.limit }

  /**
   * Reserves a slot for the next add(): returns undefined when one was free, else a promise that
   * resolves (in order) once one is reserved for the caller.
   */
  acquire(): Promise<void> | undefined {
    if (this.free && this.waiterHead === this.waiters.length) {
      this.reserved++
      return undefined
    }
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Gives back a reservation that will not be used. */
  release(): void {
    this.reserved--
    this.wake()
  }

  /** Takes a free packet id for `entry`, using the caller's reservation. */
  add(entry: Pending): number {
    this.reserved--
    const id = this.freeId()
    this.pending.set(id, entry)
    return id
  }

  /** Takes a free packet id for a SUBSCRIBE/UNSUBSCRIBE (outside the publish window). */
  addRequest(request: Request): number {
    const id = this.freeId()
    this.requests.set(id, request)
    return id
  }

  takeRequest(id: number): Request | undefined {
    const request = this.requests.get(id)
    if (request) {
      this.requests.delete(id)
      this.ids.release(id)
    }
    return request
  }

  private freeId(): number {
    const id = this.ids.allocate()
    if (id === undefined) throw new Error('no free packet id')
    return id
  }

  get(id: number): Pending | undefined { return this.pending.get(id) }

  /** Ends the exchange for `id` and frees its slot. */
  settle(id: number, ack: PublishAck): void {
    const entry = this.pending.get(id)
    if (!entry) throw new ProtocolError(`ack for unknown packet id ${id}`)
    this.pending.delete(id)
    this.ids.release(id)
    entry.resolve(ack)
    this.wake()
  }

  /** Fails every exchange (the connection is gone). */
  failAll(error: Error): void {
    for (const entry of this.pending.values()) entry.reject(error)
    for (const request of this.requests.values()) request.reject(error)
    this.pending.clear()
    this.requests.clear()
    this.ids.clear()
    // waiters go on to publish and find the client closed
    while (this.waiterHead < this.waiters.length) this.waiters[this.waiterHead++]!()
    this.waiters.length = 0
    this.waiterHead = 0
    this.reserved = 0
  }

  private wake(): void {
    while (this.free && this.waiterHead < this.waiters.length) {
      this.reserved++
      this.waiters[this.waiterHead++]!()
      if (this.waiterHead > 1024 && this.waiterHead * 2 > this.waiters.length) {
        this.waiters.splice(0, this.waiterHead)
        this.waiterHead = 0
      }
    }
    if (this.waiterHead === this.waiters.length && this.waiterHead > 0) {
      this.waiters.length = 0
      this.waiterHead = 0
    }
  }
}
