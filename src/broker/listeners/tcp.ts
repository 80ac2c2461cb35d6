import {createServer, type Server} from 'node:net'
import type {Duplex} from 'node:stream'

export interface TcpListenOptions {
  host: string
  port: number
}

/** A plain TCP listener: every accepted socket is handed to `handle`. Resolves once listening. */
export function listenTcp(options: TcpListenOptions, handle: (stream: Duplex, remoteAddress: string | undefined) => void): Promise<Server> {
  const server = createServer({noDelay: true}, (socket) => {
    handle(socket, socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}
