import type {Message} from '../broker/message.js'
import {encodeNodeBatch, encodeSequenced} from './wire.js'

/** A node's acknowledgement holds, as the engine's AckQueue takes them (see AckQueue.hold). */
export interface AckHolds {
  hold(message: Message): boolean
  release(message: Message): void
}

/** Beyond this many bytes kept for one node, batches of QoS 0 messages only are kept as empty ones. */
const MAX_KEPT_BYTES = 16 * 1024 * 1024
/** A node that confirmed nothing for this long while something waits gets everything again. */
export const RESEND_AFTER_MS = 10_000
const EMPTY_BATCH = encodeNodeBatch([])

interface Sent {
  seq: number
  /** The numbered bytes, as sent (what is sent again). */
  bytes: Buffer
  /** The messages of the batch whose publishers' acknowledgements wait for its confirmation. */
  held: Message[]
}

interface ToNode {
  next: number
  unconfirmed: Sent[]
  keptBytes: number
  /** When the node last confirmed something, or was last sent everything again (Date.now()). */
  progress: number
}

/**
 * What this node sent each other node and that node has not confirmed yet (see wire.ts): numbered
 * batches, kept until confirmed and sent again when the receiver may have missed them (it came back
 * from a Redis outage, it saw a gap, this node came back from one, or it has been silent for
 * RESEND_AFTER_MS). The receiver routes each number once and in order. The publishers of QoS 1 and 2
 * messages in a batch get their acknowledgement only once the batch is confirmed by every node it
 * went to (or the node is gone): nothing a PUBACK confirmed is lost between nodes, and a node that
 * falls behind holds its publishers back rather than growing a queue in Redis or in itself.
 */
export class ForwardLog {
  private readonly nodes = new Map<string, ToNode>()

  /**
   * `publish` writes bytes to a node's channel (a failure is recovered by sending again);
   * `acks` takes the publishers' holds (none without persistence: then nobody waits).
   */
  constructor(private readonly sender: string, readonly epoch: string, private readonly publish: (node: string, bytes: Buffer) => void,
    private readonly acks: AckHolds | undefined) {}

  /**
   * Holds the acknowledgement of a QoS 1 or 2 message that is being forwarded to one node, until that
   * node confirms it (called once per node, as the message is routed: before its PUBACK could go).
   * Returns whether it was held (a message without a publisher waiting is not).
   */
  hold(message: Message): boolean {
    return message.qos > 0 && this.acks?.hold(message) === true
  }

  /**
   * Numbers a batch (or single message) for `node`, keeps it, and sends it. `held`: its messages that
   * hold(); `qos`: whether any of its messages has QoS 1 or 2.
   */
  send(node: string, payload: Buffer, held: Message[], qos: boolean): void {
    let to = this.nodes.get(node)
    if (to === undefined) this.nodes.set(node, to = {next: 1, unconfirmed: [], keptBytes: 0, progress: Date.now()})
    const seq = to.next++
    const bytes = encodeSequenced(this.sender, this.epoch, seq, payload)
    if (to.unconfirmed.length === 0) to.progress = Date.now()
    // a batch that nobody waits for is kept only while the node's total is small (it is QoS 0 only,
    // or its publishers need no acknowledgement): its number must still reach the receiver
    const kept = held.length === 0 && !qos && to.keptBytes + bytes.length > MAX_KEPT_BYTES
      ? encodeSequenced(this.sender, this.epoch, seq, EMPTY_BATCH) : bytes
    to.keptBytes += kept.length
    to.unconfirmed.push({seq, bytes: kept, held})
    this.publish(node, bytes)
  }

  /** `node` confirmed every number up to `upTo` of epoch `epoch`. */
  confirmed(node: string, epoch: string, upTo: number): void {
    const to = this.nodes.get(node)
    if (to === undefined || epoch !== this.epoch) return
    let n = 0
    while (n < to.unconfirmed.length && to.unconfirmed[n]!.seq <= upTo) {
      const s = to.unconfirmed[n++]!
      to.keptBytes -= s.bytes.length
      for (const m of s.held) this.acks?.release(m)
    }
    if (n > 0) {
      to.unconfirmed.splice(0, n)
      to.progress = Date.now()
    }
  }

  /** Sends `node` everything it has not confirmed, in order (it may have missed some). */
  resend(node: string): void {
    const to = this.nodes.get(node)
    if (to === undefined) return
    to.progress = Date.now()
    for (const s of to.unconfirmed) this.publish(node, s.bytes)
  }

  resendAll(): void {
    for (const node of this.nodes.keys()) this.resend(node)
  }

  /** Sends again to the nodes that confirmed nothing for RESEND_AFTER_MS while something waits. */
  resendStale(now = Date.now()): void {
    for (const [node, to] of this.nodes) if (to.unconfirmed.length > 0 && now - to.progress >= RESEND_AFTER_MS) this.resend(node)
  }

  /** `node` is gone (dead, or left): its publishers' acknowledgements no longer wait for it. */
  dropNode(node: string): void {
    const to = this.nodes.get(node)
    if (to === undefined) return
    this.nodes.delete(node)
    for (const s of to.unconfirmed) for (const m of s.held) this.acks?.release(m)
  }

  /** How many batches wait for a confirmation, over all nodes (for /metrics). */
  get waiting(): number {
    let n = 0
    for (const to of this.nodes.values()) n += to.unconfirmed.length
    return n
  }
}
