// The receiving side of a shard: each delivery's bench header is checked, its sequence number tracked
// per subscriber (duplicates, reordering, gaps) and its end-to-end latency recorded, with one clock
// reading per socket chunk.
import type {Clock} from './clock.js'
import type {BenchConnection} from './connection.js'
import {HEADER_SIZE, MAGIC, SEQ_OFFSET, STREAM_OFFSET, TIME_OFFSET} from './payload.js'
import type {ShardCounters} from './shard-counters.js'
import type {ClientPlan, ShardPlan} from './shard-protocol.js'
import {Stat} from './stats.js'
import {Arrival, SequenceTracker} from './tracker.js'

export class Subscriber {
  conn: BenchConnection | undefined
  readonly tracker = new SequenceTracker()
  constructor(readonly plan: ClientPlan) {}
}

export class Receiver {
  private chunkNow = 0

  /** `afterChunk` runs once the deliveries of a chunk are counted (the publishing loop may wait for them). */
  constructor(private readonly counters: ShardCounters, private readonly clock: Clock,
    private readonly latencyBy: ShardPlan['latencyBy'], private readonly afterChunk: () => void) {}

  receive(s: Subscriber, buf: Buffer, start: number, end: number): void {
    const c = this.counters
    c.received++
    if (end - start < HEADER_SIZE || buf.readUInt32LE(start) !== MAGIC) {
      c.untracked++
      return
    }
    const arrival = s.tracker.record(buf.readUInt32LE(start + STREAM_OFFSET), buf.readUInt32LE(start + SEQ_OFFSET))
    if (arrival === Arrival.Duplicate) return
    if (this.chunkNow === 0) this.chunkNow = this.clock()
    const now = this.chunkNow
    const sentAt = buf.readDoubleLE(start + TIME_OFFSET)
    c.interval?.endToEnd.record(now - sentAt)
    const at = this.latencyBy === 'send' ? sentAt : now
    if (at >= c.windowStart) {
      if (at < c.windowEnd) c.hist.endToEnd.record(now - sentAt)
    } else {
      c.warmupHist.endToEnd.record(now - sentAt)
    }
  }

  readonly chunkDone = () => {
    this.chunkNow = 0
    this.counters.set(Stat.Received, this.counters.received)
    this.afterChunk()
  }
}
