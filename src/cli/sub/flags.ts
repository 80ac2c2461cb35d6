// The flags of `sub` beyond the connection: mosquitto_sub's, plus JSON output and assertions.
import {Flags} from '@oclif/core'
import {shown, validateTopicFilter} from '../../client/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {qosFlag, topicsFlag} from '../common/flags.js'

const OUTPUT = 'OUTPUT'
const EXPECT = 'ASSERTION'

const seconds = Flags.custom<number>({
  helpValue: 'SECONDS',
  parse: async (s) => {
    const n = Number(s)
    if (!(n > 0)) throw new Error(`'${s}' is not a positive number of seconds`)
    return n
  },
})

export function subFlags() {
  return {
    topic: topicsFlag('Topic filter to subscribe to (repeatable)'),
    'filter-out': Flags.string({char: 'T', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER', description: 'Do not print topics matching FILTER (repeatable)'}),
    unsubscribe: Flags.string({char: 'U', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER', description: 'Unsubscribe from FILTER (repeatable)'}),
    qos: qosFlag('QoS of the subscriptions'),
    count: Flags.integer({char: 'C', min: 1, helpValue: 'N', description: 'Exit after this many messages', exclusive: ['expect-count']}),
    timeout: seconds({char: 'W', description: 'Exit 27 if still running after this long (assertions: the time allowed)'}),
    'exit-after-subscribe': Flags.boolean({char: 'E', description: 'Exit once the subscriptions are acknowledged'}),
    'skip-retained': Flags.boolean({char: 'R', description: 'Do not print retained (stale) messages'}),
    'retained-only': Flags.boolean({description: 'Print only retained messages; exit at the first live one', exclusive: ['skip-retained']}),
    'remove-retained': Flags.boolean({description: 'Clear each retained message received (with -T to spare some)'}),
    'retain-as-published': Flags.boolean({description: 'v5: keep the retain flag as published'}),
    'retain-handling': Flags.integer({min: 0, max: 2, default: 0, helpValue: '0|1|2', description: 'v5: 0 send retained messages, 1 only for new subscriptions, 2 never'}),
    'no-local': Flags.boolean({description: 'v5: do not receive our own publishes'}),
    reconnect: Flags.string({helpValue: 'BACKOFF', description: 'After a lost connection, connect again (resubscribing; with -c the session resumes) instead of exiting 12. BACKOFF: MIN..MAX seconds, doubling (default 0.5..30, also what a bare --reconnect means), or SECONDS; a value goes after "="'}),
    'partial-ok': Flags.boolean({description: 'Exit 14 only if every subscription is refused (warn about the others)'}),
    verbose: Flags.boolean({char: 'v', helpGroup: OUTPUT, description: 'Print "topic payload"'}),
    'no-eol': Flags.boolean({char: 'N', helpGroup: OUTPUT, description: 'No end of line after each message'}),
    format: Flags.string({char: 'F', helpGroup: OUTPUT, helpValue: 'FORMAT', exclusive: ['json'],
      description: 'mosquitto_sub format: %t topic, %p payload, %j JSON, %x hex, @H:@M:@S time, \\n ... (see mosquitto_sub(1))'}),
    pretty: Flags.boolean({helpGroup: OUTPUT, description: 'Pretty-print the JSON of %j and %J'}),
    json: Flags.boolean({helpGroup: OUTPUT, description: 'One JSON object per message and line: topic, payload (base64 with "encoding" if not UTF-8), qos, retain, dup, messageId, properties, receivedAt'}),
    'random-filter': Flags.custom<number>({parse: async (s) => {
      const n = Number(s)
      if (!(n >= 0 && n <= 100)) throw new Error(`'${s}' is not a percentage (0-100)`)
      return n
    }})({helpGroup: OUTPUT, helpValue: 'PERCENT', description: 'Print only this share of the messages'}),
    'expect-count': Flags.integer({helpGroup: EXPECT, min: 1, helpValue: 'N', description: 'Exit 0 once N messages arrived; 15 if -W runs out first'}),
    'expect-payload': Flags.string({helpGroup: EXPECT, multiple: true, multipleNonGreedy: true, helpValue: 'PAYLOAD', description: 'The next message must be PAYLOAD (repeat for a sequence)'}),
    'expect-match': Flags.string({helpGroup: EXPECT, helpValue: 'REGEX', description: 'Every message payload must match REGEX'}),
    'expect-retained': Flags.boolean({helpGroup: EXPECT, allowNo: true, description: 'Every message must be retained (--no-expect-retained: live)'}),
    'expect-none': Flags.boolean({helpGroup: EXPECT, description: 'Exit 0 if nothing arrives within -W, 15 at the first message'}),
  }
}

export function subscriptionTopics(f: {topic?: string[]; unsubscribe?: string[]; 'filter-out'?: string[]}, urlTopic: string | undefined) {
  const topics = f.topic ?? (urlTopic === undefined ? [] : [urlTopic])
  const unsubscribe = f.unsubscribe ?? []
  const filterOut = f['filter-out'] ?? []
  if (topics.length === 0 && unsubscribe.length === 0) throw new CliError('a topic is needed: -t FILTER (or -U FILTER to unsubscribe)', ExitCode.Usage)
  for (const [flag, list] of [['-t', topics], ['-U', unsubscribe], ['-T', filterOut]] as const) {
    for (const filter of list) {
      const invalid = validateTopicFilter(filter)
      if (invalid) throw new CliError(`invalid topic filter ${shown(filter)} (${flag}): ${invalid}`, ExitCode.Usage)
    }
  }
  return {topics, unsubscribe, filterOut}
}
