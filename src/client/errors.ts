import {reasonName, v3ConnackName, type ConnackPacket, type ProtocolVersion} from '../codec/index.js'

/** The broker could not be reached: DNS, TCP, TLS or WebSocket failure, or no CONNACK in time. */
export class ConnectError extends Error {
  constructor(message: string, readonly code?: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'ConnectError'
  }
}

/** The broker answered CONNECT with a refusal. `reasonCode` is the v5 reason code or the v3 return code. */
export class ConnectionRefusedError extends Error {
  readonly reasonCode: number
  constructor(readonly connack: ConnackPacket, readonly protocolVersion: ProtocolVersion) {
    const code = (protocolVersion === 5 ? connack.reasonCode : connack.returnCode) ?? 0
    const words = protocolVersion === 5 ? reasonName(code) : v3ConnackName(code)
    const reason = connack.properties?.reasonString
    super(`connection refused: ${words}${reason ? ` (${reason})` : ''}`)
    this.name = 'ConnectionRefusedError'
    this.reasonCode = code
  }
}

/**
 * The connection ended without our asking: the peer closed it, sent DISCONNECT (v5: with `reasonCode`),
 * stopped answering pings, or broke the protocol.
 */
export class ConnectionLostError extends Error {
  constructor(message: string, readonly reasonCode?: number, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'ConnectionLostError'
  }
}

/** An operation was attempted after disconnect() or after the connection was lost. */
export class ClientClosedError extends Error {
  constructor() {
    super('the client is closed')
    this.name = 'ClientClosedError'
  }
}
