// The flags of `bench`, `bench conn`, `bench pub` and `bench sub`: emqtt-bench's letters for the load
// (-c -i -I -s -q -t -L -F -R -n), the connection and TLS flags of pub/sub (minus the letters emqtt-bench
// uses for something else: the client id is a template, the URL is --url), and the run, report and
// gate flags. benchConfig() turns them into the library's BenchConfig.
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {availableParallelism} from 'node:os'
import {Flags} from '@oclif/core'
import {DEFAULT_CONFIG, type BenchConfig, type BenchMode} from '../../bench/index.js'
import {parseDuration, parseQuantity, parseSize} from '../../bench/units.js'
import {describeTarget, transportTarget, type ClientOptions} from '../../client/index.js'
import type {QoS} from '../../codec/index.js'
import {connectionOptions, type ConnectionFlagValues} from '../common/connection.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {connectionFlags} from '../common/flags.js'
import {parseProperties} from '../common/properties.js'

const LOAD = 'LOAD'
const RUN = 'RUN AND REPORT'

const usage = (message: string) => new CliError(message, ExitCode.Usage)

function parsed<T>(parse: (s: string) => T) {
  return async (input: string) => {
    try {
      return parse(input)
    } catch (error) {
      throw new Error((error as Error).message)
    }
  }
}

const duration = Flags.custom<number>({parse: parsed(parseDuration), helpValue: 'DURATION'})
const quantity = Flags.custom<number>({parse: parsed(parseQuantity), helpValue: 'N'})

/** pub/sub's connection and TLS flags, without the letters that mean something else in emqtt-bench. */
export function benchConnectionFlags() {
  const {
    id: _id, 'id-prefix': _idPrefix, debug: _debug, url: _url, 'max-inflight': _maxInflight, nodelay: _nodelay,
    'disable-clean-session': _clean, 'will-topic': _wt, 'will-payload': _wp, 'will-qos': _wq, 'will-retain': _wr,
    ...rest
  } = connectionFlags()
  return {
    ...rest,
    url: Flags.string({env: 'MIDGE_URL', helpGroup: 'CONNECTION', helpValue: 'URL', description: 'mqtt(s)://[user[:password]@]host[:port] or ws(s)://host[:port]/path'}),
    'client-id': Flags.string({helpGroup: 'CONNECTION', helpValue: 'TEMPLATE',
      description: 'Client id template: %i client index, %r role (pub, sub, conn) [default: midge-bench-<random>-%r-%i]'}),
    'start-number': Flags.integer({char: 'n', helpGroup: 'CONNECTION', min: 0, default: 0,
      description: 'First %i (and stream id): lets several bench processes share a broker'}),
  }
}

export function benchRunFlags(mode: BenchMode) {
  return {
    duration: duration({helpGroup: RUN, default: mode === 'conn' ? 5 : 10,
      description: mode === 'conn' ? 'How long to hold the connections open (0: until Ctrl-C)' : 'Length of the measurement window, after the warm-up (0: until -L or Ctrl-C)'}),
    workers: Flags.integer({helpGroup: RUN, min: 0, default: availableParallelism(), description: 'Worker threads the clients are spread over (0: none)'}),
    concurrency: Flags.integer({helpGroup: RUN, min: 1, default: 100, description: 'Connections in progress at once'}),
    interval: Flags.integer({char: 'i', helpGroup: RUN, min: 0, default: 0, helpValue: 'MS', description: 'Milliseconds between two connection attempts', exclusive: ['connrate']}),
    connrate: quantity({char: 'R', helpGroup: RUN, description: 'Connection attempts per second (instead of -i)'}),
    embedded: Flags.boolean({helpGroup: RUN, description: 'Start a midge broker in a child process on a free port, bench it, stop it',
      exclusive: ['host', 'port', 'url', 'unix']}),
    'broker-pid': Flags.integer({helpGroup: RUN, description: 'Report this process\'s CPU use as the broker\'s (Linux)'}),
    clock: Flags.string({helpGroup: RUN, options: ['mono', 'wall'], default: 'mono',
      description: 'Timestamps: mono (one host) or wall (bench pub and bench sub on two hosts with synchronised clocks)'}),
    json: Flags.boolean({helpGroup: RUN, description: 'Print the result as one JSON document on stdout (nothing else)', exclusive: ['json-stream']}),
    'json-stream': Flags.boolean({helpGroup: RUN,
      description: 'Print NDJSON on stdout: a status record every second (rates, the second\'s latency percentiles, errors), then the result record (the --json document)'}),
    out: Flags.string({helpGroup: RUN, helpValue: 'FILE', description: 'Also write the final result, the --json document, to FILE (for CI artifacts and --baseline)'}),
    report: Flags.string({helpGroup: RUN, helpValue: 'FILE',
      description: 'Also write an HTML report to FILE: throughput and latency over time, the latency distribution (inline SVG, no external assets)'}),
    'fail-if': Flags.string({helpGroup: RUN, multiple: true, helpValue: 'CONDITION',
      description: 'Exit 15 when a condition holds: p99>20ms, rate<50k, loss>0, loss>0.1%, errors>0, rate<0.9x (against --baseline)'}),
    baseline: Flags.string({helpGroup: RUN, helpValue: 'FILE', description: 'An earlier --json result: fail below --baseline-ratio of its throughput'}),
    'baseline-ratio': Flags.custom<number>({parse: parsed((s) => { const n = Number(s); if (!(n > 0)) throw new Error(`'${s}' is not a ratio`); return n })})({
      helpGroup: RUN, default: 0.9, helpValue: 'RATIO', description: 'With --baseline: the least acceptable throughput, as a fraction of the baseline\'s'}),
    color: Flags.boolean({helpGroup: RUN, allowNo: true, default: true, description: 'Colours on a terminal (NO_COLOR also turns them off)'}),
  }
}

