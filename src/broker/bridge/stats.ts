// What a bridge counts, for /metrics and for tests: read at scrape time, never reset.
export interface BridgeStats {
  /** 1 while connected to the remote, else 0. */
  connected: 0 | 1
  /** Messages received from the remote and published locally. */
  messagesIn: number
  /** Local messages sent to the remote (QoS 1/2: acknowledged by it). */
  messagesOut: number
  /** Messages not passed on: QoS 0 while the remote was down, refused by the remote or the local broker, too large. */
  dropped: number
  /** Successful connections after the first. */
  reconnects: number
  /** Connection attempts that failed. */
  connectFailures: number
}

export function emptyStats(): BridgeStats {
  return {connected: 0, messagesIn: 0, messagesOut: 0, dropped: 0, reconnects: 0, connectFailures: 0}
}
