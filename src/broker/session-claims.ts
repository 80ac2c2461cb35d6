// Sessions shared with other brokers (options.sessions, a cluster): a CONNECT's claim before it
// attaches, and the SessionDirectoryHost side, where the directory hands a session to another broker
// (release) or gives this one a dead broker's (adopt). The Broker owns one and wires its methods into
// the ConnectionHost and SessionDirectoryHost ports.
import {ReasonCode, type WillMessage} from '../codec/index.js'
import type {ClientInfo} from './auth/hooks.js'
import {Connection} from './connection.js'
import type {HandlerContext} from './handlers/context.js'
import type {BrokerOptions} from './options.js'
import type {Persistence} from './persistence.js'
import type {Router} from './router.js'
import type {Session} from './session.js'
import type {SessionLifecycle} from './session-lifecycle.js'
import type {StoredSessionState} from './store/types.js'

/** What claiming and handing over sessions needs of the broker. */
export interface ClaimsHost {
  readonly options: BrokerOptions
  readonly sessions: Map<string, Session>
  readonly router: Router
  readonly persistence: Persistence | undefined
  readonly lifecycle: SessionLifecycle
}

export class SessionClaims {
  constructor(private readonly host: ClaimsHost) {}

  /** Before attach: takes the client's session from the broker that holds it (SessionDirectory.claim). */
  async claim(conn: HandlerContext, cleanStart: boolean, expiry: number, will: WillMessage | undefined): Promise<void> {
    const {options, sessions, persistence} = this.host
    const client = conn.clientInfo
    const state = await options.sessions!.claim({client, cleanStart, expiryInterval: expiry, ...(will === undefined ? {} : {will})})
    if (state !== undefined && !sessions.has(client.clientId)) persistence?.adopt(state)
  }

  has(clientId: string): boolean {
    return this.host.sessions.has(clientId)
  }

  isConnected(clientId: string): boolean {
    return this.host.sessions.get(clientId)?.link !== undefined
  }

  /** Hands the session to another broker: its client here is told 0x8E, the session is kept but no longer held. */
  async release(clientId: string): Promise<void> {
    const {options, sessions, router, persistence, lifecycle} = this.host
    const session = sessions.get(clientId)
    if (session === undefined) return
    const conn = session.link
    if (conn instanceof Connection) conn.disconnect(ReasonCode.SessionTakenOver, 'session taken over')
    if (sessions.get(clientId) === session) {
      // kept, not ended: its expiry and will are the new holder's now
      lifecycle.clearTimers(session)
      router.removeAll(session)
      persistence?.released(session)
      sessions.delete(clientId)
    }
    await options.store?.flush()
  }

  /** Takes a dead broker's session: restores it unless held here, and publishes or schedules its will. */
  adopt(state: StoredSessionState | undefined, client: ClientInfo, will: WillMessage | undefined): void {
    const {sessions, persistence, lifecycle} = this.host
    if (state !== undefined && !sessions.has(client.clientId)) persistence?.adopt(state)
    const session = sessions.get(client.clientId)
    if (will === undefined) return
    if (session === undefined || session.link !== undefined) lifecycle.publishWill(client, will)
    else {
      lifecycle.scheduleWill(session, will)
      persistence?.detached(session) // stored with the will still to come
    }
  }
}
