// A TCP proxy in front of a real server (Redis) that can stop answering: stall() keeps every
// connection open but forwards nothing more in either direction, as a paused or wedged server would.
import {createServer, connect, type Server, type Socket} from 'node:net'
import {once} from 'node:events'

export interface StallingProxy {
  port: number
  /** redis://127.0.0.1:PORT */
  url: string
  /** From now on nothing is forwarded (connections stay open; new ones are accepted and left unanswered). */
  stall(): void
  /** Connections made so far (accepted by the proxy). */
  readonly connections: number
  close(): Promise<void>
}

/** Starts a proxy on a free loopback port to `target` (a port on 127.0.0.1; undefined: answers nothing from the start). */
export async function startStallingProxy(target: number | undefined): Promise<StallingProxy> {
  let stalled = target === undefined
  let connections = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    connections++
    sockets.add(client)
    client.on('error', () => undefined)
    client.on('close', () => sockets.delete(client))
    if (target === undefined) return void client.on('data', () => undefined)
    const upstream = connect(target, '127.0.0.1')
    sockets.add(upstream)
    upstream.on('error', () => client.destroy())
    upstream.on('close', () => { sockets.delete(upstream); client.destroy() })
    client.on('close', () => upstream.destroy())
    client.on('data', (d) => { if (!stalled) upstream.write(d) })
    upstream.on('data', (d) => { if (!stalled) client.write(d) })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as {port: number}).port
  return {
    port, url: `redis://127.0.0.1:${port}`,
    stall() { stalled = true },
    get connections() { return connections },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
