import {ProtocolError, type AuthPacket} from '../../codec/index.js'
import {settleAuth} from './connect.js'
import type {HandlerContext} from './context.js'

/** AUTH: continues an enhanced authentication exchange or starts a re-authentication [MQTT-4.12]. */
export function handleAuth(conn: HandlerContext, packet: AuthPacket): Promise<void> | undefined {
  // [MQTT-4.12.0-7] AUTH is only legal when CONNECT carried an Authentication Method
  if (conn.version !== 5 || conn.authMethod === undefined) throw new ProtocolError('AUTH without an authentication method')
  return settleAuth(conn, conn.broker.enhancedAuth.continue(conn, packet))
}
