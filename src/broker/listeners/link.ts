// What a listener tells the engine about a connection it hands over, and what the connection tells it
// back: the listeners' side of `broker.handle()`.

/** What the listener knows of a connection before its CONNECT. */
export interface ConnectionContext {
  /**
   * The user name a verified client certificate gives (use_identity_as_username /
   * use_subject_as_username): it replaces CONNECT's, and no password is checked (as in Mosquitto).
   */
  username?: string
  /** The subject (RFC 2253) of a verified client certificate. */
  certificateSubject?: string
  /**
   * The broker's own client (a bridge's local side): no password is checked, as Mosquitto does not
   * authenticate its bridges locally; `username` (local_username) still applies to the ACL.
   */
  internal?: boolean
  /** The listener the connection came through. */
  listener?: ListenerLink
}

/** What a connection tells the listener it came through. */
export interface ListenerLink {
  readonly stats: {messagesReceived: number; messagesSent: number}
  /** Names the listener to hooks (ClientInfo.listener). */
  readonly id?: string
  /** Mosquitto's mount_point: the topic prefix of this listener's clients (see mount-point.ts). */
  readonly mountPoint?: string
  /** Mosquitto's per-listener auto_id_prefix and allow_zero_length_clientid (else the broker's). */
  readonly autoIdPrefix?: string
  readonly allowZeroLengthClientId?: boolean
  /** The connection is over (called once). */
  released(): void
}
