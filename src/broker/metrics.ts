/** Counters the broker keeps (for $SYS, /metrics and tests). Plain fields: cheap to bump on the hot path. */
export class Metrics {
  readonly startedAt = Date.now()
  clientsConnected = 0
  clientsMaximum = 0
  clientsTotal = 0
  clientsExpired = 0
  messagesReceived = 0
  messagesSent = 0
  bytesReceived = 0
  bytesSent = 0
  authFailures = 0
  readonly dropped: Record<string, number> = Object.create(null)

  get droppedTotal(): number {
    let n = 0
    for (const k in this.dropped) n += this.dropped[k]
    return n
  }
}
