// The shapes of the client's API: received messages, publish and subscribe options and results.
import type {DisconnectPacket, PublishPacket, PublishProperties, QoS} from '../codec/index.js'

/** A received PUBLISH (topic aliases already resolved; the payload is a Buffer the caller may keep). */
export type Message = PublishPacket & {payload: Buffer}

export interface PublishOptions {
  qos?: QoS
  retain?: boolean
  properties?: PublishProperties
}

export interface SubscribeRequest {
  topic: string
  qos?: QoS
  /** v5 No Local. */
  nl?: boolean
  /** v5 Retain As Published. */
  rap?: boolean
  /** v5 Retain Handling: 0 send retained, 1 only for new subscriptions, 2 never. */
  rh?: 0 | 1 | 2
}

export interface SubscribeResult {
  /** One code per filter, in order: the granted QoS (0-2) or a failure (>= 0x80; 0x80 on v3). */
  granted: number[]
  reasonString?: string
}

export interface DisconnectOptions {
  reasonCode?: number
  properties?: DisconnectPacket['properties']
}
