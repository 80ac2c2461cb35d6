import {encodeNodeBatch} from './wire.js'

/** A node's batch is sent at once when it reaches this size, whether or not one is still in flight. */
const MAX_BATCH_BYTES = 256 * 1024

/** What waits for one node, and whether a Redis PUBLISH to it is still unanswered. */
interface NodeQueue {
  list: Buffer[]
  bytes: number
  /** PUBLISHes to this node that Redis has not answered yet. */
  inFlight: number
}

/**
 * The messages for other nodes, by node, sent as one Redis PUBLISH per node (a batch). Order per node
 * is kept (one connection, one queue).
 *
 * Self-clocked, like a group commit: a node's batch goes when the event-loop turn's I/O is done
 * (setImmediate) if no PUBLISH to that node is unanswered, else when Redis answers the one in flight.
 * A lone message on a quiet cluster goes in the turn it was made (no added delay); under load the
 * batches grow to what arrives during one Redis round trip, so the number of Redis commands, of
 * writes on both connections and of wake-ups of Redis and the receiving node per message falls as
 * the load rises, instead of staying one per turn. A batch that reaches MAX_BATCH_BYTES goes at once
 * (Redis and the receiver get no huge message, and a stalled Redis does not make one grow).
 */
export class NodeOutbox {
  private readonly queues = new Map<string, NodeQueue>()
  private scheduled: NodeJS.Immediate | undefined
  /** Changed by clear(): an answer to a PUBLISH sent before it is not counted in the new queues. */
  private generation = 0

  /** `send` writes one Redis message (a batch, or a single message alone) to a node; settles when Redis answered. */
  constructor(private readonly send: (node: string, bytes: Buffer) => Promise<unknown>) {}

  add(node: string, message: Buffer): void {
    let q = this.queues.get(node)
    if (q === undefined) this.queues.set(node, q = {list: [], bytes: 0, inFlight: 0})
    q.list.push(message)
    q.bytes += message.length
    // a long turn, or a slow Redis, sends its batches as they fill
    if (q.bytes >= MAX_BATCH_BYTES) return this.sendNode(node, q)
    if (q.inFlight === 0) this.scheduled ??= setImmediate(this.onTurn)
  }

  /** Sends everything that waits now, in flight or not (leaving). */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    this.scheduled = undefined
    for (const [node, q] of this.queues) if (q.list.length > 0) this.sendNode(node, q)
  }

  /** Drops what waits (Redis went away: it would be lost anyway). */
  clear(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    this.scheduled = undefined
    this.queues.clear()
    this.generation++
  }

  /** Messages waiting to be sent, over all nodes (for tests and metrics). */
  get waiting(): number {
    let n = 0
    for (const q of this.queues.values()) n += q.list.length
    return n
  }

  private readonly onTurn = (): void => {
    this.scheduled = undefined
    for (const [node, q] of this.queues) if (q.inFlight === 0 && q.list.length > 0) this.sendNode(node, q)
  }

  private sendNode(node: string, q: NodeQueue): void {
    const list = q.list
    q.list = []
    q.bytes = 0
    q.inFlight++
    const generation = this.generation
    const answered = (): void => {
      if (generation !== this.generation) return
      q.inFlight--
      // what came meanwhile goes once this turn's I/O is done (more may join it in this turn)
      if (q.inFlight > 0) return
      if (q.list.length > 0) this.scheduled ??= setImmediate(this.onTurn)
      else this.queues.delete(node) // a node that is gone leaves nothing behind
    }
    this.send(node, list.length === 1 ? list[0]! : encodeNodeBatch(list)).then(answered, answered)
  }
}
