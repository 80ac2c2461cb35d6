/** Counters the broker keeps (for $SYS, /metrics and tests). Plain fields: cheap to bump on the hot path. */
export class Metrics {
  readonly startedAt = Date.now()
  clientsConnected = 0
  clientsMaximum = 0
  /** CONNECTs accepted since the start. */
  clientsTotal = 0
  clientsExpired = 0
  /** Connections (sockets, WebSockets, streams) handed to the engine since the start. */
  socketsOpened = 0
  /** PUBLISH packets received and sent. */
  messagesReceived = 0
  messagesSent = 0
  /** Packets of every type received and sent (Mosquitto's $SYS/broker/messages/received|sent). */
  packetsReceived = 0
  packetsSent = 0
  /** Every byte received and sent. */
  bytesReceived = 0
  bytesSent = 0
  /** Bytes of PUBLISH packets received and sent. */
  publishBytesReceived = 0
  publishBytesSent = 0
  authFailures = 0
  /** Exceptions from the engine's own code, caught by its last line of defence (Broker.internalError). */
  internalErrors = 0
  readonly dropped: Record<string, number> = Object.create(null)
  /**
   * Log lines left out by the CLI's log throttle, by event (messageDropped, clientConnected, ...):
   * events a client caused that were counted in an aggregated line instead of a line each.
   */
  readonly logSuppressed: Record<string, number> = Object.create(null)

  get logSuppressedTotal(): number {
    let n = 0
    for (const k in this.logSuppressed) n += this.logSuppressed[k] ?? 0
    return n
  }

  get droppedTotal(): number {
    let n = 0
    for (const k in this.dropped) n += this.dropped[k] ?? 0
    return n
  }
}
