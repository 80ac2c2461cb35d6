// What plugin hooks may answer, and the time limit on an answer that is a promise.
import {isValidTopicName} from '../../../codec/topic.js'
import type {QoS} from '../../../codec/index.js'
import type {AuthResult} from '../authenticator.js'
import type {InterceptedPublish} from '../hooks.js'

export class TimeoutError extends Error {}

/** Settles like `promise`, or rejects with TimeoutError after `ms`. */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms)
    timer.unref()
  })
  return Promise.race([Promise.resolve(promise), expired]).finally(() => clearTimeout(timer))
}

export function isThenable(v: unknown): v is Promise<unknown> {
  return typeof (v as {then?: unknown} | null)?.then === 'function'
}

export function isBoolean(v: unknown): v is boolean {
  return typeof v === 'boolean'
}

/** true, false, or a CONNACK refusal code (0x80 and above). */
export function isConnectVerdict(v: unknown): v is boolean | number {
  return typeof v === 'boolean' || (Number.isInteger(v) && (v as number) >= 0x80 && (v as number) <= 0xff)
}

export function isAuthResult(v: unknown): v is AuthResult {
  const s = (v as AuthResult | null)?.status
  return s === 'continue' || s === 'success' || s === 'failure'
}

/** A boolean, or an object changing only topic (a valid name), payload (a Buffer), qos (0-2) and retain. */
export function isInterception(v: unknown): v is boolean | Partial<InterceptedPublish> {
  if (typeof v === 'boolean') return true
  if (typeof v !== 'object' || v === null) return false
  const m = v as Partial<InterceptedPublish>
  return Object.keys(m).every((k) => ['topic', 'payload', 'qos', 'retain'].includes(k)) &&
    (m.topic === undefined || (typeof m.topic === 'string' && isValidTopicName(m.topic))) &&
    (m.payload === undefined || Buffer.isBuffer(m.payload)) &&
    (m.qos === undefined || [0, 1, 2].includes(m.qos as QoS)) &&
    (m.retain === undefined || typeof m.retain === 'boolean')
}

export function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.slice(0, 40)}'`
  if (typeof v === 'object') return `an object (${Object.keys(v as object).slice(0, 5).join(', ') || 'empty'})`
  return String(v)
}
