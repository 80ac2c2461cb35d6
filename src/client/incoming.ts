// The broker's PUBLISHes to us: topic aliases resolved, QoS 1 acknowledged after delivery, QoS 2
// delivered once (a resend before its PUBREL is not delivered again) and answered with PUBREC, and
// PUBREL answered with PUBCOMP.
import {InboundAliases, ReasonCode, type ProtocolVersion} from '../codec/index.js'
import type {PacketWriter} from './packet-writer.js'
import type {Message} from './types.js'

export class IncomingFlows {
  /** QoS 2 packet ids between PUBLISH and PUBREL: true once PUBREC was sent (manual acks: after ack()). */
  private readonly qos2 = new Map<number, boolean>()
  private aliases: InboundAliases | undefined
  private onQoS2Drained: (() => void) | undefined

  constructor(private readonly writer: PacketWriter, private readonly protocolVersion: ProtocolVersion,
    private readonly deliver: (message: Message) => void, private readonly manualAck = false) {}

  /** QoS 2 flows are waiting for their PUBREL. */
  get waiting(): boolean {
    return this.qos2.size > 0
  }

  onPublish(message: Message): void {
    const alias = message.properties?.topicAlias
    // any alias 1..65535: the broker is trusted to keep to the Topic Alias Maximum of our CONNECT
    if (alias !== undefined) message.topic = (this.aliases ??= new InboundAliases(65_535)).resolve(message.topic, alias)
    if (message.qos === 2) {
      const id = message.messageId!
      const recd = this.qos2.get(id)
      if (recd === undefined) {
        this.qos2.set(id, !this.manualAck)
        this.deliver(message)
        if (!this.manualAck) this.writer.send({cmd: 'pubrec', messageId: id})
      } else if (recd) {
        this.writer.send({cmd: 'pubrec', messageId: id}) // a resend before PUBREL: not delivered again
      }
      return
    }
    this.deliver(message)
    if (message.qos === 1 && !this.manualAck) this.writer.send({cmd: 'puback', messageId: message.messageId})
  }

  /** Manual acks: the message has been dealt with; QoS 1 gets its PUBACK, QoS 2 its PUBREC. */
  ack(message: Message): void {
    if (message.qos === 1) this.writer.send({cmd: 'puback', messageId: message.messageId})
    else if (message.qos === 2 && this.qos2.get(message.messageId!) === false) {
      this.qos2.set(message.messageId!, true)
      this.writer.send({cmd: 'pubrec', messageId: message.messageId})
    }
  }

  onPubrel(id: number): void {
    const known = this.qos2.delete(id)
    const reasonCode = known || this.protocolVersion < 5 ? undefined : ReasonCode.PacketIdentifierNotFound
    this.writer.send({cmd: 'pubcomp', messageId: id, reasonCode})
    if (this.qos2.size === 0) this.onQoS2Drained?.()
  }

  /** Resolves when no QoS 2 flow waits for its PUBREL any more, or after `ms`. */
  async drained(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.onQoS2Drained = resolve
      setTimeout(resolve, ms).unref()
    })
    this.onQoS2Drained = undefined
  }
}
