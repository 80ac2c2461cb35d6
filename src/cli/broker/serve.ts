// `broker start` at run time: opens the listeners and the HTTP endpoint, says where they are,
// reloads certificates on SIGHUP, and shuts down within a bounded time.
import type {Logger} from 'pino'
import {engineOf} from '../../broker/internal.js'
import {serveOps, type AuthHooks, type Broker, type Listener, type OpsServer, type TlsOptions} from '../../index.js'
import {ReasonCode} from '../../codec/index.js'
import type {ListenerSetting} from './settings.js'
import {loadTls} from './settings.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

export interface OpenListener {
  setting: ListenerSetting
  listener: Listener
}

/** Reads every listener's TLS files first (so a bad file opens no port), then opens the listeners in order. */
export async function loadAllTls(settings: readonly ListenerSetting[]): Promise<Array<TlsOptions | undefined>> {
  return Promise.all(settings.map((s) => s.tls === undefined ? undefined : loadTls(s.tls, s.origin)))
}

export async function openListeners(broker: Broker, settings: readonly ListenerSetting[], tls: ReadonlyArray<TlsOptions | undefined>): Promise<OpenListener[]> {
  const out: OpenListener[] = []
  for (const [i, setting] of settings.entries()) {
    const {host = '127.0.0.1', port} = setting.spec
    await broker.listen({...setting.spec, tls: tls[i]}).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(listenError(error, host, port), ExitCode.BrokerStartFailed)
    })
    out.push({setting, listener: engineOf(broker).listeners.at(-1)!})
  }
  return out
}

export function listenError(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === 'EADDRINUSE') return `port ${port} on ${host} is already in use`
  if (error.code === 'EACCES') return `permission denied to listen on ${host}:${port}`
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return `cannot bind to ${host}: no such local address`
  return `cannot listen on ${host}:${port}: ${error.message}`
}

/** The /healthz and /metrics endpoint (--http-port). */
export async function openOps(broker: Broker, http: {host: string; port: number}): Promise<OpsServer> {
  const {listeners} = engineOf(broker)
  return serveOps({broker, listeners: () => listeners}, http).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`HTTP endpoint: ${listenError(error, http.host, http.port)}`, ExitCode.BrokerStartFailed)
  })
}

/** What `broker start` prints (and writes to --ready-file) for each listener: a sentence, or one JSON object a line. */
export function announcement(protocol: string, address: {address: string; port: number; family?: string}, url: string): Record<string, unknown> {
  return {event: 'listening', protocol, host: address.address, port: address.port, url}
}

export function httpUrl(ops: OpsServer): string {
  const a = ops.address()
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
}

/**
 * SIGHUP: re-reads every TLS listener's certificate, key, CA and CRL files and puts them in force
 * for new connections; open connections stay. A listener whose files are bad keeps its previous ones.
 */
export async function reloadCertificates(open: readonly OpenListener[], log: Logger): Promise<boolean> {
  let ok = true
  for (const {setting, listener} of open) {
    if (setting.tls === undefined) continue
    try {
      listener.setTls(await loadTls(setting.tls, setting.origin))
      log.info({listener: listener.url, certfile: setting.tls.certfile}, 'certificates reloaded')
    } catch (error) {
      ok = false
      log.error({listener: listener.url}, `certificate reload failed, keeping the previous ones: ${(error as Error).message}`)
    }
  }
  return ok
}

/** allow_anonymous false and no password file: Mosquitto refuses every client (certificate identities aside). */
export function refuseEveryone(hooks: AuthHooks | undefined): AuthHooks {
  return {...hooks, authenticate: () => ReasonCode.NotAuthorized}
}

/**
 * Closes everything, in order, within `timeoutMs`: a step still running then is abandoned and the
 * shutdown reported as failed (exit 1), so that a stuck peer or disk cannot hold the process.
 */
export async function shutdownWithin(timeoutMs: number, steps: ReadonlyArray<() => Promise<unknown>>, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs) })
  const run = (async () => {
    for (const step of steps) await step()
    return 'done' as const
  })()
  const outcome = await Promise.race([run, expired])
  clearTimeout(timer)
  if (outcome === 'timeout') {
    log.error({timeoutMs}, 'shutdown did not finish in time')
    throw new CliError(`shutdown did not finish within ${timeoutMs / 1000} s`, ExitCode.Failure)
  }
}
