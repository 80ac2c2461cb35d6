import type {Packet} from '../codec/index.js'
import type {Message} from './message.js'

// The AckQueue's records (one per acknowledgement held) and the connection they answer.

/** Where a held acknowledgement goes: the connection it answers (AckTarget, seen through this port). */
export interface AckTarget {
  readonly clientId: string
  readonly broker: {internalError(error: unknown, context: {clientId?: string; packet?: string; during: string}): void}
  readonly stream: {destroy(): void}
  send(packet: Packet): void
  disconnect(reasonCode: number, reason: string): void
  /** A PUBREC that will never be sent: its inbound QoS 2 packet id is let go (see AckQueue.abandon). */
  forgetInbound?(packetId: number): void
}

/**
 * One acknowledgement's record. A class, every field set in its constructor with the kind of value it
 * will hold (`since` a time that is no small integer): records made as object literals with `since: 0`
 * got a map that the first later time deprecated, and every record made afterwards was migrated at its
 * first write (a runtime call per PUBACK, 6% of a cluster node's CPU in a profile).
 */
export class Waiting {
  seq = 0
  /** When its acknowledgement was made (timers.now()). */
  since = Number.NaN
  /** Sent (or given up with its connection): nothing of it is left to do. */
  done = false
  /**
   * For a QoS 1 PUBLISH that is not retained: the stored deliveries of its message not yet acknowledged
   * by their receivers. At 0 the message is delivered everywhere it had to be kept, so its PUBACK needs
   * no commit.
   */
  undelivered = 0
  /** A delivery went to a queue (an offline client, a full window): waiting for it would take long. */
  queued = false
  /**
   * Holds that are not the store's: other cluster nodes that have not yet confirmed the message
   * (see hold). The acknowledgement waits for them whether or not it was committed.
   */
  holds = 0

  constructor(
    public conn: AckTarget | undefined,
    public packet: Packet | undefined,
    /** Whether `undelivered` counts (a QoS 1 message that is not retained); otherwise a commit is needed. */
    readonly counts: boolean,
    /** The message whose `ack` is this record, if any (let go once done). */
    public message: Message | undefined,
  ) {}
}

/** The message's record, if its deliveries are counted. */
export function waiting(message: Message): Waiting | undefined {
  return message.ack as Waiting | undefined
}

export function isDelivered(w: Waiting): boolean {
  return w.counts && w.undelivered === 0
}

/**
 * Sends a held acknowledgement. The drain runs from a commit's promise, so an exception here (an
 * engine bug) would be an unhandled rejection and stall the acknowledgements behind it: it costs that
 * connection instead, reported as the engine's own failure.
 */
export function sendContained(conn: AckTarget, packet: Packet): void {
  try {
    conn.send(packet)
  } catch (error) {
    conn.broker.internalError(error, {clientId: conn.clientId, packet: packet.cmd, during: 'sending a held acknowledgement'})
    conn.stream.destroy()
  }
}