/** Publishers (bench, bench pub). */
export function benchPublisherFlags() {
  return {
    count: Flags.integer({char: 'c', helpGroup: LOAD, min: 1, default: 10, description: 'Publishers'}),
    topic: Flags.string({char: 't', helpGroup: LOAD, default: 'bench/%i', description: 'Topic to publish to: %i publisher index, %c client id'}),
    qos: Flags.integer({char: 'q', helpGroup: LOAD, min: 0, max: 2, default: 0, description: 'QoS of the publishes (and subscriptions)'}),
    size: Flags.custom<number>({parse: parsed(parseSize)})({char: 's', helpGroup: LOAD, default: 256, helpValue: 'BYTES',
      description: 'Payload size (20 bytes or more carry the sequence number and timestamp)'}),
    'payload-file': Flags.string({helpGroup: LOAD, helpValue: 'FILE', exclusive: ['size'],
      description: 'Publish the bytes of FILE (its length is the payload size; the first 20 bytes carry the sequence number and timestamp)'}),
    retain: Flags.boolean({helpGroup: LOAD, description: 'Publish retained messages'}),
    rate: quantity({helpGroup: LOAD, description: 'Open loop at a fixed rate: total messages per second over all publishers (latency from the intended send time)', exclusive: ['interval-of-msg']}),
    'interval-of-msg': Flags.integer({char: 'I', helpGroup: LOAD, min: 1, helpValue: 'MS', description: 'Open loop at a fixed rate: milliseconds between two messages of one publisher'}),
    inflight: Flags.integer({char: 'F', helpGroup: LOAD, min: 1, max: 65_535, default: 10, description: 'QoS 1/2 messages in flight per publisher (the broker\'s Receive Maximum caps it)'}),
    'max-outstanding': Flags.integer({helpGroup: LOAD, min: 0, exclusive: ['open-loop', 'rate', 'interval-of-msg'],
      description: 'Closed loop: publishers pause while this many deliveries are sent but not received [default: 5,000 per subscriber at QoS 0 (at most 50,000), 1,000 at QoS 1/2, at most 8 MiB of packets; 0: open loop]'}),
    'open-loop': Flags.boolean({helpGroup: LOAD,
      description: 'Open loop: publishers never wait for deliveries; without --rate/-I they send as fast as their sockets take (overload: the broker drops what it cannot hold)'}),
    limit: quantity({char: 'L', helpGroup: LOAD, description: 'Stop after publishing this many messages in all'}),
    drain: duration({helpGroup: RUN, default: 10, description: 'Longest wait for deliveries and acks after publishing stops'}),
  }
}

/** The subscribers of the end-to-end run. */
export function benchEndToEndFlags() {
  return {
    subs: Flags.integer({helpGroup: LOAD, min: 1, default: 1, description: 'Subscribers'}),
    'sub-topic': Flags.string({helpGroup: LOAD, multiple: true, default: ['bench/#'], description: 'Topic filter(s) of the subscribers (%i subscriber index, %c client id)'}),
  }
}

