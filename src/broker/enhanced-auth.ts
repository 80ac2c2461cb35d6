import {isDisconnectReason, ProtocolError, ReasonCode, type AuthPacket, type InboundConnect, type ProtocolVersion} from '../codec/index.js'
import type {AuthExchange, AuthResult, Authenticator} from './auth/authenticator.js'
import type {ClientInfo} from './auth/hooks.js'
import {ConnState} from './conn-state.js'

export type {AuthExchange, AuthResult, Authenticator, EnhancedAuthRequest} from './auth/authenticator.js'

/** The CONNECT an exchange will complete. */
export interface PendingConnect {
  readonly packet: InboundConnect
  readonly clientId: string
  readonly assigned: boolean
}

/** The properties of an AUTH or CONNACK that ends or continues an exchange. */
export interface AuthMethodProperties {
  authenticationMethod: string
  authenticationData?: Buffer
}

/** What the exchange needs to know of the connection it runs on. */
export interface AuthParty {
  readonly state: ConnState
  readonly version: ProtocolVersion
  readonly remoteAddress: string | undefined
  readonly clientId: string
  readonly username: string | undefined
  readonly authMethod: string | undefined
}

/**
 * What one step decided, for the CONNECT and AUTH handlers to carry out: nothing here writes to the
 * connection. `properties` name the method (and carry the data) as [MQTT-4.12.0-5] wants.
 */
export type AuthOutcome =
  /** Send AUTH 0x18 with these properties and wait for the client's answer. */
  | {kind: 'continue'; properties: AuthMethodProperties}
  /** The CONNECT is authenticated: complete it, its CONNACK carrying these properties. */
  | {kind: 'connected'; connect: PendingConnect; properties: AuthMethodProperties; username: string | undefined}
  /** A re-authentication succeeded: AUTH 0 with these properties; `username`, if given, replaces the connection's. */
  | {kind: 'reauthenticated'; properties: AuthMethodProperties; username: string | undefined}
  /** Refuse the CONNECT (CONNACK) [MQTT-4.12.0-4], or end a connected client [MQTT-4.12.1-2], with this reason. */
  | {kind: 'refused'; connect: PendingConnect | undefined; reasonCode: number; reason: string}
  /** The connection closed while the step ran: nothing to do. */
  | {kind: 'closed'}

/** A connection's exchange in progress, and the CONNECT it will complete. */
interface Pending {
  readonly authenticator: Authenticator
  exchange: AuthExchange | undefined
  connect?: PendingConnect
}

/**
 * Runs AUTH exchanges through the configured authenticators: at CONNECT (state Authenticating, where
 * only AUTH may come, v5 §4.12) and for re-authentication while connected [MQTT-4.12.1-1]. It decides;
 * the handlers answer (handlers/connect.ts settleAuth).
 */
export class EnhancedAuth {
  private readonly byMethod = new Map<string, Authenticator>()
  private readonly pending = new WeakMap<AuthParty, Pending>()

  constructor(authenticators: readonly Authenticator[]) {
    for (const a of authenticators) this.byMethod.set(a.method, a)
  }

  /** Whether CONNECT may name this Authentication Method (an unknown one is refused with 0x8C [MQTT-4.12.0-1]). */
  knows(method: string): boolean {
    return this.byMethod.has(method)
  }

  /** CONNECT named a known Authentication Method (the connection is now Authenticating with it): the first step. */
  start(party: AuthParty, connect: PendingConnect): AuthOutcome | Promise<AuthOutcome> {
    const authenticator = this.byMethod.get(party.authMethod!)!
    const exchange = authenticator.begin({...info(party, connect.clientId, connect.packet.username), reauthenticate: false})
    this.pending.set(party, {authenticator, exchange, connect})
    return this.step(party, exchange, connect.packet.properties?.authenticationData)
  }

  /** An AUTH from the client: the next step of the exchange, or the start of a re-authentication. */
  continue(party: AuthParty, packet: AuthPacket): AuthOutcome | Promise<AuthOutcome> {
    // [MQTT-4.12.0-5] the method stays the one named in CONNECT
    if (packet.properties?.authenticationMethod !== party.authMethod) throw new ProtocolError('AUTH with another authentication method')
    const pending = this.pending.get(party)!
    const code = packet.reasonCode ?? ReasonCode.Success
    if (code === ReasonCode.ReAuthenticate && party.state === ConnState.Connected && pending.exchange === undefined) {
      // [MQTT-4.12.1-1] a re-authentication, while everything else goes on
      pending.exchange = pending.authenticator.begin({...info(party, party.clientId, party.username), reauthenticate: true})
    } else if (code !== ReasonCode.ContinueAuthentication || pending.exchange === undefined) {
      throw new ProtocolError(`AUTH with reason ${code} is out of place`)
    }
    return this.step(party, pending.exchange, packet.properties?.authenticationData)
  }

  private step(party: AuthParty, exchange: AuthExchange, data: Buffer | undefined): AuthOutcome | Promise<AuthOutcome> {
    const result = exchange.next(data)
    if (result instanceof Promise) return result.then((r) => this.outcome(party, r))
    return this.outcome(party, result)
  }

  private outcome(party: AuthParty, result: AuthResult): AuthOutcome {
    if (party.state >= ConnState.Closing) return {kind: 'closed'}
    const pending = this.pending.get(party)!
    const method = party.authMethod!
    const properties: AuthMethodProperties = result.status === 'failure' || result.data === undefined
      ? {authenticationMethod: method} : {authenticationMethod: method, authenticationData: result.data}
    if (result.status === 'continue') return {kind: 'continue', properties}
    pending.exchange = undefined
    const connect = pending.connect
    pending.connect = undefined
    if (result.status === 'success') {
      return connect === undefined ? {kind: 'reauthenticated', properties, username: result.username}
        : {kind: 'connected', connect, properties, username: result.username ?? connect.packet.username}
    }
    const code = result.reasonCode ?? ReasonCode.NotAuthorized
    // a failed re-authentication ends the connection with DISCONNECT: e.g. 0x86 is a CONNACK-only code
    const reasonCode = connect !== undefined || isDisconnectReason(code) ? code : ReasonCode.NotAuthorized
    return {kind: 'refused', connect, reasonCode, reason: result.reason ?? 'authentication failed'}
  }
}

function info(party: AuthParty, clientId: string, username: string | undefined): ClientInfo {
  return {clientId, username, protocolVersion: party.version, remoteAddress: party.remoteAddress}
}
