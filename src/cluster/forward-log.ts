import type {Message} from '../broker/message.js'
import {encodeSequenced, setSequencedLow} from './wire.js'

/** A node's acknowledgement holds, as the engine's AckQueue takes them (see AckQueue.hold). */
export interface AckHolds {
  hold(message: Message): boolean
  release(message: Message): void
}

/** Default of `window`: QoS 1/2 messages a node may have unconfirmed before their PUBACKs wait (--cluster-ack-window). */
export const DEFAULT_ACK_WINDOW = 10_000
/** A node that confirmed nothing for this long while something waits gets everything again. */
export const RESEND_AFTER_MS = 10_000

interface Sent {
  seq: number
  /** The numbered bytes, as sent (what is sent again). */
  bytes: Buffer
  /** The messages of the batch whose publishers' acknowledgements wait for its confirmation. */
  held: Message[]
  /** How many of its messages have QoS 1 or 2. */
  qos: number
}

interface ToNode {
  /** The next number (kept when the node is dropped: a node taken for dead that comes back goes on from it). */
  next: number
  /** QoS 1/2 messages for the node not confirmed yet (those still in the outbox included). */
  waiting: number
  unconfirmed: Sent[]
  /** When the node last confirmed something, or was last sent everything again (Date.now()). */
  progress: number
}

/**
 * What this node sent each other node and that node has not confirmed yet (see wire.ts): numbered
 * batches, kept until confirmed and sent again when the receiver may have missed them (it came back
 * from a Redis outage, it saw a gap, this node came back from one, or it has been silent for
 * RESEND_AFTER_MS). The receiver routes each number once and in order. Every frame says, as it is
 * (re)sent, the lowest number still kept: a receiver with no state for this node (it started, or this
 * node did) starts there, and one that is behind it skips what this node gave up on (the receiver was
 * taken for dead meanwhile).
 *
 * Flow control: while a node has more than `window` QoS 1/2 messages unconfirmed, the publishers of
 * further ones get their acknowledgement only once the node confirmed them (or is gone): a node that
 * falls behind holds its publishers back rather than growing a queue in Redis or in itself. With a
 * window of 0 every such PUBACK waits for every node the message went to: then not even the death of
 * the publishing node can lose a message it acknowledged.
 */
export class ForwardLog {
  private readonly nodes = new Map<string, ToNode>()
  /** Batches sent again (for /metrics). */
  resent = 0

  /**
   * `publish` writes bytes to a node (a failure is recovered by sending again); for a batch of QoS 0
   * messages only it also gets `light`, its number alone, which a transport that is behind may send instead;
   * `acks` takes the publishers' holds (none without persistence: then nobody waits).
   */
  constructor(private readonly sender: string, readonly epoch: string, private readonly publish: (node: string, bytes: Buffer, light?: Buffer) => void,
    private readonly acks: AckHolds | undefined, private readonly window = DEFAULT_ACK_WINDOW) {}

  /**
   * A message is being forwarded to `node` (called once per node, as the message is routed: before its
   * PUBACK could go). A QoS 1 or 2 one past the node's window has its acknowledgement held until the
   * node confirms it; returns whether it was (a message without a publisher waiting is not).
   */
  hold(node: string, message: Message): boolean {
    if (message.qos === 0) return false
    const to = this.toNode(node)
    return ++to.waiting > this.window && this.acks?.hold(message) === true
  }

  /** Whether a message for `node` may be kept while Redis is away: its window has room, or is 0 (then held). */
  keeps(node: string): boolean {
    return this.window === 0 || this.toNode(node).waiting < this.window
  }

  /**
   * Numbers a turn's encoded messages for `node` as one frame, keeps it, and sends it. `held`: its
   * messages that hold() held; `qos`: how many of them have QoS 1 or 2 (each passed through hold()).
   */
  send(node: string, messages: readonly Buffer[], held: Message[], qos: number): void {
    const to = this.toNode(node)
    const seq = to.next++
    const bytes = encodeSequenced(this.sender, this.epoch, seq, messages)
    if (to.unconfirmed.length === 0) to.progress = Date.now()
    // a batch of QoS 0 messages only is sent again empty: at most once, as on a single node (sending
    // them again would come as a burst just when the receiver or Redis could not keep up); its number
    // must still reach the receiver
    const kept = qos === 0 ? encodeSequenced(this.sender, this.epoch, seq, []) : bytes
    to.unconfirmed.push({seq, bytes: kept, held, qos})
    this.publishKept(node, to, bytes, qos === 0 ? kept : undefined)
  }

  /** `node` confirmed every number up to `upTo` of epoch `epoch`. */
  confirmed(node: string, epoch: string, upTo: number): void {
    const to = this.nodes.get(node)
    if (to === undefined || epoch !== this.epoch) return
    let n = 0
    while (n < to.unconfirmed.length && to.unconfirmed[n]!.seq <= upTo) {
      const s = to.unconfirmed[n++]!
      to.waiting -= s.qos
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
    for (const s of to.unconfirmed) this.publishKept(node, to, s.bytes)
    this.resent += to.unconfirmed.length
  }

  /** Sends numbered bytes, with the lowest number kept for the node as of now. */
  private publishKept(node: string, to: ToNode, bytes: Buffer, light?: Buffer): void {
    const low = to.unconfirmed[0]?.seq ?? to.next
    setSequencedLow(bytes, low)
    if (light !== undefined) setSequencedLow(light, low)
    this.publish(node, bytes, light)
  }

  resendAll(): void {
    for (const node of this.nodes.keys()) this.resend(node)
  }

  /**
   * Sends again to the nodes that confirmed nothing for RESEND_AFTER_MS while something waits;
   * `stale` is told of each first (its transport may be what is stuck).
   */
  resendStale(now = Date.now(), stale?: (node: string) => void): void {
    for (const [node, to] of this.nodes) {
      if (to.unconfirmed.length === 0 || now - to.progress < RESEND_AFTER_MS) continue
      stale?.(node)
      this.resend(node)
    }
  }

  /**
   * `node` is gone (dead, or left) with what it did not confirm: returns the messages whose
   * publishers' acknowledgements were held for it, still held (it will never confirm them: see
   * AckQueue.abandon).
   */
  dropNode(node: string): Message[] {
    const to = this.nodes.get(node)
    if (to === undefined) return []
    const held = to.unconfirmed.flatMap((s) => s.held)
    to.unconfirmed = []
    to.waiting = 0
    return held
  }

  private toNode(node: string): ToNode {
    let to = this.nodes.get(node)
    if (to === undefined) this.nodes.set(node, to = {next: 1, waiting: 0, unconfirmed: [], progress: Date.now()})
    return to
  }

  /** How many batches wait for a confirmation, over all nodes (for /metrics). */
  get unconfirmedBatches(): number {
    let n = 0
    for (const to of this.nodes.values()) n += to.unconfirmed.length
    return n
  }
}
