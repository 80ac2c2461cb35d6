import {connect} from '../client/index.js'
import {ClientCommand} from '../cli/common/client-command.js'
import {toCliError} from '../cli/common/client-errors.js'
import {connectionOptions} from '../cli/common/connection.js'
import {CliError, ExitCode} from '../cli/common/exit-codes.js'
import {Expectations} from '../cli/sub/expectations.js'
import {connectionFlags} from '../cli/common/flags.js'
import {Printer} from '../cli/common/format/printer.js'
import {parseProperties} from '../cli/common/properties.js'
import {parseBackoff, reconnector, withReconnectDefault} from '../cli/common/reconnect.js'
import {shutdownSignal} from '../cli/common/signals.js'
import {subFlags, subscriptionTopics} from '../cli/sub/flags.js'
import {Subscriber} from '../cli/sub/subscriber.js'
import {tracePacket} from '../cli/common/trace.js'

export default class Sub extends ClientCommand {
  static override summary = 'Subscribe and print messages (mosquitto_sub\'s flags, with assertions for tests)'
  static override description = `Prints each message's payload (-v: "topic payload"; -F: mosquitto_sub's format language; --json: one JSON object per line). MQTT v5 by default. Runs until -C messages arrived, -W seconds passed, or SIGINT/SIGTERM.

Assertions (exit 15 with one line saying what came instead): --expect-count N, --expect-payload (repeatable, in order), --expect-match REGEX, --expect-retained / --no-expect-retained; each waits for its messages (-W bounds the wait). --expect-none -W S passes when nothing arrives for S seconds.

--reconnect[=BACKOFF] keeps running across lost connections (each reconnect is logged on stderr); without it a lost connection exits 12.

Exit codes: 0 done; 1-5 / 128-162 the broker refused the connection (its CONNACK code); 2 bad usage; 10 unreadable file; 11 broker unreachable; 12 connection lost; 14 a subscription was refused (with --partial-ok: all of them); 15 an expectation failed; 27 -W ran out.`

  static override usage = 'sub -t FILTER [-t FILTER...] [-v | -F FORMAT | --json] [-C N] [-W SECONDS] [--expect-...] [CONNECTION FLAGS]'

  static override examples = [
    {command: '<%= config.bin %> sub -t \'sensors/#\' -v', description: 'Print topic and payload of everything under sensors/'},
    {command: '<%= config.bin %> sub -t jobs/done -C 1 -W 10', description: 'Wait up to 10 s for one message (exit 27 if none)'},
    {command: '<%= config.bin %> sub -t status --expect-payload ready -W 5', description: 'Exit 0 only if the next message is "ready"'},
    {command: '<%= config.bin %> sub -t alarms/# --expect-none -W 3', description: 'Exit 0 only if no alarm comes within 3 s'},
    {command: '<%= config.bin %> sub -t \'#\' -F \'@H:@M:@S %t %p\'', description: 'mosquitto_sub -F formats work unchanged'},
    {command: '<%= config.bin %> sub -t \'#\' --json -C 100 > messages.ndjson', description: 'NDJSON for jq or `pub --stdin-json`'},
  ]

  static override flags = {...connectionFlags(), ...subFlags()}

  async run(): Promise<void> {
    const {flags} = await this.parse(Sub, withReconnectDefault(this.withOptionsFile('sub', Sub.flags)))
    const backoff = flags.reconnect === undefined ? undefined : parseBackoff(flags.reconnect)
    const props = parseProperties(flags.property)
    const {options, urlTopic} = await connectionOptions(flags, props)
    const {topics, unsubscribe, filterOut} = subscriptionTopics(flags, urlTopic)
    let printer: Printer
    try {
      printer = new Printer({format: flags.format, verbose: flags.verbose, eol: !flags['no-eol'], json: flags.json, pretty: flags.pretty,
        randomFilter: flags['random-filter'], err: flags.quiet ? undefined : process.stderr})
    } catch (error) {
      throw new CliError(`-F: ${(error as Error).message}`, ExitCode.Usage)
    }
    const expect = new Expectations(flags, flags.count, flags.timeout)
    if (flags.debug) options.trace = tracePacket
    const shutdown = shutdownSignal()
    const client = await connect(options).catch((error: unknown) => { shutdown.dispose(); throw toCliError(error) })
    const warn = (line: string) => flags.quiet || process.stderr.write(`midge sub: ${line}\n`)
    const subscriber = new Subscriber(client, printer, expect, {
      topics, unsubscribe, filterOut, qos: flags.qos as 0 | 1 | 2,
      subscription: {nl: flags['no-local'], rap: flags['retain-as-published'], rh: flags['retain-handling'] as 0 | 1 | 2},
      subscribeProperties: props.subscribe, unsubscribeProperties: props.unsubscribe,
      skipRetained: flags['skip-retained'], retainedOnly: flags['retained-only'], removeRetained: flags['remove-retained'],
      count: flags.count, exitAfterSubscribe: flags['exit-after-subscribe'], partialOk: flags['partial-ok'],
      timeoutSeconds: flags.timeout, warn, reconnect: backoff && reconnector(options, backoff, client, warn, shutdown.signal),
    })
    const closedPipe = new AbortController() // the reader went away (`sub | head -1`): stop quietly
    const onStdoutError = (error: NodeJS.ErrnoException) => closedPipe.abort(error)
    process.stdout.on('error', onStdoutError)
    try {
      const outcome = await subscriber.run(AbortSignal.any([shutdown.signal, closedPipe.signal])).catch((error: unknown) => { throw toCliError(error) })
      if (subscriber.client.connected) await subscriber.client.disconnect({properties: props.disconnect})
      if (outcome.code !== ExitCode.Success) throw new CliError(outcome.message ?? 'failed', outcome.code)
    } finally {
      subscriber.client.destroy()
      shutdown.dispose()
      process.stdout.off('error', onStdoutError)
    }
  }

}
