import {Flags} from '@oclif/core'
import {connect, type MqttClient} from '../client/index.js'
import {ClientCommand} from '../cli/common/client-command.js'
import {toCliError} from '../cli/common/client-errors.js'
import {connectionOptions} from '../cli/common/connection.js'
import {CliError, ExitCode} from '../cli/common/exit-codes.js'
import {connectionFlags, qosFlag, retainFlag, topicFlag} from '../cli/common/flags.js'
import {parseProperties} from '../cli/common/properties.js'
import {messageSource, type OutMessage} from '../cli/pub/source.js'
import {Publisher} from '../cli/pub/publisher.js'
import {parseBackoff, reconnector, withReconnectDefault} from '../cli/common/reconnect.js'
import {tracePacket} from '../cli/common/trace.js'

const SOURCES = ['message', 'file', 'stdin-file', 'stdin-line', 'null-message', 'stdin-json']
const others = (name: string) => SOURCES.filter((s) => s !== name)

export default class Pub extends ClientCommand {
  static override summary = 'Publish messages (mosquitto_pub\'s flags, with exit codes for scripts)'
  static override description = `Publishes one message (-m, -f, -s, -n), one per stdin line (-l), or NDJSON messages from stdin (--stdin-json, the schema \`sub --json\` prints: topic, payload, encoding, qos, retain, properties), all on one connection, in order. MQTT v5 by default.

--reconnect[=BACKOFF] keeps a long stream going across lost connections: unacknowledged QoS 1/2 messages are published again (at least once), each reconnect is logged on stderr.

Exit codes: 0 all published (QoS 1/2: acknowledged); 1-5 / 128-162 the broker refused the connection (its CONNACK code); 2 bad usage or input; 10 unreadable file; 11 broker unreachable; 12 connection lost; 13 a publish was refused (PUBACK/PUBREC reason >= 0x80).`

  static override usage = 'pub -t TOPIC {-m MESSAGE | -f FILE | -s | -l | -n | --stdin-json} [-q 0|1|2] [-r] [CONNECTION FLAGS]'

  static override examples = [
    {command: '<%= config.bin %> pub -t sensors/1 -m 21.5 -q 1', description: 'Publish one message, wait for the PUBACK'},
    {command: 'seq 1000 | <%= config.bin %> pub -t counter -l', description: 'One message per line'},
    {command: 'MIDGE_PASSWORD=s3cret <%= config.bin %> pub -L mqtt://alice@broker/alerts -f alert.json -r', description: 'Password from the environment, topic from the URL'},
    {command: '<%= config.bin %> sub -t \'#\' --json -C 10 | <%= config.bin %> pub --stdin-json -h other-broker', description: 'Copy ten messages to another broker'},
  ]

  static override flags = {
    ...connectionFlags(),
    topic: topicFlag('Topic to publish to'),
    message: Flags.string({char: 'm', helpValue: 'MESSAGE', description: 'Payload', exclusive: others('message')}),
    file: Flags.string({char: 'f', helpValue: 'FILE', description: 'Send the whole file as the payload', exclusive: others('file')}),
    'stdin-file': Flags.boolean({char: 's', description: 'Send all of stdin as one payload', exclusive: others('stdin-file')}),
    'stdin-line': Flags.boolean({char: 'l', description: 'Send each stdin line as a message', exclusive: others('stdin-line')}),
    'null-message': Flags.boolean({char: 'n', description: 'Send an empty payload', exclusive: others('null-message')}),
    'stdin-json': Flags.boolean({description: 'Send each stdin line, an NDJSON message with its own topic, qos, retain, properties', exclusive: others('stdin-json')}),
    qos: qosFlag(),
    retain: retainFlag('Retain the message'),
    repeat: Flags.integer({min: 1, default: 1, helpValue: 'N', description: 'Publish the message this many times'}),
    'repeat-delay': Flags.custom<number>({parse: async (s) => seconds(s)})({default: 0, helpValue: 'SECONDS', description: 'Wait between repeats'}),
    reconnect: Flags.string({helpValue: 'BACKOFF', description: 'After a lost connection, connect again and publish again every QoS 1/2 message not yet acknowledged, instead of exiting 12 (for -l and --stdin-json streams). BACKOFF: MIN..MAX seconds, doubling (default 0.5..30, also what a bare --reconnect means), or SECONDS; a value goes after "="'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Pub, withReconnectDefault(this.withOptionsFile('pub', Pub.flags)))
    const backoff = flags.reconnect === undefined ? undefined : parseBackoff(flags.reconnect)
    const props = parseProperties(flags.property)
    const {options, urlTopic} = await connectionOptions(flags, props)
    const source = await messageSource(flags, flags.topic ?? urlTopic, props.publish)
    if (flags.debug) options.trace = tracePacket
    const client = await connect(options).catch((error: unknown) => { throw toCliError(error) })
    const warn = (line: string) => flags.quiet || process.stderr.write(`midge pub: ${line}\n`)
    const publisher = new Publisher(client, backoff && reconnector(options, backoff, client, warn))
    let failure: unknown
    try {
      if (backoff) { // a lost connection is the publisher's to replace
        await send(publisher, source)
        await publisher.flush()
      } else {
        await Promise.race([send(publisher, source), lost(client)])
        await Promise.race([publisher.flush(), lost(client)])
      }
    } catch (error) {
      failure = error
    }
    await publisher.close(props.disconnect)
    if (failure) throw toCliError(failure)
    const refusal = publisher.describeRefusal()
    if (refusal) throw new CliError(refusal, ExitCode.PublishRefused)
  }

}

async function send(publisher: Publisher, source: AsyncIterable<OutMessage>): Promise<void> {
  for await (const m of source) await publisher.publish(m.topic, m.payload, m.qos, m.retain, m.properties)
}

/** Rejects when the connection ends before we end it (never resolves otherwise). */
function lost(client: MqttClient): Promise<never> {
  return client.closed.then((error) => { throw error ?? new Error('connection closed') })
}

function seconds(text: string): number {
  const n = Number(text)
  if (!Number.isFinite(n) || n < 0) throw new Error(`'${text}' is not a number of seconds`)
  return n
}
