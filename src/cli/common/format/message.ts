import type {PublishProperties, QoS} from '../../../codec/index.js'

/** What the output formats need from a received message. */
export interface FormatMessage {
  topic: string
  payload: Buffer
  qos: QoS
  retain: boolean
  dup?: boolean
  messageId?: number
  properties?: PublishProperties
}

/** A wall-clock instant with nanoseconds (mosquitto_sub reads CLOCK_REALTIME). */
export interface Timestamp {
  date: Date
  /** Nanoseconds within the second. */
  ns: number
}

export function now(): Timestamp {
  const ms = performance.timeOrigin + performance.now()
  const date = new Date(Math.floor(ms))
  const ns = Math.floor((ms % 1000) * 1e6)
  return {date, ns: Math.min(ns, 999_999_999)}
}
