// The NDJSON message schema shared by `sub --json` (writes it) and `pub --stdin-json` (reads it), so
// `midge sub --json ... | midge pub --stdin-json` replays messages faithfully.
//
//   {"topic":"a/b","payload":"hi","qos":1,"retain":false,"dup":false,"messageId":3,
//    "properties":{"contentType":"text/plain","userProperties":{"k":"v"}},"receivedAt":"2024-..."}
//
// payload is UTF-8 text, or base64 with "encoding":"base64" when it is not valid UTF-8; likewise
// properties.correlationData with "correlationDataEncoding":"base64".
import {isUtf8} from 'node:buffer'
import type {PublishProperties, QoS} from '../../../codec/index.js'
import type {FormatMessage} from './message.js'

export function toJsonLine(m: FormatMessage, receivedAt: Date): string {
  const text = isUtf8(m.payload)
  const o: Record<string, unknown> = {topic: m.topic, payload: m.payload.toString(text ? 'utf8' : 'base64')}
  if (!text) o.encoding = 'base64'
  o.qos = m.qos
  o.retain = m.retain
  o.dup = m.dup ?? false
  if (m.messageId !== undefined && m.qos > 0) o.messageId = m.messageId
  if (m.properties && Object.keys(m.properties).length > 0) o.properties = propertiesToJson(m.properties)
  o.receivedAt = receivedAt.toISOString()
  return JSON.stringify(o) + '\n'
}

function propertiesToJson(p: PublishProperties): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue
    if (k === 'correlationData' && Buffer.isBuffer(v)) {
      const text = isUtf8(v)
      o.correlationData = v.toString(text ? 'utf8' : 'base64')
      if (!text) o.correlationDataEncoding = 'base64'
    } else {
      o[k] = v
    }
  }
  return o
}

export interface JsonMessage {
  topic: string
  payload: Buffer
  qos: QoS
  retain: boolean
  properties?: PublishProperties
}

const PROPERTY_TYPES: Record<string, 'string' | 'number' | 'boolean' | 'object'> = {
  contentType: 'string', responseTopic: 'string', correlationData: 'string', messageExpiryInterval: 'number',
  payloadFormatIndicator: 'boolean', userProperties: 'object', topicAlias: 'number',
}

/** Reads one NDJSON line; fields it lacks come from `defaults`. Throws a TypeError saying what is wrong. */
export function fromJsonLine(line: string, defaults: {topic?: string; qos: QoS; retain: boolean}): JsonMessage {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(line) as Record<string, unknown>
  } catch (error) {
    throw new TypeError(`not JSON: ${(error as Error).message}`)
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TypeError('expected a JSON object')
  const topic = o.topic ?? defaults.topic
  if (typeof topic !== 'string') throw new TypeError('"topic" is missing (and no -t given)')
  const encoding = o.encoding ?? 'utf8'
  if (encoding !== 'utf8' && encoding !== 'base64') throw new TypeError('"encoding" must be "utf8" or "base64"')
  const raw = o.payload ?? ''
  const payload = typeof raw === 'string' ? Buffer.from(raw, encoding) : Buffer.from(JSON.stringify(raw))
  const qos = o.qos ?? defaults.qos
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new TypeError('"qos" must be 0, 1 or 2')
  const retain = o.retain ?? defaults.retain
  if (typeof retain !== 'boolean') throw new TypeError('"retain" must be true or false')
  return {topic, payload, qos, retain, properties: o.properties === undefined ? undefined : propertiesFromJson(o.properties)}
}

function propertiesFromJson(p: unknown): PublishProperties {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new TypeError('"properties" must be an object')
  const out: Record<string, unknown> = {}
  const src = p as Record<string, unknown>
  for (const [k, v] of Object.entries(src)) {
    if (k === 'correlationDataEncoding' || k === 'subscriptionIdentifier') continue
    const type = PROPERTY_TYPES[k]
    if (!type) throw new TypeError(`unknown publish property "${k}"`)
    if (typeof v !== type || v === null) throw new TypeError(`property "${k}" must be a ${type}`)
    out[k] = v
  }
  if (typeof out.correlationData === 'string') {
    out.correlationData = Buffer.from(out.correlationData, src.correlationDataEncoding === 'base64' ? 'base64' : 'utf8')
  }
  return out as PublishProperties
}
