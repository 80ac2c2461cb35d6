import {encodeNodeBatch} from './wire.js'

/** A node's batch is sent at once when it reaches this size. */
const MAX_BATCH_BYTES = 256 * 1024

/**
 * The messages for other nodes made during one event-loop turn, by node, sent when the turn's I/O is
 * done (setImmediate): one Redis PUBLISH per node and turn instead of one per message. Order per node
 * is kept. Holds no more than one turn's messages.
 */
export class NodeOutbox {
  private readonly pending = new Map<string, Buffer[]>()
  private readonly bytes = new Map<string, number>()
  private scheduled: NodeJS.Immediate | undefined

  /** `send` writes one Redis message (a batch, or a single message alone) to a node. */
  constructor(private readonly send: (node: string, bytes: Buffer) => void) {}

  add(node: string, message: Buffer): void {
    const list = this.pending.get(node)
    if (list === undefined) this.pending.set(node, [message])
    else list.push(message)
    const bytes = (this.bytes.get(node) ?? 0) + message.length
    // a long turn sends its batches as they fill (Redis and the receiver get no huge message)
    if (bytes >= MAX_BATCH_BYTES) return this.sendNode(node)
    this.bytes.set(node, bytes)
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
    this.bytes.delete(node)
    if (list !== undefined) this.send(node, list.length === 1 ? list[0]! : encodeNodeBatch(list))
  }

  /** Drops what waits (Redis went away: it would be lost anyway). */
  clear(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    this.scheduled = undefined
    this.pending.clear()
    this.bytes.clear()
  }
}
