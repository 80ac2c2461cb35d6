import {ProtocolError, ReasonCode, reasonName, type DisconnectPacket} from '../../codec/index.js'
import type {ConnectedContext} from './context.js'

/**
 * A client's DISCONNECT. v3: the will is discarded [MQTT-3.14.4-3]. v5: only reason 0x00 discards it
 * [MQTT-3.14.4-3]; 0x04 asks for it, and an error reason (>= 0x80) is not a normal disconnection, so the
 * will is published (v5 3.1.2.5; Mosquitto discards it for every code but 0x04).
 */
export function handleDisconnect(conn: ConnectedContext, packet: DisconnectPacket): void {
  const session = conn.session
  const expiry = packet.properties?.sessionExpiryInterval
  if (conn.version === 5 && expiry !== undefined) {
    // [MQTT-3.14.2-2] a session that expires at disconnect cannot be extended now
    if (session.expiryInterval === 0 && expiry > 0) throw new ProtocolError('session expiry cannot be set on DISCONNECT when it was 0 at CONNECT')
    session.expiryInterval = conn.broker.capSessionExpiry(expiry)
  }
  const withWill = conn.version === 5 && (packet.reasonCode ?? ReasonCode.Success) !== ReasonCode.Success
  conn.close(withWill, withWill ? `client disconnected with reason ${reasonName(packet.reasonCode!)}` : 'client disconnected')
}
