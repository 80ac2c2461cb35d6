// `broker start` as a library call: from resolved settings to a running broker (authentication, plugins,
// Dynamic Security, certificates, store and restore, listeners, HTTP endpoint, bridges, SIGHUP reload)
// and, when the signal aborts, a shutdown bounded in time. The command parses flags, prints and maps
// errors to exit codes; tests call serveBroker in-process for a broker configured as the command would.
import type {Logger} from 'pino'
import {createBroker, type AuthHooks, type Broker, type Dynsec, type OpsServer, type PluginChain, type PluginSpec, type TlsOptions} from '../../index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {brokerAuthFromFlags, reloadOnHangup, type BrokerAuth} from './auth.js'
import type {BridgeSetting} from './bridges.js'
import {checkExposure, openBrokerStore} from './config.js'
import type {ConfDiagnostic} from './mosquitto-conf.js'
import {guardProcess} from './crash-guard.js'
import {loadDynsec, withDynsec} from './dynsec.js'
import {perListenerAuth, type ListenerAuth} from './listener-auth.js'
import {BrokerLog} from './log.js'
import {loadBrokerPlugins} from './plugins.js'
import {announcement, httpUrl, loadAllTls, openListeners, openOps, refuseEveryone, reloadCertificates, shutdownWithin, type OpenListener} from './serve.js'
import type {BrokerSettings} from './settings.js'
import {capYoungGeneration} from './young-generation.js'
import {serialScavenges} from './scavenges.js'
import type {ClusterNode, StartedClusterNode} from '../../cluster/index.js'

/** BrokerSettings and what the command resolved besides them (plugins, bridges, file warnings). */
export interface ServeSettings extends BrokerSettings {
  plugins?: readonly PluginSpec[]
  pluginTimeoutMs?: number
  /** Or a function that reads them, called after every other file was read (as `broker start` did). */
  bridges?: readonly BridgeSetting[] | (() => Promise<readonly BridgeSetting[]>)
  persistenceSync?: 'full' | 'normal'
  /** The version the broker announces ($SYS/broker/version). */
  version?: string
  /** The configuration file's warnings (unknown options), logged with their file and line. */
  warnings?: readonly ConfDiagnostic[]
}

export interface ServeOptions {
  /** Aborting it shuts the broker down (what SIGINT and SIGTERM do in `broker start`). */
  signal: AbortSignal
  logger: Logger
  /**
   * Process-wide duties (default true): reload on SIGHUP, log and survive uncaught errors (exit 1 when
   * the store failed), cap V8's young generation. In-process tests turn them off and call reload().
   */
  process?: boolean
}

/** Everything read and checked before a port is opened (what --test-config checks). */
export interface PreparedBroker {
  settings: ServeSettings
  log: Logger
  brokerLog: BrokerLog
  auth?: BrokerAuth | ListenerAuth
  dynsec?: Dynsec
  chain?: PluginChain
  hooks?: AuthHooks
  tls: Array<TlsOptions | undefined>
  bridges: readonly BridgeSetting[]
}

export interface ServedBroker {
  broker: Broker
  /** The cluster this broker is a node of (--cluster). */
  cluster?: ClusterNode
  listeners: OpenListener[]
  ops?: OpsServer
  /** One object per listener (then the HTTP endpoint): what `broker start` prints and writes to --ready-file. */
  announcements: Array<Record<string, unknown>>
  /** Re-reads the password file, ACL, plugins' files and certificates (what SIGHUP does). */
  reload(): Promise<void>
  /** Shuts down (as an aborted signal does); resolves when done, rejects (exit 1) after shutdownTimeoutMs. */
  close(): Promise<void>
  /** Settles when the broker has shut down, as close() does. */
  closed: Promise<void>
}

/** Reads and checks every file (authentication, plugins, Dynamic Security, certificates). Throws CliError (exit 17). */
export async function prepareBroker(settings: ServeSettings, log: Logger): Promise<PreparedBroker> {
  const {auth: authSettings} = settings
  const plugins = settings.plugins ?? []
  // refusing everyone (Mosquitto's allow_anonymous false without a password file) exposes nothing
  for (const l of settings.listeners) {
    const a = l.auth ?? {...authSettings, refuseEveryone: settings.refuseEveryone}
    if (!a.refuseEveryone) checkExposure(l.spec.host ?? '127.0.0.1', a['allow-anonymous'], a['password-file'] !== undefined || authSettings.dynsec !== undefined || l.tls?.requireCertificate === true || plugins.length > 0)
  }
  for (const w of settings.warnings ?? []) log.warn({file: w.file, line: w.line}, w.message)
  for (const note of settings.notes) log.info(note)
  const brokerLog = new BrokerLog(log)
  // per_listener_settings: each listener's own files; otherwise one set for the whole broker
  const listenerAuth = await perListenerAuth(settings.listeners, log, brokerLog.denial)
  const fileAuth = listenerAuth === undefined ? await brokerAuthFromFlags(authSettings, log, brokerLog.denial) : undefined
  const dynsec = authSettings.dynsec === undefined ? undefined : await loadDynsec(authSettings.dynsec, log)
  if (dynsec !== undefined && listenerAuth !== undefined) {
    throw new CliError('Dynamic Security cannot be combined with authentication per listener (per_listener_settings, listener_allow_anonymous): it applies to every listener', ExitCode.BrokerStartFailed)
  }
  const auth = listenerAuth ?? fileAuth
  // Dynamic Security first, then the password file and ACL, as in Mosquitto
  const fileHooks = dynsec !== undefined ? withDynsec(dynsec, fileAuth?.hooks, authSettings['allow-anonymous'], brokerLog.denial)
    : listenerAuth?.hooks ?? (settings.refuseEveryone ? refuseEveryone(auth?.hooks) : auth?.hooks)
  // when no plugin decides a login: Dynamic Security and the password file (per listener: the listener's own settings), else refused
  const chain = await loadBrokerPlugins(plugins, {'plugin-timeout': settings.pluginTimeoutMs}, log, {fallback: fileHooks,
    passwordFile: listenerAuth !== undefined || dynsec !== undefined || authSettings['password-file'] !== undefined, allowAnonymous: authSettings['allow-anonymous']})
  const tls = await loadAllTls(settings.listeners)
  const bridges = typeof settings.bridges === 'function' ? await settings.bridges() : settings.bridges ?? []
  return {settings, log, brokerLog, auth, dynsec, chain, hooks: chain?.hooks ?? fileHooks, tls, bridges}
}

