// One bench publisher's sending state: a block of its PUBLISH packet encoded once and repeated (the
// publishing loop copies a slice and patches sequence numbers, times and packet ids in), and its QoS 1/2
// window of free packet ids with the send time of each id in flight.
import {encodePublish, type QoS} from '../codec/index.js'
import type {BenchConnection} from './connection.js'
import {HEADER_SIZE, payloadTemplate, STREAM_OFFSET} from './payload.js'
import type {ClientPlan} from './shard-protocol.js'

/** Largest write per publisher per turn, and the socket backlog at which a publisher waits. */
export const BOUND = 64 * 1024

export class Publisher {
  conn!: BenchConnection
  readonly block: Buffer
  readonly packetLength: number
  readonly payloadOffset: number
  readonly idOffset: number
  readonly blockCount: number
  readonly tracked: boolean
  seq = 0
  fanout = 0
  inflight = 0
  window = 0
  freeIds: Uint16Array
  freeTop = 0
  sentAt: Float64Array
  closed = false
  done = false
  offsetUs = 0

  constructor(readonly plan: ClientPlan, qos: QoS, retain: boolean, payloadSize: number, version: 3 | 4 | 5, inflight: number, body?: Uint8Array) {
    const payload = payloadTemplate(payloadSize, body)
    this.tracked = payloadSize >= HEADER_SIZE
    if (this.tracked) payload.writeUInt32LE(plan.stream ?? 0, STREAM_OFFSET)
    const {bytes, packetIdOffset} = encodePublish({topic: plan.topic!, payload, qos, retain}, version)
    this.packetLength = bytes.length
    this.payloadOffset = bytes.length - payloadSize
    this.idOffset = packetIdOffset
    this.blockCount = Math.max(1, Math.floor(BOUND / bytes.length))
    this.block = Buffer.allocUnsafe(this.blockCount * bytes.length)
    for (let k = 0; k < this.blockCount; k++) bytes.copy(this.block, k * bytes.length)
    this.window = qos > 0 ? inflight : 0
    this.freeIds = new Uint16Array(qos > 0 ? inflight : 0)
    this.sentAt = new Float64Array(qos > 0 ? inflight + 1 : 0)
  }

  /** After CONNACK: the window is ours and the broker's Receive Maximum, whichever is smaller. */
  ready(conn: BenchConnection): void {
    this.conn = conn
    if (this.window > 0) {
      this.window = Math.min(this.window, conn.receiveMaximum)
      this.freeTop = 0
      for (let id = this.window; id >= 1; id--) this.freeIds[this.freeTop++] = id
    }
  }

  get remaining(): number {
    const limit = this.plan.limit ?? 0
    return limit > 0 ? limit - this.seq : Number.POSITIVE_INFINITY
  }
}
