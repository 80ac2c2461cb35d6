import {encodePublish, type EncodedPublish, type ProtocolVersion, type PublishProperties, type QoS} from '../codec/index.js'

/**
 * A message as the broker routes it: immutable once published. Its wire encodings are cached per
 * shape (v3/v5 x QoS x retain), so one encoding serves every subscriber that takes that shape.
 */
export interface Message {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: QoS
  readonly retain: boolean
  /** v5 properties forwarded to subscribers (never topic alias or subscription identifiers). */
  readonly properties?: PublishProperties
  /** Absolute deadline (ms) from a Message Expiry Interval. */
  readonly expiresAt?: number
  /** The client that published it (for No Local), if any. */
  readonly origin?: string
  /**
   * The publisher's user name (null: none), for re-checking its write access when a retained message is
   * sent later (Mosquitto's check_retain_source). Undefined when not known (restored from a store): not checked.
   */
  readonly originUsername?: string | null
  encoded?: (EncodedPublish | undefined)[]
  /**
   * With persistence on: the held PUBACK of this QoS 1 message while its deliveries are counted
   * (AckQueue's own record; never stored, nor sent anywhere). A field rather than a Map entry: a Map
   * with an insert and a delete per message rehashed and shrank its tables all the time.
   */
  ack?: unknown
}

/** The cached encoding of a message for one (version, qos, retain) shape, with no per-receiver properties. */
export function sharedEncoding(msg: Message, version: ProtocolVersion, qos: QoS, retain: boolean): EncodedPublish {
  const slot = (version === 5 ? 6 : 0) + qos * 2 + (retain ? 1 : 0)
  const cache = msg.encoded ?? (msg.encoded = new Array<EncodedPublish | undefined>(12))
  let enc = cache[slot]
  if (enc === undefined) {
    enc = encodePublish({topic: msg.topic, payload: msg.payload, qos, retain, properties: version === 5 ? msg.properties : undefined}, version)
    cache[slot] = enc
  }
  return enc
}

/** Remaining Message Expiry Interval in whole seconds (rounded up), or undefined if none. */
export function remainingExpiry(msg: Message, now: number): number | undefined {
  return msg.expiresAt === undefined ? undefined : Math.max(0, Math.ceil((msg.expiresAt - now) / 1000))
}

export function isExpired(msg: Message, now: number): boolean {
  return msg.expiresAt !== undefined && msg.expiresAt <= now
}

/** Bytes a message accounts for in queue limits. */
export function messageBytes(msg: Message): number {
  return msg.payload.length + msg.topic.length
}
