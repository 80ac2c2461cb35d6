import {EventEmitter} from 'node:events'
import {createServer, connect, type Server, type Socket} from 'node:net'
import {hostname, networkInterfaces} from 'node:os'
import {LogThrottle} from '../broker/log-throttle.js'
import type {Logger} from '../broker/logger.js'
import {realTimers} from '../broker/timers.js'
import {
  FrameReader, HANDSHAKE_MAX_FRAME, LINK_MAX_FRAME, READY_FRAME, decodeChallenge, decodeHello, decodeProof, encodeChallenge,
  encodeHello, encodeProof, frameHeader, handshakeMac, isReady, macMatches, nonce, type Hello,
} from './link-wire.js'

/** Where a node's link listens, or is dialed. */
export interface LinkAddress {
  host: string
  port: number
}

export interface NodeLinksOptions {
  id: string
  /** Where this node listens for the others' links. */
  listen: LinkAddress
  /** What the others dial (default: the listening address; its port: the listening port). */
  advertise?: {host: string; port?: number}
  /** The address another node advertises (read from Redis at each attempt), if any. */
  address: (node: string) => Promise<LinkAddress | undefined>
  /** A frame of wire.ts that another node sent over its link. */
  received: (bytes: Buffer) => void
  logger: Logger
}

export interface LinkEvents {
  /** The link to `node` went down: what it carried and the node did not confirm may be lost. */
  down: [node: string]
}

/** Bytes a link may hold unsent: past them it is closed (a receiver that falls this far behind), as Redis closes a subscriber past its output buffer limit. */
export const MAX_UNSENT = 32 * 1024 * 1024
/** Past this many bytes unsent a batch of QoS 0 messages only goes as its number alone: its messages are dropped, as a full queue drops QoS 0. */
export const SHED_QOS0 = 8 * 1024 * 1024
const HANDSHAKE_TIMEOUT_MS = 5000
/** Connections in their handshake at once: more are closed at once (no log line each), so strangers cannot hold many sockets. */
const MAX_HANDSHAKING = 32
const FIRST_RETRY_MS = 100
const MAX_RETRY_MS = 5000

interface Outgoing {
  /** The socket once the handshake completed. */
  socket: Socket | undefined
  /** Stops the dial loop (the node is gone, or this node leaves). */
  stopped: boolean
  /** The last failure logged (logged again only once it changed or the link was up meanwhile). */
  logged: string | undefined
}

/**
 * Direct TCP links between this node and the others, for what the numbered forwarding (wire.ts) sends:
 * a node dials each other node it knows (the address from that node's registry info in Redis), both
 * prove the cluster's secret (link-wire.ts), and from then on the dialer's batches and confirmations
 * for that node go over the link instead of Redis. The forwarding log makes the transport free to lose,
 * duplicate or switch: send() says false when there is no link (the caller uses Redis), and a link that
 * drops is dialed again with backoff while Redis carries its traffic.
 */
export class NodeLinks extends EventEmitter<LinkEvents> {
  /** Frames sent over a link, QoS 0 batches sent as their number only, connections refused. */
  readonly counts = {link: 0, shed: 0, refused: 0}
  /** The cluster's secret (from Redis); no links before it is known. */
  secret: string | undefined
  private server: Server | undefined
  private readonly out = new Map<string, Outgoing>()
  private readonly incoming = new Set<Socket>()
  private handshaking = 0
  private closed = false
  private advertised: LinkAddress | undefined
  /** Refused connections' lines: ten per address and a hundred in all per 10 s, the rest counted (a stranger's loop floods no log). */
  private readonly refusals: LogThrottle

  constructor(private readonly options: NodeLinksOptions) {
    super()
    this.refusals = new LogThrottle(options.logger, 'warn', 'cluster: refused a link connection', {intervalMs: 10_000, perKey: 10, global: 100, timers: realTimers})
  }

