import {ProtocolError, ReasonCode, type DisconnectPacket} from '../../codec/index.js'
import type {Connection} from '../connection.js'

/** A client's DISCONNECT: the will is discarded [MQTT-3.14.4-3] unless v5 reason 0x04 asks for it. */
export function handleDisconnect(conn: Connection, packet: DisconnectPacket): void {
  const session = conn.session!
  const expiry = packet.properties?.sessionExpiryInterval
  if (conn.version === 5 && expiry !== undefined) {
    // [MQTT-3.14.2-2] a session that expires at disconnect cannot be extended now
    if (session.expiryInterval === 0 && expiry > 0) throw new ProtocolError('session expiry cannot be set on DISCONNECT when it was 0 at CONNECT')
    session.expiryInterval = conn.broker.capSessionExpiry(expiry)
  }
  const withWill = conn.version === 5 && packet.reasonCode === ReasonCode.DisconnectWithWill
  conn.close(withWill, withWill ? 'client disconnected with will' : 'client disconnected')
}
