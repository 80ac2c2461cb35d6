import {ProtocolError, ReasonCode, type AuthPacket, type ConnectPacket} from '../codec/index.js'
import type {Connection} from './connection.js'
import {refuse} from './handlers/connect.js'

/**
 * MQTT 5 enhanced authentication (AUTH exchanges). Methods are pluggable; a CONNECT naming a method
 * the broker does not know is refused with 0x8C [MQTT-4.12.0-?].
 */
export class EnhancedAuth {
  start(conn: Connection, packet: ConnectPacket, _clientId: string, _assigned: boolean): undefined {
    return refuse(conn, ReasonCode.BadAuthenticationMethod, `unknown authentication method '${packet.properties?.authenticationMethod}'`)
  }

  continue(_conn: Connection, _packet: AuthPacket): Promise<void> | undefined {
    throw new ProtocolError('no authentication exchange in progress')
  }
}
