import {ReasonCode, type PubackPacket, type PubcompPacket, type PubrecPacket, type PubrelPacket} from '../../codec/index.js'
import type {Connection} from '../connection.js'
import {Flight} from '../session.js'

// Acknowledgements are looked up by packet id; they may arrive in any order.

/** PUBACK ends an outbound QoS 1 flow. */
export function handlePuback(conn: Connection, packet: PubackPacket): void {
  const session = conn.session!
  if (session.inflight.get(packet.messageId!)?.state !== Flight.WaitPuback) return // unknown id: ignored
  session.complete(packet.messageId!)
  session.pump()
}

/** PUBREC moves an outbound QoS 2 flow to PUBREL, or ends it when the client refused the message (>= 0x80). */
export function handlePubrec(conn: Connection, packet: PubrecPacket): void {
  const session = conn.session!
  const id = packet.messageId!
  const entry = session.inflight.get(id)
  if (entry === undefined) {
    // [MQTT-4.3.3] answer PUBREL so the client can finish; v5 says the id was not found
    conn.send(conn.version === 5
      ? {cmd: 'pubrel', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound, properties: conn.problem(`no message in flight with id ${id}`)}
      : {cmd: 'pubrel', messageId: id})
    return
  }
  if ((packet.reasonCode ?? 0) >= 0x80) {
    session.complete(id)
    session.pump()
    return
  }
  entry.state = Flight.WaitPubcomp
  session.journal?.inflight(session, entry.delivery, id, Flight.WaitPubcomp)
  conn.sendPubrel(id)
}

/** PUBREL releases an inbound QoS 2 packet id; the message was already delivered once, at PUBLISH. */
export function handlePubrel(conn: Connection, packet: PubrelPacket): void {
  const id = packet.messageId!
  const session = conn.session!
  const known = session.releaseInbound(id)
  if (known) session.journal?.inbound(session, id, false)
  // after the release is durable: a client may reuse the id once it has PUBCOMP
  conn.sendAck(conn.version === 5 && !known
    ? {cmd: 'pubcomp', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound, properties: conn.problem(`no message awaiting release with id ${id}`)}
    : {cmd: 'pubcomp', messageId: id})
}

/** PUBCOMP ends an outbound QoS 2 flow. */
export function handlePubcomp(conn: Connection, packet: PubcompPacket): void {
  const session = conn.session!
  if (session.inflight.get(packet.messageId!)?.state !== Flight.WaitPubcomp) return
  session.complete(packet.messageId!)
  session.pump()
}
