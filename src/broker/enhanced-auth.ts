import {isDisconnectReason, ProtocolError, ReasonCode, type AuthPacket, type ConnectPacket} from '../codec/index.js'
import type {ClientInfo} from './auth/hooks.js'
import {ConnState} from './conn-state.js'
import type {Connection} from './connection.js'
import {completeConnect, refuse} from './handlers/connect.js'

/** Who an authentication exchange is for. */
export interface EnhancedAuthRequest extends ClientInfo {
  /** True for a re-authentication of a connected client (AUTH 0x19), false for CONNECT. */
  reauthenticate: boolean
}

/** What one step of an exchange decided. */
export type AuthResult =
  /** Send this Authentication Data to the client in AUTH 0x18 and wait for its answer. */
  | {status: 'continue'; data?: Buffer}
  /** Authenticated: CONNACK 0 (or AUTH 0 after a re-authentication), with optional final data; `username` names the identity used for authorization. */
  | {status: 'success'; data?: Buffer; username?: string}
  /** Refused: CONNACK (or, re-authenticating, DISCONNECT) with this reason code, 0x87 Not authorized by default. */
  | {status: 'failure'; reasonCode?: number; reason?: string}

/** One exchange: `next` gets each piece of Authentication Data the client sends, in order. */
export interface AuthExchange {
  next(data: Buffer | undefined): AuthResult | Promise<AuthResult>
}

/**
 * An MQTT 5 enhanced authentication method, plugged in through the broker option `authenticators`
 * [MQTT-4.12]. `begin` is called for a CONNECT naming this Authentication Method and for each
 * re-authentication; the exchange it returns is then fed the client's data.
 */
export interface Authenticator {
  /** The Authentication Method, e.g. 'SCRAM-SHA-256'. */
  readonly method: string
  begin(request: EnhancedAuthRequest): AuthExchange
}

/** A connection's exchange in progress, and the CONNECT it will complete. */
interface Pending {
  readonly authenticator: Authenticator
  exchange: AuthExchange | undefined
  connect?: {packet: ConnectPacket; clientId: string; assigned: boolean}
}

/**
 * Runs AUTH exchanges through the configured authenticators: at CONNECT (state Authenticating, where
 * only AUTH may come, v5 §4.12) and for re-authentication while connected [MQTT-4.12.1-1].
 */
export class EnhancedAuth {
  private readonly byMethod = new Map<string, Authenticator>()
  private readonly pending = new WeakMap<Connection, Pending>()

  constructor(authenticators: readonly Authenticator[]) {
    for (const a of authenticators) this.byMethod.set(a.method, a)
  }

  /** CONNECT named an Authentication Method: an unknown one is refused with 0x8C [MQTT-4.12.0-1]. */
  start(conn: Connection, packet: ConnectPacket, clientId: string, assigned: boolean): Promise<void> | undefined {
    const method = packet.properties!.authenticationMethod!
    const authenticator = this.byMethod.get(method)
    if (authenticator === undefined) return refuse(conn, ReasonCode.BadAuthenticationMethod, `unknown authentication method '${method}'`)
    conn.authMethod = method
    conn.state = ConnState.Authenticating
    const exchange = authenticator.begin({...info(conn, clientId, packet.username), reauthenticate: false})
    this.pending.set(conn, {authenticator, exchange, connect: {packet, clientId, assigned}})
    return this.step(conn, exchange, packet.properties?.authenticationData)
  }

  /** An AUTH from the client: the next step of the exchange, or the start of a re-authentication. */
  continue(conn: Connection, packet: AuthPacket): Promise<void> | undefined {
    // [MQTT-4.12.0-5] the method stays the one named in CONNECT
    if (packet.properties?.authenticationMethod !== conn.authMethod) throw new ProtocolError('AUTH with another authentication method')
    const pending = this.pending.get(conn)!
    const code = packet.reasonCode ?? ReasonCode.Success
    if (code === ReasonCode.ReAuthenticate && conn.state === ConnState.Connected && pending.exchange === undefined) {
      // [MQTT-4.12.1-1] a re-authentication, while everything else goes on
      pending.exchange = pending.authenticator.begin({...info(conn, conn.clientId, conn.username), reauthenticate: true})
    } else if (code !== ReasonCode.ContinueAuthentication || pending.exchange === undefined) {
      throw new ProtocolError(`AUTH with reason ${code} is out of place`)
    }
    return this.step(conn, pending.exchange, packet.properties?.authenticationData)
  }

  private step(conn: Connection, exchange: AuthExchange, data: Buffer | undefined): Promise<void> | undefined {
    const result = exchange.next(data)
    if (result instanceof Promise) return result.then((r) => this.apply(conn, r))
    this.apply(conn, result)
    return undefined
  }

  private apply(conn: Connection, result: AuthResult): void {
    if (conn.state >= ConnState.Closing) return
    const pending = this.pending.get(conn)!
    const method = conn.authMethod!
    const properties = (data?: Buffer) => (data === undefined ? {authenticationMethod: method} : {authenticationMethod: method, authenticationData: data})
    if (result.status === 'continue') {
      conn.send({cmd: 'auth', reasonCode: ReasonCode.ContinueAuthentication, properties: properties(result.data)})
      return
    }
    pending.exchange = undefined
    const connect = pending.connect
    pending.connect = undefined
    if (result.status === 'success') {
      if (connect === undefined) {
        if (result.username !== undefined) conn.username = result.username
        conn.send({cmd: 'auth', reasonCode: ReasonCode.Success, properties: properties(result.data)})
        return
      }
      // [MQTT-4.12.0-5] the CONNACK names the method (and carries the final data)
      completeConnect(conn, connect.packet, connect.clientId, connect.assigned, true, properties(result.data), result.username)
      return
    }
    conn.broker.metrics.authFailures++
    const code = result.reasonCode ?? ReasonCode.NotAuthorized
    const reason = result.reason ?? 'authentication failed'
    // [MQTT-4.12.0-4] a failed exchange is refused in CONNACK; [MQTT-4.12.1-2] a failed re-authentication ends the connection
    if (connect !== undefined) refuse(conn, code, reason)
    else conn.disconnect(isDisconnectReason(code) ? code : ReasonCode.NotAuthorized, reason) // e.g. 0x86 is a CONNACK-only code
  }
}

function info(conn: Connection, clientId: string, username: string | undefined): ClientInfo {
  return {clientId, username, protocolVersion: conn.version, remoteAddress: conn.remoteAddress}
}
