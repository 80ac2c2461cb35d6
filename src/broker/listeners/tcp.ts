import {createServer, type Server} from 'node:net'
import {Listener, listenOn, peerAddress, type ListenerHandlers, type ListenerSpec} from './listener.js'

/** A plain TCP listener (`mqtt`). */
export async function openTcpListener(spec: ListenerSpec, handlers: ListenerHandlers): Promise<Listener> {
  const server = createServer({noDelay: true})
  const listener = new TcpListener(spec, server, handlers)
  await listenOn(server, spec)
  return listener
}

class TcpListener extends Listener {
  constructor(spec: ListenerSpec, server: Server, handlers: ListenerHandlers) {
    super(spec, server, handlers)
    server.on('connection', (socket) => {
      this.track(socket)
      this.admit(socket, peerAddress(socket))
    })
  }
}
