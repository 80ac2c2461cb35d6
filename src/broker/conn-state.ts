// A connection's state and what its peer announced: in a module of their own, so that the handlers
// can name the states without importing the Connection class (no import cycle through them).

/** A connection's one state field [DESIGN 3]: packets are legal or not according to it alone. */
export const ConnState = {AwaitingConnect: 0, Authenticating: 1, Connected: 2, Closing: 3, Closed: 4} as const
export type ConnState = (typeof ConnState)[keyof typeof ConnState]

/** What the client announced about itself (v5 CONNECT properties; protocol defaults otherwise). */
export interface PeerLimits {
  receiveMaximum: number
  maximumPacketSize: number
  topicAliasMaximum: number
  requestProblemInformation: boolean
}

/** The protocol's defaults, shared by every client that announces none of its own. */
export const DEFAULT_PEER: PeerLimits = Object.freeze({
  receiveMaximum: 65_535, maximumPacketSize: Number.MAX_SAFE_INTEGER, topicAliasMaximum: 0, requestProblemInformation: true,
})
