import {createBroker} from '../../broker/broker.js'
import {MidgeCommand} from '../../cli/common/base-command.js'
import {brokerAuthFromFlags, reloadOnHangup} from '../../cli/broker/auth.js'
import {brokerOptionsFromFlags, checkExposure, openBrokerStore} from '../../cli/broker/config.js'
import {loadBrokerPlugins, pluginSpecs} from '../../cli/broker/plugins.js'
import {loadDynsec, withDynsec} from '../../cli/broker/dynsec.js'
import {brokerFlags} from '../../cli/broker/flags.js'
import {bridgeFlags} from '../../cli/broker/bridge-flags.js'
import {bridgeSettings} from '../../cli/broker/bridges.js'
import {BrokerLog} from '../../cli/broker/log.js'
import {announcement, httpUrl, loadAllTls, openListeners, openOps, refuseEveryone, reloadCertificates, shutdownWithin} from '../../cli/broker/serve.js'
import {readMosquittoConf, resolveBrokerSettings} from '../../cli/broker/settings.js'
import {guardProcess} from '../../cli/broker/crash-guard.js'
import {perListenerAuth} from '../../cli/broker/listener-auth.js'
import {CliError, ExitCode} from '../../cli/common/exit-codes.js'
import {createLogger} from '../../cli/common/logger.js'
import {aborted, shutdownSignal} from '../../cli/common/signals.js'
import {capYoungGeneration} from '../../cli/broker/young-generation.js'
import {isWorkersPrimary, runWorkers, workerCount, workerNodeId, WORKERS_NEED_REDIS} from '../../cli/broker/workers.js'
import type {OpsServer} from '../../broker/metrics-http.js'
import {writeFileAtomic} from '../../fs/atomic-write.js'

