import type {Message} from '../broker/message.js'

/** A node's batch is sent at once when it reaches this size. */
const MAX_BATCH_BYTES = 256 * 1024

/**
 * The messages for other nodes made during one event-loop turn, by node, sent when the turn's I/O is
 * done (setImmediate): one Redis PUBLISH per node and turn instead of one per message. Order per node
 * is kept. Holds no more than one turn's messages.
 */
export class NodeOutbox {
  /** Per node: its messages' bytes, those whose acknowledgement waits for it, how many have QoS 1 or 2, and their size. */
  private readonly pending = new Map<string, {encoded: Buffer[]; held: Message[]; qos: number; bytes: number}>()
  private scheduled: NodeJS.Immediate | undefined

  /**
   * `send` writes one Redis message to a node holding the encoded messages of the turn (as a batch, or a
   * single message alone), with the messages whose acknowledgement waits for that node, and how many of
   * them have QoS 1 or 2.
   */
  constructor(private readonly send: (node: string, encoded: Buffer[], held: Message[], qos: number) => void) {}

  /** `encoded`: a message as wire.ts encodes it for `node`; `held`: the message, if its acknowledgement waits for `node`. */
  add(node: string, encoded: Buffer, qos: number, held: Message | undefined): void {
    // one lookup per message: the size rides on the node's entry
    let list = this.pending.get(node)
    if (list === undefined) this.pending.set(node, list = {encoded: [encoded], held: [], qos: qos > 0 ? 1 : 0, bytes: encoded.length})
    else {
      list.encoded.push(encoded)
      if (qos > 0) list.qos++
      list.bytes += encoded.length
    }
    if (held !== undefined) list.held.push(held)
    // a long turn sends its batches as they fill (Redis and the receiver get no huge message)
    if (list.bytes >= MAX_BATCH_BYTES) return this.sendNode(node)
    this.scheduled ??= setImmediate(() => this.flush())
  }

  /** Sends what waits now. */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    this.scheduled = undefined
    for (const node of this.pending.keys()) this.sendNode(node)
  }

  private sendNode(node: string): void {
    const list = this.pending.get(node)
    this.pending.delete(node)
    if (list !== undefined) this.send(node, list.encoded, list.held, list.qos)
  }

  /** Drops what waits (the node is leaving and Redis is away: nothing could be sent). */
  clear(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    this.scheduled = undefined
    this.pending.clear()
  }
}
