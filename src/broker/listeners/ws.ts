import {createServer as createHttpServer, type IncomingMessage, type Server as HttpServer} from 'node:http'
import {createServer as createHttpsServer, type Server as HttpsServer} from 'node:https'
import type {Socket} from 'node:net'
import type {TLSSocket} from 'node:tls'
import {WebSocketServer, createWebSocketStream, type WebSocket} from 'ws'
import {ReasonCode, V3ConnackCode} from '../../codec/index.js'
import {Listener, listenOn, peerAddress, type ListenerHandlers, type ListenerSpec, type TlsOptions} from './listener.js'
import {refuseConnection} from './refuse.js'
import {certificateSubject, certificateUsername, checkTlsReload, handshakeError, secureContextOptions, serverTlsOptions} from './tls.js'

/** The subprotocols MQTT over WebSockets is spoken under (v3.1 clients use the older name). */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1']
const DEFAULT_MAX_MESSAGE = 268_435_460

/**
 * A `ws` or `wss` listener: MQTT over WebSockets (the `ws` package) on an HTTP or HTTPS server,
 * upgrades accepted on one path ('/mqtt' by default) with the `mqtt` subprotocol; every WebSocket
 * becomes a duplex of MQTT bytes for the engine.
 */
export async function openWebSocketListener(spec: ListenerSpec, handlers: ListenerHandlers): Promise<Listener> {
  const secure = spec.protocol === 'wss'
  if (secure && spec.tls === undefined) throw new Error('a wss listener needs a certificate and a key')
  const server = secure ? createHttpsServer(serverTlsOptions(spec.tls!)) : createHttpServer()
  const listener = new WebSocketListener(spec, server, handlers)
  await listenOn(server, spec)
  return listener
}

class WebSocketListener extends Listener {
  private readonly wss: WebSocketServer
  private tls: TlsOptions | undefined

  constructor(spec: ListenerSpec, override readonly server: HttpServer | HttpsServer, handlers: ListenerHandlers) {
    super(spec, server, handlers)
    this.tls = spec.tls
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: spec.maxWebSocketMessage ?? DEFAULT_MAX_MESSAGE,
      // [MQTT-6.0.0-3] the server selects the mqtt subprotocol the client offers
      handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
    })
    server.on('connection', (socket: Socket) => this.track(socket))
    server.on('request', (_req, res) => {
      res.writeHead(426, {'content-type': 'text/plain', connection: 'close', upgrade: 'websocket'})
      res.end('MQTT over WebSocket: upgrade required\n')
    })
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head))
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.stats.handshakeFailures++
      this.clientError(handshakeError(error, socket), peerAddress(socket))
    })
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = this.spec.path ?? '/mqtt'
    const requested = new URL(req.url ?? '/', 'http://x').pathname
    if (path !== '*' && requested !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
      return
    }
    socket.on('error', () => socket.destroy())
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req))
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const stream = createWebSocketStream(ws)
    // [MQTT-6.0.0-1] MQTT travels in binary frames: a text frame closes the connection
    ws.on('message', (_data, isBinary) => { if (!isBinary) ws.close(1003, 'MQTT needs binary frames') })
    stream.on('error', () => stream.destroy())
    const address = peerAddress(req.socket)
    const username = this.tls === undefined ? undefined : certificateUsername(req.socket as TLSSocket, this.tls)
    if (username === null) {
      refuseConnection(stream, {reasonCode: ReasonCode.NotAuthorized, reason: 'the client certificate has no common name', v3ReturnCode: V3ConnackCode.NotAuthorized})
      return
    }
    this.admit(stream, address, username, this.tls === undefined ? undefined : certificateSubject(req.socket as TLSSocket))
  }

  override setTls(tls: TlsOptions): void {
    if (this.tls === undefined) return super.setTls(tls)
    checkTlsReload(this.tls, tls)
    ;(this.server as HttpsServer).setSecureContext(secureContextOptions(tls))
    this.tls = tls
  }

  override async close(): Promise<void> {
    const closed = super.close()
    this.server.closeIdleConnections()
    await closed
  }
}
