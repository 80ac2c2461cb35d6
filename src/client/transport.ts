import {connect as netConnect, isIP, type Socket} from 'node:net'
import type {Duplex} from 'node:stream'
import {ConnectError} from './errors.js'
import type {TransportTarget} from './options.js'

const errnoWords: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ENOENT: 'no such socket',
  EACCES: 'permission denied',
}

/** Where the target is, in words: `host:port`, a socket path or a URL. */
export function describeTarget(t: TransportTarget): string {
  if (t.socketPath) return t.socketPath
  const host = isIP(t.host) === 6 ? `[${t.host}]` : t.host
  return t.scheme === 'ws' || t.scheme === 'wss' ? `${t.scheme}://${host}:${t.port}${t.wsPath}` : `${host}:${t.port}`
}

/** Turns a socket-level failure into a ConnectError with a one-line message. */
export function connectError(t: TransportTarget, error: Error & {code?: string}): ConnectError {
  // OpenSSL's messages are long and end in a newline: its reason alone ("sslv3 alert illegal parameter")
  const reason = (error as {reason?: string}).reason
  const words = (error.code && errnoWords[error.code]) ?? (error.code?.startsWith('ERR_SSL') && reason ? `TLS: ${reason}` : error.message.trim())
  return new ConnectError(`cannot connect to ${describeTarget(t)}: ${words}`, error.code, {cause: error})
}

/** Opens TCP, Unix socket, TLS or WebSocket (TLS and ws are loaded only when used). */
export async function openTransport(t: TransportTarget): Promise<Duplex> {
  if (t.scheme === 'ws' || t.scheme === 'wss') return openWebSocket(t)
  if (t.scheme === 'mqtts') return openTls(t)
  if (t.proxy) {
    const socket = await openProxied(t)
    socket.setNoDelay(t.noDelay)
    return socket
  }
  if (t.socketPath) {
    const socket = netConnect({path: t.socketPath})
    await settle(t, socket, 'connect')
    return socket
  }
  const socket = isLocalhost(t.host) ? await connectLoopback(t) : await connectTcp(t, t.host)
  socket.setNoDelay(t.noDelay)
  return socket
}

async function connectTcp(t: TransportTarget, host: string): Promise<Socket> {
  const socket = netConnect({host, port: t.port, localAddress: t.localAddress})
  await settle(t, socket, 'connect')
  return socket
}

/** 'localhost', the default host, names the loopback addresses (RFC 6761, 6.3). */
function isLocalhost(host: string): boolean {
  return /^localhost\.?$/i.test(host)
}

/**
 * Connects to localhost without asking the resolver: 127.0.0.1, then ::1 if nothing listens there.
 * Node resolves a host name only after testing it against its IPv6 pattern, a regular expression whose
 * first use costs some 10 ms of compilation, a sixth of what a whole `pub` costs (docs/benchmarks.md).
 */
async function connectLoopback(t: TransportTarget): Promise<Socket> {
  try {
    return await connectTcp(t, '127.0.0.1')
  } catch (error) {
    if (t.signal?.aborted) throw error
    return connectTcp(t, '::1')
  }
}

async function openTls(t: TransportTarget): Promise<Duplex> {
  const tls = await import('node:tls')
  const servername = isIP(t.host) ? undefined : t.host
  // a plain socket first when it must be bound or is a Unix socket; TLS then runs over it
  const socket = t.localAddress || t.socketPath || t.proxy ? await openTransport({...t, scheme: 'mqtt'}) as Socket : undefined
  const secure = tls.connect({host: t.host, port: t.port, servername, socket, ...t.tls})
  await settle(t, secure, 'secureConnect')
  secure.setNoDelay(t.noDelay)
  return secure
}

/** A TCP connection to the broker through a SOCKS5 proxy, which resolves the broker's name (socks5h). */
async function openProxied(t: TransportTarget): Promise<Socket> {
  const url = new URL(t.proxy!)
  const {SocksClient} = await import('socks') // loaded only for --proxy
  const connecting = SocksClient.createConnection({
    proxy: {host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 1080), type: 5,
      userId: url.username ? decodeURIComponent(url.username) : undefined, password: url.password ? decodeURIComponent(url.password) : undefined},
    command: 'connect', destination: {host: t.host, port: t.port},
  })
  const aborted = new Promise<never>((_resolve, reject) => {
    if (t.signal?.aborted) reject(abortReason(t.signal))
    t.signal?.addEventListener('abort', () => reject(abortReason(t.signal)), {once: true})
  })
  try {
    return (await Promise.race([connecting, aborted])).socket
  } catch (error) {
    void connecting.then(({socket}) => socket.destroy(), () => undefined)
    throw connectError(t, new Error(`through the proxy ${url.host}: ${(error as Error).message}`))
  }
}

async function openWebSocket(t: TransportTarget): Promise<Duplex> {
  const {WebSocket, createWebSocketStream} = await import('ws')
  const host = isIP(t.host) === 6 ? `[${t.host}]` : t.host
  const url = `${t.scheme}://${host}:${t.port}${t.wsPath}`
  const ws = new WebSocket(url, ['mqtt'], {...t.tls, localAddress: t.localAddress, perMessageDeflate: false})
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => { ws.terminate(); reject(connectError(t, abortReason(t.signal))) }
    t.signal?.addEventListener('abort', onAbort, {once: true})
    ws.once('open', () => { t.signal?.removeEventListener('abort', onAbort); resolve() })
    ws.once('error', (e) => { t.signal?.removeEventListener('abort', onAbort); reject(connectError(t, e)) })
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate()
      reject(connectError(t, new Error(`HTTP ${res.statusCode} from the WebSocket endpoint`)))
    })
  })
  return createWebSocketStream(ws)
}

function settle(t: TransportTarget, socket: Socket, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => { cleanup(); reject(connectError(t, e)) }
    const onAbort = () => { cleanup(); socket.destroy(); reject(connectError(t, abortReason(t.signal))) }
    const onOk = () => { cleanup(); resolve() }
    const cleanup = () => {
      socket.off('error', onError)
      socket.off(event, onOk)
      t.signal?.removeEventListener('abort', onAbort)
    }
    if (t.signal?.aborted) return onAbort()
    socket.once('error', onError)
    socket.once(event, onOk)
    t.signal?.addEventListener('abort', onAbort, {once: true})
  })
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  return reason instanceof Error ? reason : new Error('aborted')
}