/** Subscribers (bench sub). */
export function benchSubscriberFlags() {
  return {
    count: Flags.integer({char: 'c', helpGroup: LOAD, min: 1, default: 1, description: 'Subscribers'}),
    topic: Flags.string({char: 't', helpGroup: LOAD, multiple: true, default: ['bench/#'], description: 'Topic filter(s) to subscribe to (%i subscriber index, %c client id)'}),
    qos: Flags.integer({char: 'q', helpGroup: LOAD, min: 0, max: 2, default: 0, description: 'QoS of the subscriptions'}),
    limit: quantity({char: 'L', helpGroup: LOAD, description: 'Stop after receiving this many messages'}),
  }
}

export function benchWarmupFlag() {
  return {warmup: duration({helpGroup: RUN, default: 2, description: 'Load before the measurement window starts'})}
}

export interface BenchFlagValues extends Omit<ConnectionFlagValues, 'id' | 'id-prefix' | 'disable-clean-session' | 'will-retain'> {
  property?: string[]
  'client-id'?: string
  'start-number': number
  duration: number
  warmup?: number
  workers: number
  concurrency: number
  interval: number
  connrate?: number
  'broker-pid'?: number
  clock: string
  count?: number
  subs?: number
  topic?: string | string[]
  'sub-topic'?: string[]
  qos?: number
  size?: number
  'payload-file'?: string
  retain?: boolean
  rate?: number
  'interval-of-msg'?: number
  inflight?: number
  'max-outstanding'?: number
  'open-loop'?: boolean
  drain?: number
  limit?: number
}

/** Flags -> BenchConfig (connection options resolved as pub/sub resolve them). */
export async function benchConfig(mode: BenchMode, f: BenchFlagValues): Promise<BenchConfig> {
  const props = parseProperties(f.property)
  if (Object.entries(props).some(([k, v]) => k !== 'connect' && v)) throw usage('-D: bench takes connect properties only')
  const template = f['client-id'] ?? `midge-bench-${randomBytes(3).toString('hex')}-%r-%i`
  const {options} = await connectionOptions({
    ...f, id: template, 'id-prefix': undefined, 'disable-clean-session': false, 'will-retain': false, 'will-topic': undefined,
  }, props)
  const count = f.count ?? (mode === 'conn' ? 1000 : 1)
  const topic = Array.isArray(f.topic) ? f.topic : f.topic !== undefined ? [f.topic] : []
  const config: BenchConfig = {
    ...DEFAULT_CONFIG, mode, client: options, brokerUrl: brokerUrl(options),
    clientId: template,
    publishers: mode === 'e2e' || mode === 'pub' ? count : 0,
    subscribers: mode === 'e2e' ? f.subs ?? 1 : mode === 'sub' ? count : 0,
    connections: mode === 'conn' ? count : 0,
    topic: mode === 'sub' ? DEFAULT_CONFIG.topic : topic[0] ?? DEFAULT_CONFIG.topic,
    subscribeTopics: mode === 'sub' ? topic : f['sub-topic'] ?? DEFAULT_CONFIG.subscribeTopics,
    qos: (f.qos ?? 0) as QoS, retain: f.retain ?? false, payloadSize: f.size ?? DEFAULT_CONFIG.payloadSize,
    rate: f.rate ?? 0, intervalMs: f['interval-of-msg'] ?? 0, limit: Math.round(f.limit ?? 0), inflight: f.inflight ?? DEFAULT_CONFIG.inflight,
    duration: f.duration, warmup: f.warmup ?? 0, drain: f.drain ?? DEFAULT_CONFIG.drain, workers: f.workers,
    concurrency: f.concurrency, connectIntervalMs: f.connrate ? 1000 / f.connrate : f.interval,
    connectTimeoutMs: f['connect-timeout'] * 1000, maxOutstanding: f['max-outstanding'], openLoop: f['open-loop'] ?? false,
    clock: f.clock === 'wall' ? 'wall' : 'mono', startNumber: f['start-number'], reset: mode === 'conn', brokerPid: f['broker-pid'],
  }
  if (f['payload-file'] !== undefined) {
    const path = f['payload-file']
    const payload = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --payload-file '${path}': ${error.code ?? error.message}`, ExitCode.InputFile)
    })
    if (payload.length === 0) throw new CliError(`--payload-file '${path}' is empty`, ExitCode.InputFile)
    Object.assign(config, {payload, payloadSize: payload.length})
  }
  const clients = config.publishers + config.subscribers + config.connections
  if (clients > 1 && !template.includes('%i')) throw usage(`--client-id '${template}' has no %i: ${clients} clients would share one id`)
  return config
}

function brokerUrl(o: ClientOptions): string {
  const t = transportTarget(o)
  const where = describeTarget(t)
  return where.includes('://') || t.socketPath ? where : `${t.scheme}://${where}`
}