export default class BrokerStart extends MidgeCommand {
  static override summary = 'Start an MQTT broker (MQTT 3.1, 3.1.1 and 5.0) on one or more listeners: mqtt, mqtts, ws, wss.'
  static override description = `Runs until SIGINT or SIGTERM, then tells v5 clients "server shutting down" (0x8B), flushes persistence and exits 0
(1 when that takes longer than --shutdown-timeout). Each listener, once ready, prints "listening on URL" to stdout (one JSON
object per line with --json), then the HTTP endpoint of --http-port.
Settings come from flags, then MIDGE_* variables, then the Mosquitto configuration file of -c, then the defaults. Listener
flags (--port, --host, --listener, --ws-port) replace the file's listeners; the TLS flags and --max-connections apply to
every listener they fit. Anonymous clients are allowed on loopback; another address needs authentication (a password
file, or client certificates) or --allow-anonymous.
A file that cannot be read or parsed (configuration, certificate, password file, ACL) stops the start: exit 10 for an
unreadable -c file, 17 otherwise. SIGHUP re-reads the password file, the ACL and the certificates without dropping
connections; a bad file is logged and the previous one stays in force.
Bridges to other brokers (the connection sections of -c, or --bridge with --bridge-topic) start with the broker and
reconnect on their own; SIGHUP does not re-read them (as in Mosquitto).`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'A local broker on 127.0.0.1:1883'},
    {command: '<%= config.bin %> <%= command.id %> -c /etc/mosquitto/mosquitto.conf', description: 'Run an existing Mosquitto configuration (unknown options are warnings with their line)'},
    {command: '<%= config.bin %> <%= command.id %> -c mosquitto.conf --test-config', description: 'Check a configuration, its certificates, password file and ACL, and exit'},
    {command: '<%= config.bin %> <%= command.id %> --port 0 --json --ready-file /tmp/broker.json', description: 'Any free port; scripts read the port from the ready file'},
    {command: '<%= config.bin %> <%= command.id %> --listener mqtts://0.0.0.0:8883 --cert server.crt --key server.key --cafile ca.crt --require-certificate --use-identity-as-username', description: 'Mutual TLS: clients log in with certificates, whose CN is the user name for the ACL'},
    {command: '<%= config.bin %> <%= command.id %> --port 1883 --ws-port 8080 --http-port 9100', description: 'MQTT on 1883, MQTT over WebSockets on ws://127.0.0.1:8080/mqtt, /healthz and /metrics on 9100'},
    {command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --password-file passwd --acl-file acl', description: 'Clients log in; topics are restricted (kill -HUP re-reads both files)'},
    {command: 'MIDGE_AUTH_JWT_SECRET=... <%= config.bin %> <%= command.id %> --host 0.0.0.0 --auth-jwt-audience mqtt', description: 'Clients log in with a JWT as password; its acl claim lists their topics'},
    {command: '<%= config.bin %> <%= command.id %> --auth-http http://127.0.0.1:8080/mqtt/auth --plugin ./my-rules.mjs', description: 'An HTTP service decides who may connect, publish and subscribe; a plugin of your own is asked first'},
    {command: '<%= config.bin %> <%= command.id %> --max-qos 1 --no-retain-available --log-level debug', description: 'Announce and enforce limits'},
    {command: '<%= config.bin %> <%= command.id %> --persistence /var/lib/midge', description: 'Sessions, queued QoS 1/2 messages and retained messages survive restarts and kill -9'},
    {command: 'MIDGE_BRIDGE_PASSWORD=... <%= config.bin %> <%= command.id %> --bridge mqtt://edge@cloud.example:1883 --bridge-topic \'sensors/# out 1\' --persistence /var/lib/midge', description: 'Bridge sensors/# to another broker; QoS 1 messages wait (on disk) while it is down'},
  ]

  static override flags = {...brokerFlags(), ...bridgeFlags()}

  async run(): Promise<void> {
    const {flags} = await this.parse(BrokerStart)
    const file = flags.config === undefined ? undefined : await readMosquittoConf(flags.config)
    const settings = resolveBrokerSettings(flags, brokerOptionsFromFlags(flags), file?.config)
    const {auth: authSettings} = settings
    const log = await createLogger(settings.logLevel, settings.logDest).catch((error: Error) => {
      throw new CliError(`cannot open the log file: ${error.message}`, ExitCode.BrokerStartFailed)
    })
    const plugins = pluginSpecs(flags, file?.config.plugins)
    // refusing everyone (Mosquitto's allow_anonymous false without a password file) exposes nothing
    for (const l of settings.listeners) {
      const a = l.auth ?? {...authSettings, refuseEveryone: settings.refuseEveryone}
      if (!a.refuseEveryone) checkExposure(l.spec.host ?? '127.0.0.1', a['allow-anonymous'], a['password-file'] !== undefined || authSettings.dynsec !== undefined || l.tls?.requireCertificate === true || plugins.length > 0)
    }
    for (const w of file?.warnings ?? []) log.warn({file: w.file, line: w.line}, w.message)
    for (const note of settings.notes) log.info(note)
    if (flags.workers !== undefined && !flags['test-config']) {
      const count = workerCount(flags.workers)
      if (settings.cluster === undefined) throw new CliError(WORKERS_NEED_REDIS, ExitCode.BrokerStartFailed)
      if (isWorkersPrimary(flags.workers)) return runWorkers(count, log)
      settings.cluster.nodeId = workerNodeId(settings.cluster.nodeId)
    }
    const brokerLog = new BrokerLog(log)
    // per_listener_settings: each listener's own files; otherwise one set for the whole broker
    const listenerAuth = await perListenerAuth(settings.listeners, log, brokerLog.denial)
    const fileAuth = listenerAuth === undefined ? await brokerAuthFromFlags(authSettings, log, brokerLog.denial) : undefined
    const auth = listenerAuth ?? fileAuth
    const dynsec = authSettings.dynsec === undefined ? undefined : await loadDynsec(authSettings.dynsec, log)
    if (dynsec !== undefined && listenerAuth !== undefined) {
      throw new CliError('Dynamic Security cannot be combined with authentication per listener (per_listener_settings, listener_allow_anonymous): it applies to every listener', ExitCode.BrokerStartFailed)
    }
    // Dynamic Security first, then the password file and ACL, as in Mosquitto
    const fileHooks = dynsec !== undefined ? withDynsec(dynsec, fileAuth?.hooks, authSettings['allow-anonymous'], brokerLog.denial)
      : listenerAuth?.hooks ?? (settings.refuseEveryone ? refuseEveryone(auth?.hooks) : auth?.hooks)
    // when no plugin decides a login: Dynamic Security and the password file (per listener: the listener's own settings), else refused
    const chain = await loadBrokerPlugins(plugins, flags, log, {fallback: fileHooks,
      passwordFile: listenerAuth !== undefined || dynsec !== undefined || authSettings['password-file'] !== undefined, allowAnonymous: authSettings['allow-anonymous']})
    const tls = await loadAllTls(settings.listeners)
    const bridges = await bridgeSettings(file?.config.bridges, flags, process.env)
    if (flags['test-config']) {
      const n = settings.listeners.length
      const b = bridges.length === 0 ? '' : `, ${bridges.length} bridge${bridges.length === 1 ? '' : 's'} (${bridges.map((s) => s.input.name).join(', ')})`
      this.log(`configuration OK: ${n} listener${n === 1 ? '' : 's'} (${settings.listeners.map((l) => `${l.spec.protocol}://${l.spec.host}:${l.spec.port}`).join(', ')})${b}`)
      return
    }
    const uncapYoungGeneration = capYoungGeneration()
    const store = await openBrokerStore({persistence: settings.persistence, file: settings.persistenceFile, 'persistence-sync': flags['persistence-sync']})
    const broker = createBroker({...settings.engine, version: this.config.version, logger: log, auth: chain?.hooks ?? fileHooks,
      authenticators: chain?.authenticators, store})
    brokerLog.attach(broker)
    chain?.attach(broker)
    dynsec?.attach(broker)
    const unguard = guardProcess(log)
    const {signal, dispose} = shutdownSignal()
    let open: Awaited<ReturnType<typeof openListeners>> = []
    const stopReloading = reloadOnHangup(async () => {
      if (auth) await auth.reload(broker)
      else if (!chain) log.info('no password or ACL file to reload')
      await chain?.reload()
      await reloadCertificates(open, log)
    }, log)
    let ops: OpsServer | undefined
    let cluster: {close(): Promise<void>} | undefined
    try {
      await broker.restore()
      // --cluster: ioredis and src/cluster load only then
      cluster = settings.cluster && await (await import('../../cluster/index.js')).joinCluster(broker, {...settings.cluster, logger: log})
      open = await openListeners(broker, settings.listeners, tls)
      if (settings.http) ops = await openOps(broker, settings.http)
      for (const b of bridges) {
        await broker.addBridge(b.input).catch((error: Error) => {
          throw new CliError(`${b.origin}: ${error.message}`, ExitCode.BrokerStartFailed)
        })
      }
      const lines = open.map(({listener}) => announcement(listener.spec.protocol, listener.address(), listener.url))
      if (ops) lines.push(announcement('http', ops.address(), httpUrl(ops)))
      if (flags['ready-file']) await writeFileAtomic(flags['ready-file'], lines.map((l) => JSON.stringify(l) + '\n').join(''), {mode: 0o644})
      for (const l of lines) this.log(flags.json ? JSON.stringify(l) : `listening on ${l.url}`)
      await aborted(signal)
      log.info({signal: signal.reason}, 'shutting down')
    } finally {
      stopReloading()
      dispose()
      unguard()
      uncapYoungGeneration()
      await shutdownWithin(settings.shutdownTimeoutMs, [async () => { await cluster?.close(); await broker.close() }, async () => chain?.stop(), async () => ops?.close(), async () => store?.close()], log)
      brokerLog.close()
    }
  }
}
