import type {WillMessage} from '../codec/index.js'
import type {ClientInfo} from './auth/hooks.js'
import type {StoredSessionState} from './store/types.js'

/*
 * The engine's port to sessions shared by several brokers (a cluster): the broker asks the directory
 * on every CONNECT, before it attaches the session, and tells it when a connection or a session ends
 * here. The directory calls back through SessionDirectoryHost to hand a session over to another broker
 * or to take over those of a broker that died. The engine knows nothing of how (src/cluster: Redis).
 */

/** What a CONNECT tells the directory. */
export interface SessionClaim {
  readonly client: ClientInfo
  readonly cleanStart: boolean
  /** The Session Expiry Interval the connection will have, in seconds. */
  readonly expiryInterval: number
  /** The connection's will: published by another broker if this one dies while the client is connected. */
  readonly will?: WillMessage
}

export interface SessionDirectory {
  /** Called by the Broker when it is created. */
  bind(host: SessionDirectoryHost): void
  /**
   * Makes this broker the session's only holder: any other broker holding it disconnects its client
   * (v5: 0x8E) and hands it over. Resolves with the session's stored state when it must be loaded
   * here, or undefined when there is none (or this broker holds it already). For a clean session
   * (clean start, expiry 0) the directory may resolve at once and settle the claim afterwards: if a
   * later claim elsewhere wins, it takes the session back through releaseSession (the client: 0x8E).
   */
  claim(claim: SessionClaim): Promise<StoredSessionState | undefined>
  /** The client's connection here ended (its will was dealt with here). */
  disconnected(clientId: string): void
  /** The session ended here (clean session closed, expired, replaced by a clean start): nobody holds it. */
  ended(clientId: string): void
}

/** What a directory may ask of its broker. */
export interface SessionDirectoryHost {
  /** Whether the session is in this broker's memory. */
  hasSession(clientId: string): boolean
  /** Whether the client has a connection to this broker. */
  isConnected(clientId: string): boolean
  /**
   * Another broker takes the client: its connection here is closed (v5: 0x8E, Session taken over), its
   * state committed to the store, and the session dropped from memory without ending it.
   */
  releaseSession(clientId: string): Promise<void>
  /**
   * Takes a session whose broker died: restores its stored state (if it had any) offline, and publishes
   * the will of the connection that was lost (after its Will Delay Interval for a session that stays).
   */
  adoptSession(state: StoredSessionState | undefined, client: ClientInfo, will: WillMessage | undefined): void
}
