import {ProtocolError, ReasonCode, type InboundUnsubscribe} from '../../codec/index.js'
import type {ConnectedContext} from './context.js'
import {mountFilter} from '../mount-point.js'

export function handleUnsubscribe(conn: ConnectedContext, packet: InboundUnsubscribe): void {
  // [MQTT-3.10.3-2] at least one filter; none is a protocol error
  if (packet.unsubscriptions.length === 0) throw new ProtocolError('UNSUBSCRIBE without topic filters')
  // [MQTT-4.7.3-1] a topic filter is at least one character long
  if (packet.unsubscriptions.includes('')) throw new ProtocolError('UNSUBSCRIBE with an empty topic filter')
  const {broker} = conn
  const session = conn.session
  const mount = conn.listener?.mountPoint
  const mayUnsubscribe = broker.options.auth.authorizeUnsubscribe
  const codes = packet.unsubscriptions.map((sent) => {
    const filter = mount === undefined ? sent : mountFilter(mount, sent)
    if (mayUnsubscribe !== undefined && !mayUnsubscribe(conn.clientInfo, filter)) return ReasonCode.NotAuthorized
    if (!broker.router.unsubscribe(session, filter)) return ReasonCode.NoSubscriptionExisted
    session.journal?.subscribed(session, filter, undefined)
    return ReasonCode.Success
  })
  if (broker.events.heard('unsubscribe')) broker.events.emit('unsubscribe', {clientId: conn.clientId, filters: packet.unsubscriptions})
  // [MQTT-3.10.4-4] UNSUBACK even when nothing was subscribed; v5 says so per filter
  conn.sendAck(conn.version === 5
    ? {cmd: 'unsuback', messageId: packet.messageId, granted: codes}
    : {cmd: 'unsuback', messageId: packet.messageId, granted: []})
}