/**
 * Prepares (see prepareBroker), then opens the store, restores it, opens the listeners, the HTTP
 * endpoint and the bridges, and resolves once all are up. A failure on the way closes what was opened
 * and rejects with a CliError (exit 17 for a port or bridge that cannot be opened).
 */
export async function serveBroker(settings: ServeSettings, options: ServeOptions): Promise<ServedBroker> {
  return startPrepared(await prepareBroker(settings, options.logger), options)
}

async function startPrepared(p: PreparedBroker, {signal, logger: log, process: processWide = true}: ServeOptions): Promise<ServedBroker> {
  const {settings, brokerLog, chain, dynsec, auth} = p
  const uncapYoungGeneration = processWide ? capYoungGeneration() : () => {}
  const parallelScavenges = processWide ? serialScavenges() : () => {}
  // --cluster: sessions in Redis (the store and directory exist before the broker); ioredis and src/cluster load only then
  const node = settings.cluster ? await startNode(settings, log, signal) : undefined
  const store = node?.store ?? await openBrokerStore({persistence: settings.persistence, file: settings.persistenceFile, 'persistence-sync': settings.persistenceSync})
  const broker = createBroker({...settings.engine, ...(settings.version === undefined ? {} : {version: settings.version}), logger: log, auth: p.hooks,
    authenticators: chain?.authenticators, store, ...(node ? {sessions: node.sessions} : {})})
  brokerLog.attach(broker)
  chain?.attach(broker)
  dynsec?.attach(broker)
  const unguard = processWide ? guardProcess(log) : () => {}
  let listeners: OpenListener[] = []
  let ops: OpsServer | undefined
  let cluster: ClusterNode | undefined
  const reload = async () => {
    if (auth) await auth.reload(broker)
    else if (!chain) log.info('no password or ACL file to reload')
    await chain?.reload()
    await reloadCertificates(listeners, log)
  }
  const stopReloading = processWide ? reloadOnHangup(reload, log) : () => {}
  let closing: Promise<void> | undefined
  let settleClosed: (done: Promise<void>) => void = () => undefined
  const closed = new Promise<void>((resolve, reject) => { settleClosed = (done) => { done.then(resolve, reject) } })
  closed.catch(() => undefined) // a failed shutdown is the caller's to see, through close() or closed
  const close = (): Promise<void> => {
    closing ??= (async () => {
      signal.removeEventListener('abort', onAbort)
      stopReloading()
      unguard()
      uncapYoungGeneration()
      parallelScavenges()
      try {
        await shutdownWithin(settings.shutdownTimeoutMs, [async () => { await cluster?.close(); await (node ? node.closeBroker(broker) : broker.close()); await node?.close() }, async () => chain?.stop(), async () => ops?.close(), async () => store?.close()], log)
      } finally {
        brokerLog.close()
      }
    })()
    settleClosed(closing)
    return closing
  }
  const onAbort = () => {
    log.info({signal: signal.reason}, 'shutting down')
    close().catch(() => undefined) // the failure is reported through closed
  }
  try {
    await broker.restore()
    if (node) cluster = await node.join(broker)
    listeners = await openListeners(broker, settings.listeners, p.tls)
    if (settings.http) ops = await openOps(broker, settings.http)
    for (const b of p.bridges) {
      await broker.addBridge(b.input).catch((error: Error) => {
        throw new CliError(`${b.origin}: ${error.message}`, ExitCode.BrokerStartFailed)
      })
    }
  } catch (error) {
    await close().catch(() => undefined)
    throw error
  }
  const announcements = listeners.map(({listener}) => announcement(listener.spec.protocol, listener.address(), listener.url))
  if (ops) announcements.push(announcement('http', ops.address(), httpUrl(ops)))
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, {once: true})
  return {broker, cluster, listeners, ops, announcements, reload, close, closed}
}

/** --cluster: this node's store and session directory in Redis; --persistence is ignored (logged). Exit 17 without Redis. */
async function startNode(settings: ServeSettings, log: Logger, signal: AbortSignal): Promise<StartedClusterNode> {
  if (settings.persistence !== undefined) log.warn(`--persistence ${settings.persistence} is ignored with --cluster: sessions are stored in Redis`)
  const {startClusterNode} = await import('../../cluster/index.js')
  try {
    return await startClusterNode({...settings.cluster!, logger: log, signal})
  } catch (error) {
    // SIGINT or SIGTERM while waiting for Redis: a stop asked for, not a failed start
    if (signal.aborted) throw new StartInterrupted(`shutting down (${String(signal.reason)}) before the start finished, while waiting for Redis`)
    throw new CliError(`--cluster: ${(error as Error).message}`, ExitCode.BrokerStartFailed)
  }
}

/** SIGINT or SIGTERM stopped `broker start` before it served (exit 0, as a stop after it does; the message is the one line to log). */
export class StartInterrupted extends Error {}
