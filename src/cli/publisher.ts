import {ReasonCode, reasonName, type PublishProperties, type QoS} from '../codec/index.js'
import type {MqttClient, PublishAck} from '../client/index.js'

export interface Refusal { topic: string; reasonCode: number; reasonString?: string }

/**
 * Publishes a stream of messages on one client with flow control: QoS 0 waits for the socket to
 * drain, QoS 1/2 keep at most the inflight window outstanding. Order is preserved. The first
 * refusal (reason >= 0x80) and the first error are kept for the exit code.
 */
export class Publisher {
  refusal: Refusal | undefined
  error: Error | undefined
  sent = 0
  private outstanding = 0
  private wake: (() => void) | undefined

  constructor(private readonly client: MqttClient) {}

  async publish(topic: string, payload: Buffer, qos: QoS, retain: boolean, properties?: PublishProperties): Promise<void> {
    if (this.error) throw this.error
    this.sent++
    if (qos === 0) {
      if (!this.client.publishQoS0(topic, payload, {retain, properties})) await this.client.drained()
      return
    }
    this.outstanding++
    this.client.publish(topic, payload, {qos, retain, properties}).then(
      (ack) => this.settled(topic, ack),
      (error: Error) => { this.error ??= error; this.settled(topic, undefined) },
    )
    while (this.outstanding >= this.client.inflightLimit && !this.error) await new Promise<void>((r) => { this.wake = r })
    if (this.error) throw this.error
  }

  /** Waits for every outstanding ack. */
  async flush(): Promise<void> {
    while (this.outstanding > 0) await new Promise<void>((r) => { this.wake = r })
    if (this.error) throw this.error
  }

  describeRefusal(): string | undefined {
    const r = this.refusal
    if (!r) return undefined
    return `publish to '${r.topic}' refused: ${reasonName(r.reasonCode)}${r.reasonString ? ` (${r.reasonString})` : ''}`
  }

  private settled(topic: string, ack: PublishAck | undefined): void {
    this.outstanding--
    if (ack && ack.reasonCode >= ReasonCode.UnspecifiedError && !this.refusal) this.refusal = {topic, ...ack}
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}
