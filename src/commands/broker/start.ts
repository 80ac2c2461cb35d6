import {MidgeCommand} from '../../cli/common/base-command.js'
import {brokerOptionsFromFlags} from '../../cli/broker/config.js'
import {pluginSpecs} from '../../cli/broker/plugins.js'
import {brokerFlags} from '../../cli/broker/flags.js'
import {bridgeFlags} from '../../cli/broker/bridge-flags.js'
import {bridgeSettings} from '../../cli/broker/bridges.js'
import {prepareBroker, serveBroker, StartInterrupted, type ServeSettings} from '../../cli/broker/serve-broker.js'
import {readMosquittoConf, resolveBrokerSettings} from '../../cli/broker/settings.js'
import {CliError, ExitCode} from '../../cli/common/exit-codes.js'
import {createLogger} from '../../cli/common/logger.js'
import {shutdownSignal} from '../../cli/common/signals.js'
import {isWorkersPrimary, reportListening, runWorkers, workerCount, workerNodeId, WORKERS_NEED_REDIS} from '../../cli/broker/workers.js'
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
    const settings: ServeSettings = {
      ...resolveBrokerSettings(flags, brokerOptionsFromFlags(flags), file?.config),
      plugins: pluginSpecs(flags, file?.config.plugins),
      pluginTimeoutMs: flags['plugin-timeout'],
      persistenceSync: flags['persistence-sync'],
      version: this.config.version,
      warnings: file?.warnings,
      bridges: () => bridgeSettings(file?.config.bridges, flags, process.env),
    }
    const log = await createLogger(settings.logLevel, settings.logDest).catch((error: Error) => {
      throw new CliError(`cannot open the log file: ${error.message}`, ExitCode.BrokerStartFailed)
    })
    if (flags.workers !== undefined && !flags['test-config']) {
      const count = workerCount(flags.workers)
      if (settings.cluster === undefined) throw new CliError(WORKERS_NEED_REDIS, ExitCode.BrokerStartFailed)
      if (isWorkersPrimary(flags.workers)) return runWorkers(count, log, (lines) => this.announce(lines, flags), settings.shutdownTimeoutMs + 5000)
      settings.cluster.nodeId = workerNodeId(settings.cluster.nodeId)
    }
    if (flags['test-config']) {
      const {bridges} = await prepareBroker(settings, log)
      const n = settings.listeners.length
      const b = bridges.length === 0 ? '' : `, ${bridges.length} bridge${bridges.length === 1 ? '' : 's'} (${bridges.map((s) => s.input.name).join(', ')})`
      this.log(`configuration OK: ${n} listener${n === 1 ? '' : 's'} (${settings.listeners.map((l) => `${l.spec.protocol}://${l.spec.host}:${l.spec.port}`).join(', ')})${b}`)
      return
    }
    const {signal, dispose} = shutdownSignal()
    try {
      const served = await serveBroker(settings, {signal, logger: log}).catch((error: unknown) => {
        if (!(error instanceof StartInterrupted)) throw error
        log.info({signal: signal.reason}, error.message)
      })
      if (served === undefined) return
      try {
        // a worker of --workers tells the primary, which announces once all workers listen
        if (!reportListening(served.announcements)) await this.announce(served.announcements, flags)
      } catch (error) {
        await served.close().catch(() => undefined)
        throw error
      }
      await served.closed
    } finally {
      dispose()
    }
  }

  /** The ready file and the "listening on" lines (--json: the listeners as JSON lines). */
  private async announce(lines: Array<Record<string, unknown>>, flags: {'ready-file'?: string; json?: boolean}): Promise<void> {
    if (flags['ready-file']) await writeFileAtomic(flags['ready-file'], lines.map((l) => JSON.stringify(l) + '\n').join(''), {mode: 0o644})
    for (const l of lines) this.log(flags.json ? JSON.stringify(l) : `listening on ${String(l.url)}`)
  }
}
