// Packet models for the fuzzer: MQTT control packets as a list of typed fields, so that mutators can
// change one field (a string, a property, a packet id) and the encoder still writes a consistent
// frame around it. Written by hand, not with mqtt-packet, because the point is to write packets that
// no encoder would: duplicated, disallowed, unknown or cut-off properties, bad strings, reserved bits.

import {varint} from '../helpers/varint.js'

export {varint}

export type Version = 3 | 4 | 5

/** How a property value is written (v5 2.2.2.2). */
export type PropType = 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'binary' | 'pair'

export interface Prop {
  id: number
  /** The value's bytes as written after the identifier (length prefixes included). */
  value: Buffer
}

export type Field =
  | {k: 'raw'; b: Buffer} // fixed bytes: flags, keepalive, reason code, subscription options
  | {k: 'str'; b: Buffer} // a UTF-8 string field: two length bytes, then b
  | {k: 'bin'; b: Buffer} // binary data: two length bytes, then b
  | {k: 'id'; n: number} // a packet identifier
  | {k: 'props'; list: Prop[]} // a v5 property list with its length
  | {k: 'payload'; b: Buffer} // the rest of the packet

export interface Model {
  type: number
  flags: number
  fields: Field[]
}

export const TYPE = {
  CONNECT: 1, PUBLISH: 3, PUBACK: 4, PUBREC: 5, PUBREL: 6, PUBCOMP: 7, SUBSCRIBE: 8, UNSUBSCRIBE: 10,
  PINGREQ: 12, DISCONNECT: 14, AUTH: 15,
} as const

/** Every v5 property: identifier, value type. */
export const PROPS: Record<number, PropType> = {
  0x01: 'byte', 0x02: 'u32', 0x03: 'string', 0x08: 'string', 0x09: 'binary', 0x0b: 'varint', 0x11: 'u32',
  0x12: 'string', 0x13: 'u16', 0x15: 'string', 0x16: 'binary', 0x17: 'byte', 0x18: 'u32', 0x19: 'byte',
  0x1a: 'string', 0x1c: 'string', 0x1f: 'string', 0x21: 'u16', 0x22: 'u16', 0x23: 'u16', 0x24: 'byte',
  0x25: 'byte', 0x26: 'pair', 0x27: 'u32', 0x28: 'byte', 0x29: 'byte', 0x2a: 'byte',
}

/** The properties a client may send in each packet (v5 table 2-4); 'will' is the will's property list. */
export const ALLOWED: Record<string, number[]> = {
  connect: [0x11, 0x21, 0x22, 0x27, 0x19, 0x17, 0x26],
  will: [0x18, 0x01, 0x02, 0x03, 0x08, 0x09, 0x26],
  publish: [0x01, 0x02, 0x03, 0x08, 0x09, 0x23, 0x26],
  ack: [0x1f, 0x26],
  subscribe: [0x0b, 0x26],
  unsubscribe: [0x26],
  disconnect: [0x11, 0x1f, 0x26],
  auth: [0x15, 0x16, 0x1f, 0x26],
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n & 0xffff)
  return b
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}

export function lengthPrefixed(b: Buffer): Buffer {
  return Buffer.concat([u16(b.length), b])
}

/** A property with a value of its own type, from a JS value. */
export function prop(id: number, v: number | string | Buffer | [string, string]): Prop {
  const type = PROPS[id] ?? 'byte'
  const text = (s: string | Buffer) => lengthPrefixed(typeof s === 'string' ? Buffer.from(s) : s)
  switch (type) {
    case 'byte': return {id, value: Buffer.from([Number(v) & 0xff])}
    case 'u16': return {id, value: u16(Number(v))}
    case 'u32': return {id, value: u32(Number(v))}
    case 'varint': return {id, value: varint(Number(v))}
    case 'string': case 'binary': return {id, value: text(v as string | Buffer)}
    case 'pair': { const [k, val] = v as [string, string]; return {id, value: Buffer.concat([text(k), text(val)])} }
  }
}

export function encodeProps(list: Prop[]): Buffer {
  const body = Buffer.concat(list.flatMap((p) => [varint(p.id), p.value]))
  return Buffer.concat([varint(body.length), body])
}

export function encodeField(f: Field): Buffer {
  switch (f.k) {
    case 'raw': case 'payload': return f.b
    case 'str': case 'bin': return lengthPrefixed(f.b)
    case 'id': return u16(f.n)
    case 'props': return encodeProps(f.list)
  }
}

