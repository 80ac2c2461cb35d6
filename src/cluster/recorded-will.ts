import type {WillMessage} from '../codec/index.js'
import type {ClientInfo} from '../broker/auth/hooks.js'
import type {StoredSession} from '../broker/store/types.js'
import {decodeSession, encodeSession} from './redis-rows.js'

// The will of a client's live connection as a node records it in Redis (<prefix>:wills:<node>), for
// the node that takes the client's session over (or adopts a dead node's) to publish.

export function clientInfo(s: StoredSession): ClientInfo {
  return {clientId: s.clientId, username: s.username, protocolVersion: s.protocolVersion}
}

/** A live connection's will as recorded in Redis: a session record carrying it (the client, its expiry). */
export function encodeWill(client: ClientInfo, will: WillMessage, expiryInterval: number): string {
  return encodeSession({
    clientId: client.clientId, protocolVersion: client.protocolVersion, expiryInterval,
    ...(client.username === undefined ? {} : {username: client.username}),
    will: {
      topic: will.topic, payload: Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload),
      qos: will.qos ?? 0, retain: will.retain ?? false, ...(will.properties === undefined ? {} : {properties: will.properties}),
    },
  })
}

export function decodeWill(text: string): {client: ClientInfo; will: WillMessage} {
  const s = decodeSession(text)
  const w = s.will!
  return {
    client: clientInfo(s),
    will: {topic: w.topic, payload: w.payload, qos: w.qos, retain: w.retain, ...(w.properties === undefined ? {} : {properties: w.properties})},
  }
}
