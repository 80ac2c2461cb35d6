// A TCP proxy in front of a real server (Redis) that can stop answering: stall() keeps every
// connection open but forwards nothing more in either direction, as a paused or wedged server would;
// resume() forwards what was held meanwhile and everything after, as that server answering again.
import {createServer, connect, type Server, type Socket} from 'node:net'
import {once} from 'node:events'

export interface StallingProxy {
  port: number
  /** redis://127.0.0.1:PORT */
  url: string
  /** From now on nothing is forwarded (connections stay open; new ones are accepted and left unanswered). */
  stall(): void
  /** Forwards what stall() held (in order) and everything from now on. */
  resume(): void
  /** Connections made so far (accepted by the proxy). */
  readonly connections: number
  close(): Promise<void>
}

/** Starts a proxy on a free loopback port to `target` (a port on 127.0.0.1; undefined: answers nothing from the start). */
export async function startStallingProxy(target: number | undefined): Promise<StallingProxy> {
  let stalled = target === undefined
  let connections = 0
  const sockets = new Set<Socket>()
  /** What stall() holds back, per destination socket, in order. */
  const held = new Map<Socket, Buffer[]>()
  const forward = (to: Socket, d: Buffer): void => {
    if (!stalled) return void to.write(d)
    let q = held.get(to)
    if (q === undefined) held.set(to, (q = []))
    q.push(d)
  }
  const server: Server = createServer((client) => {
    connections++
    sockets.add(client)
    client.on('error', () => undefined)
    client.on('close', () => { sockets.delete(client); held.delete(client) })
    if (target === undefined) return void client.on('data', () => undefined)
    const upstream = connect(target, '127.0.0.1')
    sockets.add(upstream)
    upstream.on('error', () => client.destroy())
    upstream.on('close', () => { sockets.delete(upstream); held.delete(upstream); client.destroy() })
    client.on('close', () => upstream.destroy())
    client.on('data', (d: Buffer) => forward(upstream, d))
    upstream.on('data', (d: Buffer) => forward(client, d))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as {port: number}).port
  return {
    port, url: `redis://127.0.0.1:${port}`,
    stall() { stalled = true },
    resume() {
      if (target === undefined) return
      stalled = false
      for (const [to, q] of held) for (const d of q) to.write(d)
      held.clear()
    },
    get connections() { return connections },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
