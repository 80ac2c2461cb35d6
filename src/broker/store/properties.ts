import type {PublishProperties} from '../../codec/index.js'
import type {WillProperties} from './types.js'

/*
 * MQTT 5 properties as stored text: JSON, with correlationData (the one binary property a PUBLISH
 * or a will carries) as base64. Only that key is converted, so no user property can be mistaken for
 * binary data.
 */

type Properties = PublishProperties | WillProperties

export function encodeProperties(p: Properties | undefined): string | null {
  if (p === undefined) return null
  const data = p.correlationData
  return JSON.stringify(data === undefined ? p : {...p, correlationData: Buffer.from(data).toString('base64')})
}

export function decodeProperties<T extends Properties>(text: string | null): T | undefined {
  if (text === null) return undefined
  const p = JSON.parse(text) as T & {correlationData?: unknown}
  if (typeof p.correlationData === 'string') p.correlationData = Buffer.from(p.correlationData, 'base64')
  return p
}
