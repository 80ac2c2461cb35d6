// The types of an MQTT 5 enhanced authentication method: what the broker option `authenticators`
// takes. The engine's side of the exchange is enhanced-auth.ts.
import type {ClientInfo} from './hooks.js'

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
