import {ProtocolError, type InboundPacket, type Packet} from '../../codec/index.js'
import {ConnState} from '../conn-state.js'
import {handlePuback, handlePubcomp, handlePubrec, handlePubrel} from './acks.js'
import {handleAuth} from './auth.js'
import {handleConnect} from './connect.js'
import type {ConnectedContext, HandlerContext} from './context.js'
import {handleDisconnect} from './disconnect.js'
import {handlePublish} from './publish.js'
import {handleSubscribe} from './subscribe.js'
import {handleUnsubscribe} from './unsubscribe.js'

/**
 * Checks that a packet is legal in the connection's state (once, before any handler), then hands it
 * to its handler. A handler returns a promise only when it has to wait (hooks); the connection then
 * holds later packets until it settles.
 */
export function dispatch(conn: HandlerContext, decoded: Packet): Promise<void> | void {
  // the one place the decoder's guarantees (Buffer payloads, packet ids where the wire has them) become types
  const packet = decoded as InboundPacket
  switch (conn.state) {
    case ConnState.AwaitingConnect:
      // [MQTT-3.1.0-1] the first packet from the client must be CONNECT
      if (packet.cmd !== 'connect') throw new ProtocolError(`expected CONNECT, got ${packet.cmd.toUpperCase()}`)
      return handleConnect(conn, packet)
    case ConnState.Authenticating:
      // [MQTT-3.1.2-30] during enhanced authentication only AUTH or DISCONNECT may be sent; a DISCONNECT
      // ends it quietly (no session was attached, no will applies yet)
      if (packet.cmd === 'disconnect') return conn.close(false, 'client disconnected during authentication')
      if (packet.cmd !== 'auth') throw new ProtocolError(`expected AUTH during authentication, got ${packet.cmd.toUpperCase()}`)
      return handleAuth(conn, packet)
    case ConnState.Connected:
      if (isConnected(conn)) return dispatchConnected(conn, packet)
      throw new Error('a connected connection without a session') // an engine bug, reported as such
    default:
      return undefined // closing: nothing more is processed
  }
}

/** Connected means a session is attached: the handlers below get it without a check of their own. */
function isConnected(conn: HandlerContext): conn is ConnectedContext {
  return conn.session !== undefined
}

function dispatchConnected(conn: ConnectedContext, packet: InboundPacket): Promise<void> | void {
  switch (packet.cmd) {
    case 'publish': return handlePublish(conn, packet)
    case 'puback': return handlePuback(conn, packet)
    case 'pubrec': return handlePubrec(conn, packet)
    case 'pubrel': return handlePubrel(conn, packet)
    case 'pubcomp': return handlePubcomp(conn, packet)
    case 'subscribe': return handleSubscribe(conn, packet)
    case 'unsubscribe': return handleUnsubscribe(conn, packet)
    case 'pingreq': return conn.send({cmd: 'pingresp'})
    case 'disconnect': return handleDisconnect(conn, packet)
    case 'auth': return handleAuth(conn, packet)
    // [MQTT-3.1.0-2] a second CONNECT is a protocol violation
    case 'connect': throw new ProtocolError('second CONNECT on one connection')
    default: throw new ProtocolError(`a client must not send ${packet.cmd.toUpperCase()}`)
  }
}
