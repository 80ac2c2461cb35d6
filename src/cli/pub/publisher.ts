import {ReasonCode, reasonName, type PublishProperties, type QoS} from '../../codec/index.js'
import type {MqttClient, PublishAck} from '../../client/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import type {Reconnect} from '../common/reconnect.js'

export interface Refusal { topic: string; reasonCode: number; reasonString?: string }

interface Pending { topic: string; payload: Buffer; qos: QoS; retain: boolean; properties?: PublishProperties }

/**
 * Publishes a stream of messages on one client with flow control: QoS 0 waits for the socket to
 * drain, QoS 1/2 keep at most the inflight window outstanding. Order is preserved. The first
 * refusal (reason >= 0x80) and the first error are kept for the exit code.
 *
 * With `reconnect` (--reconnect), a lost connection is replaced: new messages wait for the new
 * connection, and every QoS 1/2 message not yet acknowledged is published again on it, in order
 * (at least once: the broker may have taken one whose acknowledgement was lost). QoS 0 messages
 * written into a dying connection are gone, as QoS 0 allows.
 */
export class Publisher {
  refusal: Refusal | undefined
  error: Error | undefined
  sent = 0
  private outstanding = 0
  private wake: (() => void) | undefined
  private readonly unacked = new Map<number, Pending>()
  private nextId = 0
  private reconnecting: Promise<void> | undefined
  private closing = false

  constructor(public client: MqttClient, private readonly reconnect?: Reconnect) {
    if (reconnect) this.watch(client)
  }

  async publish(topic: string, payload: Buffer, qos: QoS, retain: boolean, properties?: PublishProperties): Promise<void> {
    if (this.error) throw this.error
    // a lost connection: watch() (registered on closed first) has started reconnecting by the time
    // this wait for closed resumes
    while (this.reconnect && !this.client.connected && !this.error) {
      await this.client.closed
      await this.reconnecting
    }
    if (this.error) throw this.error
    this.sent++
    if (qos === 0) {
      if (!this.client.publishQoS0(topic, payload, {retain, properties})) await this.client.drained()
      return
    }
    this.outstanding++
    const id = this.nextId++
    this.unacked.set(id, {topic, payload, qos, retain, properties})
    this.send(id)
    while (this.outstanding >= this.client.inflightLimit && !this.error) await new Promise<void>((r) => { this.wake = r })
    if (this.error) throw this.error
  }

  /** Waits for every outstanding ack. */
  async flush(): Promise<void> {
    while (this.outstanding > 0 && !this.error) await new Promise<void>((r) => { this.wake = r })
    if (this.error) throw this.error
  }

  /** Ends the connection (DISCONNECT when still connected); no reconnect after this. */
  async close(properties?: Record<string, unknown>): Promise<void> {
    this.closing = true
    if (this.client.connected) await this.client.disconnect({properties})
    else this.client.destroy()
  }

  describeRefusal(): string | undefined {
    const r = this.refusal
    if (!r) return undefined
    return `publish to '${r.topic}' refused: ${reasonName(r.reasonCode)}${r.reasonString ? ` (${r.reasonString})` : ''}`
  }

  private send(id: number): void {
    const m = this.unacked.get(id)!
    const client = this.client
    client.publish(m.topic, m.payload, {qos: m.qos, retain: m.retain, properties: m.properties}).then(
      (ack) => this.settled(id, ack),
      (error: Error) => {
        if (this.reconnect && !client.connected) return // published again on the next connection
        this.error ??= error
        this.settled(id, undefined)
      },
    )
  }

  private settled(id: number, ack: PublishAck | undefined): void {
    const m = this.unacked.get(id)
    if (!m) return
    this.unacked.delete(id)
    this.outstanding--
    if (ack && ack.reasonCode >= ReasonCode.UnspecifiedError && !this.refusal) this.refusal = {topic: m.topic, ...ack}
    this.wakeUp()
  }

  private wakeUp(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** --reconnect: when `client` goes, get a new one and publish again what was not acknowledged. */
  private watch(client: MqttClient): void {
    void client.closed.then((lost) => {
      if (this.error || this.closing || client !== this.client) return
      this.reconnecting = this.reconnect!(lost).then((next) => {
        if (next === undefined) throw new CliError('connection lost; stopped while reconnecting', ExitCode.ConnectionLost)
        this.client = next
        this.watch(next)
        for (const id of [...this.unacked.keys()].sort((a, b) => a - b)) this.send(id)
      }).catch((error: Error) => {
        this.error ??= error
      }).finally(() => {
        this.reconnecting = undefined
        this.wakeUp()
      })
    })
  }
}