  /** Listens; resolves with the address the others are to dial (undefined: it cannot listen, logged). */
  async listen(): Promise<LinkAddress | undefined> {
    const server = createServer((socket) => this.accept(socket))
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        // exclusive: a --workers worker's port is its own, not shared through the primary
        server.listen({host: this.options.listen.host, port: this.options.listen.port, exclusive: true}, () => { server.off('error', reject); resolve() })
      })
    } catch (error) {
      this.options.logger.warn({node: this.options.id}, `cluster: cannot listen for node links on ${show(this.options.listen)} (${(error as Error).message}); messages to and from other nodes go through Redis`)
      return undefined
    }
    server.on('error', () => undefined)
    this.server = server
    const port = (server.address() as {port: number}).port
    const a = this.options.advertise
    this.advertised = {host: a?.host ?? advertisedHost(this.options.listen.host), port: a?.port ?? port}
    return this.advertised
  }

  /** How many links to other nodes are up. */
  get up(): number {
    let n = 0
    for (const o of this.out.values()) if (o.socket !== undefined) n++
    return n
  }

  /**
   * Sends a wire.ts frame to `node` over its link; false when there is none (the caller sends it
   * through Redis). `light`: what may go instead when the link is behind (a QoS 0 batch's number alone).
   */
  send(node: string, bytes: Buffer, light?: Buffer): boolean {
    const socket = this.out.get(node)?.socket
    // destroyed: until its 'close' comes (and with it the resend of what it did not deliver)
    if (socket === undefined || socket.destroyed) return false
    if (socket.writableLength > MAX_UNSENT) {
      this.options.logger.warn({node: this.options.id, peer: node}, `cluster: node ${node} reads its link too slowly (over ${MAX_UNSENT >> 20} MiB unsent); closing it, unconfirmed messages are sent again`)
      socket.destroy()
      return false
    }
    if (light !== undefined && socket.writableLength > SHED_QOS0) {
      bytes = light
      this.counts.shed++
    }
    socket.cork()
    socket.write(frameHeader(bytes.length))
    socket.write(bytes)
    socket.uncork()
    this.counts.link++
    return true
  }

  /** `node` is alive: it is dialed (again until it is gone). */
  want(node: string): void {
    if (this.closed || this.out.has(node)) return
    const o: Outgoing = {socket: undefined, stopped: false, logged: undefined}
    this.out.set(node, o)
    void this.dialLoop(node, o)
  }

  /** Closes the link to `node` (dialed again); what is sent meanwhile goes through Redis. */
  reset(node: string): void {
    const o = this.out.get(node)
    if (o?.socket === undefined) return
    this.options.logger.warn({node: this.options.id, peer: node}, `cluster: node ${node} confirmed nothing over its link for 10 s; closing the link, sending again through Redis`)
    o.socket.destroy()
  }

  /** `node` is gone: its link is closed and no longer dialed. */
  drop(node: string): void {
    const o = this.out.get(node)
    if (o === undefined) return
    this.out.delete(node)
    o.stopped = true
    o.socket?.destroy()
  }

  private async dialLoop(node: string, o: Outgoing): Promise<void> {
    let delay = FIRST_RETRY_MS
    while (!o.stopped && !this.closed) {
      let reason: string
      try {
        const address = await this.options.address(node)
        if (address === undefined) reason = 'it advertises no link address'
        else if (this.secret === undefined) reason = 'the cluster secret is not known yet'
        else {
          const socket = await this.dial(node, address, this.secret)
          if (o.stopped || this.closed) return void socket.destroy()
          o.socket = socket
          o.logged = undefined
          delay = FIRST_RETRY_MS
          this.options.logger.info({node: this.options.id, peer: node}, `cluster: link to node ${node} at ${show(address)} is up`)
          reason = await new Promise<string>((resolve) => {
            socket.once('error', (error) => resolve(error.message))
            socket.once('close', () => resolve('closed'))
          })
          o.socket = undefined
          if (!o.stopped && !this.closed) this.emit('down', node)
        }
      } catch (error) {
        reason = (error as Error).message
      }
      if (o.stopped || this.closed) return
      if (o.logged !== reason) this.options.logger.warn({node: this.options.id, peer: node}, `cluster: no link to node ${node} (${reason}); its messages go through Redis until there is`)
      o.logged = reason
      await new Promise((resolve) => setTimeout(resolve, delay).unref())
      delay = Math.min(delay * 2, MAX_RETRY_MS)
    }
  }

  /** Connects to `node` and completes the handshake as the dialer; rejects on any failure (the socket closed). */
  private dial(node: string, address: LinkAddress, secret: string): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const socket = connect({host: address.host, port: address.port})
      socket.setNoDelay(true)
      const hello: Hello = {from: this.options.id, to: node, nonce: nonce()}
      const reader = new FrameReader(HANDSHAKE_MAX_FRAME)
      let state: 'challenge' | 'ready' | 'up' = 'challenge'
      const fail = (why: string): void => {
        clearTimeout(timer)
        socket.destroy()
        reject(new Error(why))
      }
      const timer = setTimeout(() => fail('no handshake within 5 s'), HANDSHAKE_TIMEOUT_MS)
      socket.on('error', (error) => { if (state !== 'up') fail(error.message) })
      socket.on('close', () => { if (state !== 'up') fail('closed during the handshake') })
      socket.on('connect', () => {
        try {
          socket.write(encodeHello(hello))
        } catch (error) {
          fail((error as Error).message) // an id the handshake cannot carry (over 255 bytes: a library caller's)
        }
      })
      const onFrame = (body: Buffer): void => {
        if (state === 'challenge') {
          const c = decodeChallenge(body)
          if (!macMatches(c.mac, handshakeMac(secret, 'listener', hello, c.nonce))) throw new Error(`the node at ${show(address)} did not prove the cluster secret as ${node}`)
          socket.write(encodeProof(handshakeMac(secret, 'dialer', hello, c.nonce)))
          state = 'ready'
        } else if (state === 'ready') {
          if (!isReady(body)) throw new Error('a malformed link handshake')
          state = 'up'
          clearTimeout(timer)
          socket.removeAllListeners('data')
          socket.on('data', () => undefined) // the listener sends nothing after READY
          resolve(socket)
        }
      }
      socket.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk, onFrame)
        } catch (error) {
          fail((error as Error).message)
        }
      })
    })
  }

  /** Another node's (or anyone's) connection: the handshake as the listener, then its frames go to `received`. */
  private accept(socket: Socket): void {
    if (this.closed) return void socket.destroy()
    if (this.handshaking >= MAX_HANDSHAKING) {
      this.counts.refused++
      return void socket.destroy()
    }
    this.handshaking++
    let handshaking = true
    const settled = (): void => {
      if (handshaking) this.handshaking--
      handshaking = false
    }
    socket.setNoDelay(true)
    const from = `${socket.remoteAddress}:${socket.remotePort}`
    const reader = new FrameReader(HANDSHAKE_MAX_FRAME)
    let state: 'hello' | 'proof' | 'up' | 'refused' = 'hello'
    let hello: Hello | undefined
    let listenerNonce: Buffer | undefined
    const refuse = (why: string): void => {
      if (state === 'refused') return
      state = 'refused'
      clearTimeout(timer)
      settled()
      this.counts.refused++
      this.refusals.event(socket.remoteAddress ?? from, why, {node: this.options.id, from, claiming: hello?.from, reason: why})
      socket.destroy()
    }
    const timer = setTimeout(() => refuse('no handshake within 5 s'), HANDSHAKE_TIMEOUT_MS)
    socket.on('error', () => undefined)
    socket.on('close', () => { clearTimeout(timer); settled(); this.incoming.delete(socket) })
    const onFrame = (body: Buffer): void => {
      if (state === 'up') return this.options.received(body)
      if (state === 'hello') {
        hello = decodeHello(body)
        if (hello.to !== this.options.id) throw new Error(`it asked for node ${hello.to}, this is node ${this.options.id}`)
        if (hello.from === this.options.id) throw new Error('it claims this node\'s own id')
        if (this.secret === undefined) throw new Error('the cluster secret is not known yet')
        listenerNonce = nonce()
        socket.write(encodeChallenge(listenerNonce, handshakeMac(this.secret, 'listener', hello, listenerNonce)))
        state = 'proof'
      } else if (state === 'proof') {
        if (!macMatches(decodeProof(body), handshakeMac(this.secret!, 'dialer', hello!, listenerNonce!))) throw new Error('it did not prove the cluster secret')
        state = 'up'
        clearTimeout(timer)
        settled()
        reader.max = LINK_MAX_FRAME
        this.incoming.add(socket)
        socket.write(READY_FRAME)
      }
    }
    socket.on('data', (chunk: Buffer) => {
      if (state === 'refused') return
      try {
        reader.push(chunk, onFrame)
      } catch (error) {
        refuse((error as Error).message)
      }
    })
  }

  /** Leaving: the links are ended once what they hold is written, and the listener closed. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const o of this.out.values()) {
      o.stopped = true
      o.socket?.end()
    }
    this.out.clear()
    for (const s of this.incoming) s.destroy()
    this.server?.close()
    this.refusals.close()
  }
}

/** The listening host, or for one that listens on every interface, this machine's first non-loopback IPv4 address. */
function advertisedHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address
  return hostname()
}

function show(a: LinkAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}
