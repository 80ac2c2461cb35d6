// Live counters shared by the shards (writers, one slot each) and the runner (reader) through a
// SharedArrayBuffer: the status line, the measurement window and the publishers' outstanding window
// read them without messages. Single writer per slot, so plain stores suffice; final figures come from
// the shards' reports, not from here.

export const Stat = {
  Sent: 0, Acked: 1, Received: 2, Expected: 3, Connected: 4, ConnectFailed: 5, Lost: 6, Refused: 7,
  Inflight: 8, PublishersDone: 9, Attempted: 10, Errors: 11, Publishers: 12,
} as const
export const SLOT = 16

export class SharedStats {
  readonly view: Float64Array
  constructor(readonly buffer: SharedArrayBuffer, readonly slots: number) {
    this.view = new Float64Array(buffer)
  }

  static create(slots: number): SharedStats {
    return new SharedStats(new SharedArrayBuffer(slots * SLOT * 8), slots)
  }

  /** A counter summed over all slots. */
  total(stat: number): number {
    let sum = 0
    for (let s = 0; s < this.slots; s++) sum += this.view[s * SLOT + stat]
    return sum
  }

  snapshot(): Record<keyof typeof Stat, number> {
    const out = {} as Record<keyof typeof Stat, number>
    for (const [name, index] of Object.entries(Stat)) out[name as keyof typeof Stat] = this.total(index)
    return out
  }
}
