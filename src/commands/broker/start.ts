import {createBroker} from '../../broker/broker.js'
import {MidgeCommand} from '../../cli/base-command.js'
import {brokerAuthFromFlags, reloadOnHangup} from '../../cli/broker-auth.js'
import {brokerOptionsFromFlags, checkExposure, openBrokerStore} from '../../cli/broker-config.js'
import {brokerFlags} from '../../cli/broker-flags.js'
import {logBrokerEvents} from '../../cli/broker-log.js'
import {CliError, ExitCode} from '../../cli/exit-codes.js'
import {createLogger} from '../../cli/logger.js'
import {aborted, shutdownSignal} from '../../cli/signals.js'
import {writeFileAtomic} from '../../passwd/atomic-write.js'

export default class BrokerStart extends MidgeCommand {
  static override summary = 'Start an MQTT broker (MQTT 3.1, 3.1.1 and 5.0 on one listener).'
  static override description = `Runs until SIGINT or SIGTERM, then tells v5 clients "server shutting down" (0x8B) and exits 0.
When a listener is ready it prints "listening on mqtt://HOST:PORT" to stdout (or JSON with --json).
Anonymous clients are allowed on loopback; binding to another address needs authentication or --allow-anonymous.
With --password-file and --acl-file, a file that cannot be read or parsed stops the start (exit 17); SIGHUP re-reads
both, and a bad file is logged while the previous ones stay in force.`

  static override examples = [
    {command: '<%= config.bin %> <%= command.id %>', description: 'A local broker on 127.0.0.1:1883'},
    {command: '<%= config.bin %> <%= command.id %> --port 0 --json --ready-file /tmp/broker.json', description: 'Any free port; scripts read the port from the ready file'},
    {command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --allow-anonymous', description: 'Reachable from other hosts, without authentication'},
    {command: '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --password-file passwd --acl-file acl', description: 'Clients log in; topics are restricted (kill -HUP re-reads both files)'},
    {command: '<%= config.bin %> <%= command.id %> --max-qos 1 --no-retain-available --log-level debug', description: 'Announce and enforce limits'},
    {command: '<%= config.bin %> <%= command.id %> --persistence /var/lib/midge', description: 'Sessions, queued QoS 1/2 messages and retained messages survive restarts and kill -9'},
  ]

  static override flags = brokerFlags()

  async run(): Promise<void> {
    const {flags} = await this.parse(BrokerStart)
    checkExposure(flags.host, flags['allow-anonymous'], flags['password-file'] !== undefined)
    const log = await createLogger(flags['log-level'])
    const auth = await brokerAuthFromFlags(flags, log)
    const store = await openBrokerStore(flags)
    const broker = createBroker({...brokerOptionsFromFlags(flags), logger: log, auth: auth?.hooks, store})
    logBrokerEvents(broker, log)
    const {signal, dispose} = shutdownSignal()
    const stopReloading = reloadOnHangup(auth ? () => auth.reload(broker) : async () => log.info('no password or ACL file to reload'), log)
    try {
      await broker.restore()
      const address = await broker.listen({host: flags.host, port: flags.port}).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(listenError(error, flags.host, flags.port), ExitCode.BrokerStartFailed)
      })
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      const listener = {event: 'listening', protocol: 'mqtt', host: address.address, port: address.port, url: `mqtt://${host}:${address.port}`}
      if (flags['ready-file']) await writeFileAtomic(flags['ready-file'], JSON.stringify(listener) + '\n', {mode: 0o644})
      this.log(flags.json ? JSON.stringify(listener) : `listening on ${listener.url}`)
      await aborted(signal)
      log.info({signal: signal.reason}, 'shutting down')
      await broker.close()
    } finally {
      stopReloading()
      dispose()
      await store?.close()
    }
  }
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): string {
  if (error.code === 'EADDRINUSE') return `port ${port} on ${host} is already in use`
  if (error.code === 'EACCES') return `permission denied to listen on ${host}:${port}`
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return `cannot bind to ${host}: no such local address`
  return `cannot listen on ${host}:${port}: ${error.message}`
}
