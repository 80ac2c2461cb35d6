import {ProtocolError, type AuthPacket} from '../../codec/index.js'
import type {Connection} from '../connection.js'

/** AUTH: continues an enhanced authentication exchange or starts a re-authentication [MQTT-4.12]. */
export function handleAuth(conn: Connection, packet: AuthPacket): Promise<void> | undefined {
  // [MQTT-4.12.0-7] AUTH is only legal when CONNECT carried an Authentication Method
  if (conn.version !== 5 || conn.authMethod === undefined) throw new ProtocolError('AUTH without an authentication method')
  return conn.broker.enhancedAuth.continue(conn, packet)
}
