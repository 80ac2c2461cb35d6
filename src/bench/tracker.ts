// Loss, duplicate and reordering accounting from the sequence numbers in the bench header.
// One tracker per subscriber; inside it, one small state per publisher stream. Delivery in order (the
// normal case) costs a map lookup and two increments and allocates nothing; a ring of recent sequence
// numbers is allocated only once a stream shows a gap.

export const RING = 4096
const MASK = RING - 1

export const Arrival = {New: 0, Reordered: 1, Duplicate: 2} as const
export type Arrival = (typeof Arrival)[keyof typeof Arrival]

interface Stream {
  /** First sequence number seen. */
  base: number
  /** Highest sequence number seen + 1. */
  next: number
  /** Distinct sequence numbers seen. */
  unique: number
  /** Every sequence number in [base, floor) has been seen (set when the first gap opens; before, all of [base, next)). */
  floor: number
  /** seq + 1 at slot seq % RING, for the sequence numbers in [next - RING, next); only after a gap. */
  ring: Float64Array | undefined
}

export class SequenceTracker {
  /** Messages received with a header (duplicates included). */
  received = 0
  duplicates = 0
  /** Arrived after a higher sequence number of the same stream (and not a duplicate). */
  reordered = 0
  /** Older than the ring could tell apart: counted as reordered, may have been duplicates. */
  late = 0
  private readonly streams = new Map<number, Stream>()

  record(streamId: number, seq: number): Arrival {
    this.received++
    const s = this.streams.get(streamId)
    if (s === undefined) {
      this.streams.set(streamId, {base: seq, next: seq + 1, unique: 1, floor: seq + 1, ring: undefined})
      return Arrival.New
    }
    if (seq === s.next) {
      if (s.ring) s.ring[seq & MASK] = seq + 1
      s.next++
      s.unique++
      return Arrival.New
    }
    if (seq > s.next) {
      if (!s.ring) {
        s.ring = new Float64Array(RING)
        s.floor = s.next
      }
      s.ring[seq & MASK] = seq + 1
      s.next = seq + 1
      s.unique++
      return Arrival.New
    }
    // seq < next
    if (seq >= s.base && (s.ring === undefined || seq < s.floor)) {
      this.duplicates++
      return Arrival.Duplicate
    }
    if (seq < s.base || seq < s.next - RING) {
      this.late++
      this.reordered++
      s.unique++
      return Arrival.Reordered
    }
    const ring = s.ring!
    if (ring[seq & MASK] === seq + 1) {
      this.duplicates++
      return Arrival.Duplicate
    }
    ring[seq & MASK] = seq + 1
    s.unique++
    this.reordered++
    return Arrival.Reordered
  }

  /** Distinct messages received. */
  get unique(): number { return this.received - this.duplicates }

  /** Publisher streams seen. */
  get streamCount(): number { return this.streams.size }

  /**
   * Messages missing between the first and the last one seen of each stream (what a subscriber alone
   * can know; the end-to-end run also knows what was sent after the last one received).
   */
  gaps(): number {
    let missing = 0
    for (const s of this.streams.values()) missing += Math.max(0, s.next - s.base - s.unique)
    return missing
  }

  /** Per stream: distinct messages received (for the end-to-end loss count). */
  uniqueByStream(): Map<number, number> {
    const out = new Map<number, number>()
    for (const [id, s] of this.streams) out.set(id, s.unique)
    return out
  }
}
