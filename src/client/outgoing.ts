// Our PUBLISHes: QoS 0 encoded and written at once; QoS 1/2 given a packet id from the inflight
// window and settled by PUBACK, or by PUBREC (answered with PUBREL) and PUBCOMP. The broker's limits
// from CONNACK (Maximum QoS, Maximum Packet Size) are checked before anything is written.
import {encodePublish, MqttError, ProtocolError, ReasonCode, type ProtocolVersion, type PublishProperties, type QoS} from '../codec/index.js'
import {ClientClosedError} from './errors.js'
import type {InflightWindow, PublishAck} from './inflight.js'
import type {PacketWriter} from './packet-writer.js'
import type {PublishOptions} from './types.js'

const SUCCESS: PublishAck = Object.freeze({reasonCode: ReasonCode.Success})

export class OutgoingFlows {
  /** The broker's Maximum Packet Size. */
  maxPacketSize = Number.POSITIVE_INFINITY
  /** The broker's Maximum QoS. */
  maxQoS: QoS = 2

  constructor(private readonly writer: PacketWriter, private readonly window: InflightWindow,
    private readonly protocolVersion: ProtocolVersion, private readonly isConnected: () => boolean) {}

  publish(topic: string, payload: Buffer | string, options: PublishOptions): Promise<PublishAck> {
    const qos = options.qos ?? 0
    if (!this.isConnected()) return Promise.reject(new ClientClosedError())
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload
    if (qos === 0) {
      try {
        this.publishQoS0(topic, bytes, options)
      } catch (error) {
        return Promise.reject(error)
      }
      return Promise.resolve(SUCCESS)
    }
    const wait = this.window.acquire()
    if (wait) return wait.then(() => this.sendAcked(topic, bytes, qos, options))
    return this.sendAcked(topic, bytes, qos, options)
  }

  publishQoS0(topic: string, payload: Buffer, options: {retain?: boolean; properties?: PublishProperties}): boolean {
    if (!this.isConnected()) throw new ClientClosedError()
    const encoded = encodePublish({topic, payload, qos: 0, retain: options.retain ?? false, properties: options.properties}, this.protocolVersion)
    this.checkSize(encoded.bytes.length)
    return this.writer.write(encoded.bytes)
  }

  onPuback(id: number, reasonCode: number | undefined, reasonString?: string): void {
    this.window.settle(id, ack(reasonCode, reasonString))
  }

  onPubrec(id: number, reasonCode: number, reasonString?: string): void {
    const entry = this.window.get(id)
    if (entry?.qos !== 2) {
      const code = this.protocolVersion === 5 ? ReasonCode.PacketIdentifierNotFound : undefined
      this.writer.send({cmd: 'pubrel', messageId: id, reasonCode: code})
      return
    }
    if (reasonCode >= ReasonCode.UnspecifiedError) return this.window.settle(id, ack(reasonCode, reasonString))
    entry.ack = ack(reasonCode, reasonString)
    entry.released = true
    this.writer.send({cmd: 'pubrel', messageId: id})
  }

  onPubcomp(id: number, reasonCode: number, reasonString?: string): void {
    const entry = this.window.get(id)
    if (!entry?.released) throw new ProtocolError(`PUBCOMP for unknown packet id ${id}`)
    this.window.settle(id, reasonCode >= ReasonCode.UnspecifiedError ? ack(reasonCode, reasonString) : entry.ack ?? SUCCESS)
  }

  private sendAcked(topic: string, payload: Buffer, qos: 1 | 2, options: PublishOptions): Promise<PublishAck> {
    if (!this.isConnected()) return Promise.reject(new ClientClosedError())
    if (qos > this.maxQoS) {
      this.window.release()
      return Promise.reject(new MqttError(ReasonCode.QoSNotSupported, `the broker accepts QoS up to ${this.maxQoS}`))
    }
    let encoded
    try {
      encoded = encodePublish({topic, payload, qos, retain: options.retain ?? false, properties: options.properties}, this.protocolVersion)
      this.checkSize(encoded.bytes.length)
    } catch (error) {
      this.window.release()
      return Promise.reject(error)
    }
    const {bytes, packetIdOffset} = encoded
    return new Promise((resolve, reject) => {
      const id = this.window.add({qos, released: false, resolve, reject})
      bytes.writeUInt16BE(id, packetIdOffset)
      this.writer.write(bytes)
    })
  }

  private checkSize(size: number): void {
    if (size > this.maxPacketSize) throw new MqttError(ReasonCode.PacketTooLarge, `packet of ${size} bytes exceeds the broker's maximum of ${this.maxPacketSize}`)
  }
}

function ack(reasonCode: number | undefined, reasonString: string | undefined): PublishAck {
  if (!reasonCode && !reasonString) return SUCCESS
  return reasonString ? {reasonCode: reasonCode ?? 0, reasonString} : {reasonCode: reasonCode ?? 0}
}
