import {decodeProperties, encodeProperties} from '../broker/store/properties.js'
import type {OutboundRow} from '../broker/store/write-ops.js'
import type {StoredMessage, StoredSession, StoredSubscriptionOptions, StoredWill} from '../broker/store/types.js'

/*
 * The stored text of the Redis store's rows: JSON with short keys, payloads as base64, v5 properties
 * as the SQLite store keeps them (properties.ts). A value that does not parse is reported with its key.
 */

interface MessageJson {t: string; p: string; q: 0 | 1 | 2; r: 0 | 1; pr?: string; e?: number; o?: string}

export function encodeMessage(m: StoredMessage): string {
  return JSON.stringify(messageJson(m))
}

function messageJson(m: StoredMessage): MessageJson {
  const json: MessageJson = {t: m.topic, p: Buffer.from(m.payload).toString('base64'), q: m.qos, r: m.retain ? 1 : 0}
  const props = encodeProperties(m.properties)
  if (props !== null) json.pr = props
  if (m.expiresAt !== undefined) json.e = m.expiresAt
  if (m.origin !== undefined) json.o = m.origin
  return json
}

export function decodeMessage(text: string): StoredMessage {
  return messageFrom(JSON.parse(text) as MessageJson)
}

function messageFrom(j: MessageJson): StoredMessage {
  const properties = decodeProperties<NonNullable<StoredMessage['properties']>>(j.pr ?? null)
  return {
    topic: j.t, payload: Buffer.from(j.p, 'base64'), qos: j.q, retain: j.r === 1,
    ...(properties === undefined ? {} : {properties}),
    ...(j.e === undefined ? {} : {expiresAt: j.e}),
    ...(j.o === undefined ? {} : {origin: j.o}),
  }
}

interface WillJson {t: string; p: string; q: 0 | 1 | 2; r: 0 | 1; pr?: string; at?: number}

export function encodeSession(s: StoredSession): string {
  const will: WillJson | undefined = s.will === undefined ? undefined : {
    t: s.will.topic, p: Buffer.from(s.will.payload).toString('base64'), q: s.will.qos, r: s.will.retain ? 1 : 0,
    ...(s.will.properties === undefined ? {} : {pr: encodeProperties(s.will.properties)!}),
    ...(s.will.publishAt === undefined ? {} : {at: s.will.publishAt}),
  }
  return JSON.stringify({c: s.clientId, v: s.protocolVersion, u: s.username, x: s.expiryInterval, e: s.expiresAt, w: will})
}

export function decodeSession(text: string): StoredSession {
  const j = JSON.parse(text) as {c: string; v: StoredSession['protocolVersion']; u?: string; x: number; e?: number; w?: WillJson}
  if (typeof j.c !== 'string' || typeof j.x !== 'number') throw new Error('not a session record')
  let will: StoredWill | undefined
  if (j.w !== undefined) {
    const properties = decodeProperties<NonNullable<StoredWill['properties']>>(j.w.pr ?? null)
    will = {
      topic: j.w.t, payload: Buffer.from(j.w.p, 'base64'), qos: j.w.q, retain: j.w.r === 1,
      ...(properties === undefined ? {} : {properties}),
      ...(j.w.at === undefined ? {} : {publishAt: j.w.at}),
    }
  }
  return {
    clientId: j.c, protocolVersion: j.v, expiryInterval: j.x,
    ...(j.u === undefined ? {} : {username: j.u}),
    ...(j.e === undefined ? {} : {expiresAt: j.e}),
    ...(will === undefined ? {} : {will}),
  }
}

export const encodeOptions = (o: StoredSubscriptionOptions): string => JSON.stringify(o)
export const decodeOptions = (text: string): StoredSubscriptionOptions => JSON.parse(text) as StoredSubscriptionOptions

/** An outbound row's fields, without its message: small, so the delete script can read it (c: client, m: message id, i: inline). */
export function encodeOutbound(row: OutboundRow): string {
  return JSON.stringify({
    c: row.clientId, m: String(row.messageId), i: row.inline === undefined ? 0 : 1, q: row.qos, r: row.retain ? 1 : 0,
    s: row.state, k: row.packetId, d: row.dup ? 1 : 0, si: row.subscriptionIds, g: row.sharedGroup,
  })
}

export function decodeOutbound(id: number, text: string, inline: StoredMessage | undefined): OutboundRow {
  const j = JSON.parse(text) as {c: string; m: string; q: 0 | 1 | 2; r: 0 | 1; s: OutboundRow['state']; k: number; d: 0 | 1; si?: number[]; g?: string}
  return {
    id, clientId: j.c, messageId: Number(j.m), qos: j.q, retain: j.r === 1, state: j.s, packetId: j.k, dup: j.d === 1,
    ...(j.si === undefined ? {} : {subscriptionIds: j.si}),
    ...(j.g === undefined ? {} : {sharedGroup: j.g}),
    ...(inline === undefined ? {} : {inline}),
  }
}
