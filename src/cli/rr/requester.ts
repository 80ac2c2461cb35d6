// The life of one `rr` run, as mosquitto_rr does it: subscribe to the response topic, publish the
// request (v5: with the Response Topic and Correlation Data properties), print the first response,
// and end. It ends with a documented code on a refused subscription or publish, a lost connection
// or -W.
import {randomBytes} from 'node:crypto'
import {ReasonCode, reasonName, type PublishProperties, type QoS} from '../../codec/index.js'
import type {Message, MqttClient} from '../../client/index.js'
import {ExitCode} from '../common/exit-codes.js'
import type {Printer} from '../common/format/printer.js'
import type {PropertySet} from '../common/properties.js'
import type {Outcome} from '../sub/subscriber.js'

export interface Request {
  topic: string
  payload: Buffer
  responseTopic: string
  qos: QoS
  retain: boolean
  /** -D publish ... (a correlation-data given there is used instead of a random one). */
  properties?: PublishProperties
  subscribeProperties?: PropertySet
  /** -R: a retained message on the response topic is not an answer. */
  skipRetained: boolean
  timeoutSeconds?: number
}

export class Requester {
  private finished: Outcome | undefined
  private resolve!: (o: Outcome) => void
  private readonly done = new Promise<Outcome>((r) => { this.resolve = r })
  /** v5: what the answer must carry back, if it carries Correlation Data at all. */
  readonly correlation: Buffer | undefined

  constructor(private readonly client: MqttClient, private readonly printer: Printer, private readonly r: Request, v5: boolean) {
    this.correlation = v5 ? (r.properties?.correlationData as Buffer | undefined) ?? randomBytes(8) : undefined
  }

  /** Runs until the answer, -W, a signal or a failure; the caller disconnects afterwards. */
  async run(signal: AbortSignal): Promise<Outcome> {
    this.client.onMessage(this.onMessage)
    const onAbort = () => this.finish({code: ExitCode.Success})
    signal.addEventListener('abort', onAbort, {once: true})
    const seconds = this.r.timeoutSeconds
    const timer = seconds === undefined ? undefined : setTimeout(() => this.finish({code: ExitCode.Timeout, message: `timed out: no response within ${seconds}s`}), seconds * 1000)
    void this.client.closed.then((e) => this.finish({code: ExitCode.ConnectionLost, message: e?.message ?? 'connection closed'}))
    try {
      await this.request().catch((error: Error) => this.finish({code: ExitCode.ConnectionLost, message: error.message}))
      return await this.done
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  private async request(): Promise<void> {
    const {topic, payload, responseTopic, qos, retain} = this.r
    const {granted, reasonString} = await this.client.subscribe([{topic: responseTopic, qos}], {properties: this.r.subscribeProperties})
    if (granted[0] >= ReasonCode.UnspecifiedError) {
      return this.finish({code: ExitCode.SubscribeRefused, message: `subscription to '${responseTopic}' refused: ${reasonName(granted[0])}${reasonString ? ` (${reasonString})` : ''}`})
    }
    if (this.finished) return
    const properties: PublishProperties | undefined = this.correlation === undefined ? undefined
      : {...this.r.properties, responseTopic, correlationData: this.correlation}
    if (qos === 0) {
      if (!this.client.publishQoS0(topic, payload, {retain, properties})) await this.client.drained()
      return
    }
    const ack = await this.client.publish(topic, payload, {qos, retain, properties})
    if (ack.reasonCode >= ReasonCode.UnspecifiedError) {
      this.finish({code: ExitCode.PublishRefused, message: `request to '${topic}' refused: ${reasonName(ack.reasonCode)}${ack.reasonString ? ` (${ack.reasonString})` : ''}`})
    }
  }

  private readonly onMessage = (m: Message) => {
    if (this.finished) return
    if (m.retain && this.r.skipRetained) return
    // another requester's answer on a shared response topic: not ours
    const data = m.properties?.correlationData
    if (this.correlation !== undefined && data !== undefined && !this.correlation.equals(data)) return
    this.printer.print(m)
    this.finish({code: ExitCode.Success})
  }

  private finish(outcome: Outcome): void {
    if (this.finished) return
    this.finished = outcome
    this.resolve(outcome)
  }
}
