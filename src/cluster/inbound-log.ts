import type {Packet} from '../codec/index.js'
import type {AckTarget} from '../broker/ack-queue.js'
import type {Message} from '../broker/message.js'
import type {Confirm} from './wire.js'

/** The engine's acknowledgement queue as a receiving node uses it (see AckQueue). */
export interface NodeAcks {
  expect(message: Message): void
  unroutable(message: Message): void
  reply(conn: AckTarget, packet: Packet, message?: Message): void
}

/** What AckQueue hands a sender's record when the messages of a batch are as safe as a PUBACK makes them. */
const PASSED: Packet = {cmd: 'puback', messageId: 1}

/** What to do with a numbered batch. */
export type Verdict = 'route' | 'duplicate' | 'gap'

/**
 * What one node (in one epoch) sent this node: the last number routed, the batches routed but not yet
 * confirmed, and the last number confirmed. It is the AckQueue's target for the messages of those
 * batches: its "acknowledgements" arrive in order, one per QoS 1 or 2 message, once each is delivered
 * or committed as a single node's PUBACK would need.
 */
class FromNode implements AckTarget {
  readonly clientId: string
  routed: number
  confirmed: number
  /** The last number confirmed to the sender. */
  told = 0
  /** A gap was seen and a resend asked for, not yet filled. */
  asked = false
  /** A duplicate arrived: the sender may have missed the last confirmation, which goes again. */
  tellAgain = false
  /** Batches routed (or being routed: open) and not confirmed: their number and how many of their messages are still held. */
  readonly pending: Array<{seq: number; remaining: number; open: boolean}> = []

  constructor(readonly node: string, readonly epoch: string, first: number, readonly broker: AckTarget['broker'], private readonly log: InboundLog) {
    this.clientId = `node ${node}`
    this.routed = first - 1
    this.confirmed = first - 1
  }

  readonly stream = {destroy: (): void => this.reset()}

  send(): void {
    const head = this.pending[0]
    if (head === undefined) return
    head.remaining--
    this.settle()
  }

  /** The store failed to commit what these batches need: they are routed again when sent again. */
  disconnect(): void {
    this.reset()
  }

  /** Confirms the batches at the front whose messages all passed. */
  settle(): void {
    let moved = false
    while (this.pending.length > 0 && this.pending[0]!.remaining === 0 && !this.pending[0]!.open) {
      this.confirmed = this.pending.shift()!.seq
      moved = true
    }
    if (moved) this.log.dirty(this)
  }

  private reset(): void {
    this.pending.length = 0
    this.routed = this.confirmed
  }
}

/**
 * The receiving side of ForwardLog: numbered batches from each other node are routed once and in
 * order (a duplicate is dropped, a gap asks for a resend), and confirmed once their QoS 1 and 2
 * messages are delivered or committed here as a PUBACK of a single node would need. Confirmations go
 * at most once per event-loop turn per sender.
 */
export class InboundLog {
  /** Batches that arrived after a missing one (dropped, a resend asked for), and again (for /metrics). */
  readonly counts = {gaps: 0, duplicates: 0}
  private readonly from = new Map<string, FromNode>()
  private readonly toTell = new Set<FromNode>()
  private scheduled: NodeJS.Immediate | undefined
  /** The batch being routed, whose held messages are counted. */
  private current: {from: FromNode; entry: {seq: number; remaining: number; open: boolean}} | undefined

  /** `tell` sends a confirmation to a node; `acks` is the engine's queue (none without persistence: confirmed once routed). */
  constructor(private readonly self: string, private readonly acks: NodeAcks | undefined, private readonly broker: AckTarget['broker'],
    private readonly tell: (node: string, confirm: Confirm) => void) {}

  /**
   * Decides about batch `seq` of `node` (whose lowest number kept is `low`); for 'route', the caller
   * routes its messages (through `route`) and then calls `routed`.
   */
  accept(node: string, epoch: string, seq: number, low: number): Verdict {
    let f = this.from.get(node)
    // new here (this node or the sender started): from the sender's lowest number kept
    if (f === undefined || f.epoch !== epoch) this.from.set(node, f = new FromNode(node, epoch, low, this.broker, this))
    // the sender gave up on numbers this node did not route (this node was taken for dead meanwhile)
    else if (low > f.routed + 1) f.routed = low - 1
    if (seq <= f.routed) {
      this.counts.duplicates++
      if (seq <= f.confirmed) {
        f.tellAgain = true
        this.dirty(f)
      }
      return 'duplicate'
    }
    if (seq > f.routed + 1) {
      this.counts.gaps++
      if (!f.asked) {
        f.asked = true
        this.tell(node, {from: this.self, epoch, upTo: f.confirmed, resend: true})
      }
      return 'gap'
    }
    f.asked = false
    f.routed = seq
    const entry = {seq, remaining: 0, open: true}
    f.pending.push(entry)
    this.current = {from: f, entry}
    return 'route'
  }

  /** Routes one message of the accepted batch: QoS 1 and 2 ones are held until delivered or committed. */
  route(message: Message, routeIt: (m: Message) => void): void {
    const c = this.current
    if (c === undefined || message.qos === 0 || this.acks === undefined) return routeIt(message)
    this.acks.expect(message)
    try {
      routeIt(message)
    } catch (error) {
      this.acks.unroutable(message)
      throw error
    }
    c.entry.remaining++
    this.acks.reply(c.from, PASSED, message)
  }

  /** The accepted batch is routed. */
  routed(): void {
    const c = this.current
    this.current = undefined
    if (c === undefined) return
    c.entry.open = false
    c.from.settle()
  }

  /** `node` is gone: what it sent is forgotten. */
  dropNode(node: string): void {
    const f = this.from.get(node)
    if (f === undefined) return
    this.from.delete(node)
    this.toTell.delete(f)
  }

  /** A sender's confirmation changed (or must go again): sent once this turn ends. */
  dirty(f: FromNode): void {
    this.toTell.add(f)
    this.scheduled ??= setImmediate(() => this.flush())
  }

  private flush(): void {
    this.scheduled = undefined
    for (const f of this.toTell) {
      if (this.from.get(f.node) !== f) continue // a newer epoch replaced it
      if (f.confirmed === f.told && !f.tellAgain) continue
      f.told = f.confirmed
      f.tellAgain = false
      this.tell(f.node, {from: this.self, epoch: f.epoch, upTo: f.confirmed, resend: false})
    }
    this.toTell.clear()
  }

  close(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    this.scheduled = undefined
  }
}
