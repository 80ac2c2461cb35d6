import type {QoS, WillMessage} from '../codec/index.js'
import type {ClientInfo} from './auth/hooks.js'
import type {Message} from './message.js'

/**
 * The message a will becomes when it is published [MQTT-3.1.3-9]: its Will Delay Interval is not
 * forwarded, its Message Expiry Interval counts from now, and it carries its client as the origin (for
 * No Local, and for the retained-source check).
 */
export function willMessage(client: ClientInfo, will: WillMessage, now: number): Message {
  const {willDelayInterval: _d, messageExpiryInterval: expiry, ...properties} = will.properties ?? {}
  return {
    topic: will.topic, payload: Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload),
    qos: (will.qos ?? 0) as QoS, retain: will.retain ?? false,
    properties: Object.keys(properties).length > 0 ? properties : undefined,
    expiresAt: expiry === undefined ? undefined : now + expiry * 1000,
    origin: client.clientId,
    originUsername: client.username ?? null,
  }
}
