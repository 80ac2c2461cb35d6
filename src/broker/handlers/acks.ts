import {ProtocolError, ReasonCode, type InboundPuback, type InboundPubcomp, type InboundPubrec, type InboundPubrel} from '../../codec/index.js'
import type {ConnectedContext} from './context.js'
import {Flight, type Session} from '../session.js'

// Acknowledgements are looked up by packet id; they may arrive in any order. One for an id not in
// flight is ignored (PUBACK, PUBCOMP) or answered so the client can finish (PUBREC, PUBREL), as in
// Mosquitto; one of the wrong kind for the message in flight under that id (PUBREC or PUBCOMP for QoS 1,
// PUBACK for QoS 2, PUBCOMP before PUBREC) is inconsistent with the state: a Protocol Error (v5 1.2,
// 4.3.2, 4.3.3), which Mosquitto answers the same way (db__message_delete_outgoing).

const FLOW = ['', 'a QoS 1 message awaiting PUBACK', 'a QoS 2 message awaiting PUBREC', 'a QoS 2 message awaiting PUBCOMP']

function wrongKind(cmd: string, id: number, state: Flight): never {
  throw new ProtocolError(`${cmd} for packet id ${id}, which is ${FLOW[state]}`)
}

/** PUBACK ends an outbound QoS 1 flow. */
export function handlePuback(conn: ConnectedContext, packet: InboundPuback): void {
  endFlow(conn.session, 'PUBACK', packet.messageId, Flight.WaitPuback)
}

/** PUBREC moves an outbound QoS 2 flow to PUBREL, or ends it when the client refused the message (>= 0x80). */
export function handlePubrec(conn: ConnectedContext, packet: InboundPubrec): void {
  const session = conn.session
  const id = packet.messageId
  const entry = session.inflight.get(id)
  if (entry === undefined) {
    // [MQTT-4.3.3] answer PUBREL so the client can finish; v5 says the id was not found
    conn.send(conn.version === 5
      ? {cmd: 'pubrel', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound, properties: conn.problem(`no message in flight with id ${id}`)}
      : {cmd: 'pubrel', messageId: id})
    return
  }
  if (entry.state === Flight.WaitPuback) wrongKind('PUBREC', id, entry.state)
  if ((packet.reasonCode ?? 0) >= 0x80) return finish(session, id)
  // a PUBREC again (WaitPubcomp) is answered with PUBREL again
  entry.state = Flight.WaitPubcomp
  session.journal?.inflight(session, entry.delivery, id, Flight.WaitPubcomp)
  conn.sendPubrel(id)
}

/** PUBREL releases an inbound QoS 2 packet id; the message was already delivered once, at PUBLISH. */
export function handlePubrel(conn: ConnectedContext, packet: InboundPubrel): void {
  const id = packet.messageId
  const session = conn.session
  const known = session.releaseInbound(id)
  if (known) session.journal?.inbound(session, id, false)
  // after the release is durable: a client may reuse the id once it has PUBCOMP
  conn.sendAck(conn.version === 5 && !known
    ? {cmd: 'pubcomp', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound, properties: conn.problem(`no message awaiting release with id ${id}`)}
    : {cmd: 'pubcomp', messageId: id})
}

/** PUBCOMP ends an outbound QoS 2 flow. */
export function handlePubcomp(conn: ConnectedContext, packet: InboundPubcomp): void {
  endFlow(conn.session, 'PUBCOMP', packet.messageId, Flight.WaitPubcomp)
}

/** The last acknowledgement of an outbound flow: ends it if the flow was waiting for it. */
function endFlow(session: Session, cmd: string, id: number, expected: Flight): void {
  const state = session.inflight.get(id)?.state
  if (state === undefined) return // unknown id: ignored
  if (state !== expected) wrongKind(cmd, id, state)
  finish(session, id)
}

function finish(session: Session, id: number): void {
  session.complete(id)
  session.pump()
}