/** The frame: fixed header (type, flags, remaining length) and the fields. */
export function encode(m: Model): Buffer {
  const body = Buffer.concat(m.fields.map(encodeField))
  return Buffer.concat([Buffer.from([(m.type << 4) | (m.flags & 0x0f)]), varint(body.length), body])
}

const s = (x: string | Buffer) => typeof x === 'string' ? Buffer.from(x) : x

export interface ConnectSpec {
  version: Version
  clientId: string | Buffer
  clean: boolean
  keepalive: number
  props?: Prop[]
  will?: {topic: string | Buffer; payload: Buffer; qos: number; retain: boolean; props?: Prop[]}
  username?: string | Buffer
  password?: Buffer
}

export function connect(c: ConnectSpec): Model {
  const flags = (c.username !== undefined ? 0x80 : 0) | (c.password !== undefined ? 0x40 : 0)
    | (c.will ? 0x04 | (c.will.qos << 3) | (c.will.retain ? 0x20 : 0) : 0) | (c.clean ? 0x02 : 0)
  const fields: Field[] = [
    {k: 'str', b: Buffer.from(c.version === 3 ? 'MQIsdp' : 'MQTT')},
    {k: 'raw', b: Buffer.from([c.version, flags])},
    {k: 'raw', b: u16(c.keepalive)},
  ]
  if (c.version === 5) fields.push({k: 'props', list: c.props ?? []})
  fields.push({k: 'str', b: s(c.clientId)})
  if (c.will) {
    if (c.version === 5) fields.push({k: 'props', list: c.will.props ?? []})
    fields.push({k: 'str', b: s(c.will.topic)}, {k: 'bin', b: c.will.payload})
  }
  if (c.username !== undefined) fields.push({k: 'str', b: s(c.username)})
  if (c.password !== undefined) fields.push({k: 'bin', b: c.password})
  return {type: TYPE.CONNECT, flags: 0, fields}
}

export interface PublishSpec {
  topic: string | Buffer
  qos: number
  retain: boolean
  dup: boolean
  id: number
  props?: Prop[]
  payload: Buffer
}

export function publish(v: Version, p: PublishSpec): Model {
  const fields: Field[] = [{k: 'str', b: s(p.topic)}]
  if (p.qos > 0) fields.push({k: 'id', n: p.id})
  if (v === 5) fields.push({k: 'props', list: p.props ?? []})
  fields.push({k: 'payload', b: p.payload})
  return {type: TYPE.PUBLISH, flags: (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0), fields}
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP; v5 with a reason code and properties when given. */
export function ack(v: Version, type: number, id: number, reason?: number, props?: Prop[]): Model {
  const fields: Field[] = [{k: 'id', n: id}]
  if (v === 5 && (reason !== undefined || props !== undefined)) {
    fields.push({k: 'raw', b: Buffer.from([reason ?? 0])})
    if (props !== undefined) fields.push({k: 'props', list: props})
  }
  return {type, flags: type === TYPE.PUBREL ? 2 : 0, fields}
}

export function subscribe(v: Version, id: number, subs: Array<{filter: string | Buffer; options: number}>, props?: Prop[]): Model {
  const fields: Field[] = [{k: 'id', n: id}]
  if (v === 5) fields.push({k: 'props', list: props ?? []})
  for (const sub of subs) fields.push({k: 'str', b: s(sub.filter)}, {k: 'raw', b: Buffer.from([sub.options])})
  return {type: TYPE.SUBSCRIBE, flags: 2, fields}
}

export function unsubscribe(v: Version, id: number, filters: Array<string | Buffer>, props?: Prop[]): Model {
  const fields: Field[] = [{k: 'id', n: id}]
  if (v === 5) fields.push({k: 'props', list: props ?? []})
  for (const f of filters) fields.push({k: 'str', b: s(f)})
  return {type: TYPE.UNSUBSCRIBE, flags: 2, fields}
}

export function pingreq(): Model {
  return {type: TYPE.PINGREQ, flags: 0, fields: []}
}

export function disconnect(v: Version, reason?: number, props?: Prop[]): Model {
  const fields: Field[] = []
  if (v === 5 && (reason !== undefined || props !== undefined)) {
    fields.push({k: 'raw', b: Buffer.from([reason ?? 0])})
    if (props !== undefined) fields.push({k: 'props', list: props})
  }
  return {type: TYPE.DISCONNECT, flags: 0, fields}
}

export function auth(reason: number, props: Prop[]): Model {
  return {type: TYPE.AUTH, flags: 0, fields: [{k: 'raw', b: Buffer.from([reason])}, {k: 'props', list: props}]}
}
