import {Flags} from '@oclif/core'
import {connect, validateTopicName} from '../client/index.js'
import {ClientCommand} from '../cli/common/client-command.js'
import {toCliError} from '../cli/common/client-errors.js'
import {connectionOptions} from '../cli/common/connection.js'
import {CliError, ExitCode} from '../cli/common/exit-codes.js'
import {connectionFlags, qosFlag, topicFlag} from '../cli/common/flags.js'
import {Printer} from '../cli/common/format/printer.js'
import {parseProperties} from '../cli/common/properties.js'
import {messageSource} from '../cli/pub/source.js'
import {Requester} from '../cli/rr/requester.js'
import {shutdownSignal} from '../cli/common/signals.js'
import {tracePacket} from '../cli/common/trace.js'

const SOURCES = ['message', 'file', 'stdin-file', 'null-message']
const others = (name: string) => SOURCES.filter((s) => s !== name)
const OUTPUT = 'OUTPUT'

export default class Rr extends ClientCommand {
  static override summary = 'Send a request and print the response (mosquitto_rr\'s flags)'
  static override description = `Subscribes to the response topic (-e), publishes the request to -t with MQTT v5's Response Topic and Correlation Data properties (random bytes unless -D publish correlation-data gives them), prints the first answer as \`sub\` would (-v, -F, --json) and exits. An answer that carries other Correlation Data is someone else's and is skipped. With -V 311 or 31 the request goes without properties, as mosquitto_rr's does.

Exit codes: 0 answered; 1-5 / 128-162 the broker refused the connection (its CONNACK code); 2 bad usage; 10 unreadable file; 11 broker unreachable; 12 connection lost; 13 the request was refused (PUBACK/PUBREC reason >= 0x80); 14 the subscription to the response topic was refused; 27 no answer within -W seconds.`

  static override usage = 'rr -t TOPIC -e RESPONSE_TOPIC {-m MESSAGE | -f FILE | -s | -n} [-q 0|1|2] [-W SECONDS] [-v | -F FORMAT | --json] [CONNECTION FLAGS]'

  static override examples = [
    {command: '<%= config.bin %> rr -t service/time -e reply/me -m now -W 5', description: 'Ask, print the answer, exit 27 if none comes within 5 s'},
    {command: '<%= config.bin %> rr -t db/query -e reply/db -f query.json --json', description: 'The answer as one JSON line, with its properties'},
  ]

  static override flags = {
    ...connectionFlags(),
    topic: topicFlag('Topic to send the request to'),
    'response-topic': Flags.string({char: 'e', helpValue: 'TOPIC', description: 'Topic to wait for the response on (subscribed to before the request goes)'}),
    message: Flags.string({char: 'm', helpValue: 'MESSAGE', description: 'Request payload', exclusive: others('message')}),
    file: Flags.string({char: 'f', helpValue: 'FILE', description: 'Send the whole file as the request', exclusive: others('file')}),
    'stdin-file': Flags.boolean({char: 's', description: 'Send all of stdin as the request', exclusive: others('stdin-file')}),
    'null-message': Flags.boolean({char: 'n', description: 'Send an empty request', exclusive: others('null-message')}),
    qos: qosFlag('QoS of the request and of the subscription'),
    timeout: Flags.custom<number>({parse: async (s) => positiveSeconds(s)})({char: 'W', helpValue: 'SECONDS', description: 'Exit 27 if no response came within this long'}),
    'skip-retained': Flags.boolean({char: 'R', description: 'A retained message on the response topic is not the answer'}),
    verbose: Flags.boolean({char: 'v', helpGroup: OUTPUT, description: 'Print "topic payload"'}),
    'no-eol': Flags.boolean({char: 'N', helpGroup: OUTPUT, description: 'No end of line after the response'}),
    format: Flags.string({char: 'F', helpGroup: OUTPUT, helpValue: 'FORMAT', exclusive: ['json'], description: 'mosquitto_sub format (see `sub --help`)'}),
    pretty: Flags.boolean({helpGroup: OUTPUT, description: 'Pretty-print the JSON of %j and %J'}),
    json: Flags.boolean({helpGroup: OUTPUT, description: 'The response as one JSON object, as `sub --json` prints it'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Rr, this.withOptionsFile('rr', Rr.flags))
    const props = parseProperties(flags.property)
    const {options, urlTopic} = await connectionOptions(flags, props)
    const topic = flags.topic ?? urlTopic
    const responseTopic = flags['response-topic']
    if (responseTopic === undefined) throw new CliError('a response topic is needed: -e TOPIC', ExitCode.Usage)
    const invalid = validateTopicName(responseTopic)
    if (invalid) throw new CliError(`invalid response topic '${responseTopic}': ${invalid}`, ExitCode.Usage)
    const source = await messageSource({...flags, 'stdin-line': false, 'stdin-json': false, repeat: 1, 'repeat-delay': 0}, topic, undefined)
    let request: {topic: string; payload: Buffer} | undefined
    for await (const m of source) request = m
    let printer: Printer
    try {
      printer = new Printer({format: flags.format, verbose: flags.verbose, eol: !flags['no-eol'], json: flags.json, pretty: flags.pretty, err: flags.quiet ? undefined : process.stderr})
    } catch (error) {
      throw new CliError(`-F: ${(error as Error).message}`, ExitCode.Usage)
    }
    if (flags.debug) options.trace = tracePacket
    const shutdown = shutdownSignal()
    const client = await connect(options).catch((error: unknown) => { shutdown.dispose(); throw toCliError(error) })
    const requester = new Requester(client, printer, {
      topic: request!.topic, payload: request!.payload, responseTopic, qos: flags.qos as 0 | 1 | 2, retain: false,
      properties: props.publish, subscribeProperties: props.subscribe, skipRetained: flags['skip-retained'], timeoutSeconds: flags.timeout,
    }, options.protocolVersion === 5)
    try {
      const outcome = await requester.run(shutdown.signal)
      if (client.connected) await client.disconnect({properties: props.disconnect})
      if (outcome.code !== ExitCode.Success) throw new CliError(outcome.message ?? 'failed', outcome.code)
    } finally {
      client.destroy()
      shutdown.dispose()
    }
  }
}

function positiveSeconds(text: string): number {
  const n = Number(text)
  if (!(n > 0)) throw new Error(`'${text}' is not a positive number of seconds`)
  return n
}
