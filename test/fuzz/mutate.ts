// Mutators: the ways a packet goes wrong. Structure mutators change one field of a packet model (so
// the frame around it stays consistent and the broker's checks, not the framing, are what is tested);
// byte mutators damage the encoded frame. Each returns its name, which the fuzzer counts.
import {ALLOWED, encode, PROPS, prop, TYPE, varint, type Field, type Model, type Prop} from './packets.js'
import type {Rand} from './rand.js'

const BAD_UTF8 = [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xff], [0xe2, 0x82], [0xe0, 0x80, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80]]
const CONTROL = ['\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u009f', '\uffff', '\ufeff', '\ud800']
const UNKNOWN_PROPS = [0x00, 0x04, 0x05, 0x07, 0x0a, 0x0c, 0x10, 0x14, 0x1b, 0x1d, 0x1e, 0x20, 0x2b, 0x7f, 0xff]
const ALL_PROPS = Object.keys(PROPS).map(Number)

function fieldsOf<K extends Field['k']>(m: Model, k: K): Array<Extract<Field, {k: K}>> {
  return m.fields.filter((f): f is Extract<Field, {k: K}> => f.k === k)
}

/** A property with a plausible value of its type. */
export function randomProp(r: Rand, id: number): Prop {
  switch (PROPS[id]) {
    case 'byte': return prop(id, r.chance(0.8) ? r.int(2) : r.int(256))
    case 'u16': return prop(id, r.pick([0, 1, 10, 11, 65_535, r.int(65_536)]))
    case 'u32': return prop(id, r.pick([0, 1, 60, 0xffffffff, r.int(2 ** 32)]))
    case 'varint': return prop(id, r.pick([0, 1, 268_435_455, r.int(268_435_456)]))
    case 'string': return prop(id, r.pick(['', 'a', 'text/plain', 'resp/topic', 'ünï🐝', 'x'.repeat(300)]))
    case 'binary': return prop(id, r.bytes(r.size(64)))
    case 'pair': return prop(id, [r.pick(['k', '', 'ünï']), r.pick(['v', '', 'x'.repeat(100)])])
    default: return {id, value: r.bytes(r.int(5))}
  }
}

function propsField(m: Model): {list: Prop[]} | undefined {
  const all = fieldsOf(m, 'props')
  return all.length === 0 ? undefined : all[0]
}

function kindOf(m: Model): string {
  switch (m.type) {
    case TYPE.CONNECT: return 'connect'
    case TYPE.PUBLISH: return 'publish'
    case TYPE.SUBSCRIBE: return 'subscribe'
    case TYPE.UNSUBSCRIBE: return 'unsubscribe'
    case TYPE.DISCONNECT: return 'disconnect'
    case TYPE.AUTH: return 'auth'
    default: return 'ack'
  }
}

type StructMutator = (r: Rand, m: Model) => boolean

/** Structure mutators: each changes m in place, or returns false when it does not apply. */
const STRUCT: Record<string, StructMutator> = {
  'packet-id-0': (_r, m) => { const f = fieldsOf(m, 'id')[0]; if (!f) return false; f.n = 0; return true },
  'qos-3': (_r, m) => { if (m.type !== TYPE.PUBLISH) return false; m.flags |= 6; return true },
  'reserved-flags': (r, m) => { if (m.type === TYPE.PUBLISH) return false; m.flags ^= 1 << r.int(4); return true },
  'duplicate-prop': (r, m) => {
    const f = propsField(m)
    if (!f) return false
    const id = f.list.length > 0 && r.chance(0.5) ? r.pick(f.list).id : r.pick(ALLOWED[kindOf(m)])
    f.list.push(randomProp(r, id), randomProp(r, id))
    return true
  },
  'disallowed-prop': (r, m) => {
    const f = propsField(m)
    if (!f) return false
    const allowed = ALLOWED[kindOf(m)]
    f.list.splice(r.int(f.list.length + 1), 0, randomProp(r, r.pick(ALL_PROPS.filter((id) => !allowed.includes(id)))))
    return true
  },
  'unknown-prop': (r, m) => {
    const f = propsField(m)
    if (!f) return false
    f.list.push({id: r.pick(UNKNOWN_PROPS), value: r.bytes(r.int(6))})
    return true
  },
  // the crash of issue 14: a property whose value is cut off at the end of the list (e.g. 1A 03)
  'cut-prop': (r, m) => {
    const f = propsField(m)
    if (!f) return false
    const p = randomProp(r, r.pick(ALL_PROPS))
    f.list.push({id: p.id, value: p.value.subarray(0, Math.max(0, p.value.length - 1 - r.int(p.value.length)))})
    return true
  },
  'flag-prop-value': (r, m) => {
    const f = propsField(m)
    if (!f) return false
    f.list.push(prop(r.pick([0x01, 0x17, 0x19]), r.between(2, 255)))
    return true
  },
  'prop-length': (r, m) => {
    const i = m.fields.findIndex((f) => f.k === 'props')
    if (i < 0) return false
    const list = (m.fields[i] as {list: Prop[]}).list
    const body = Buffer.concat(list.flatMap((p) => [varint(p.id), p.value]))
    const length = r.chance(0.3) ? r.pick([268_435_455, 65_536, 127]) : Math.max(0, body.length + r.between(-3, 3))
    m.fields[i] = {k: 'raw', b: Buffer.concat([varint(length), body])}
    return true
  },
  'topic-alias': (r, m) => {
    const f = propsField(m)
    if (m.type !== TYPE.PUBLISH || !f) return false
    f.list.push(prop(0x23, r.pick([0, 11, 100, 65_535, r.between(1, 10)])))
    const topic = fieldsOf(m, 'str')[0]
    if (topic && r.chance(0.5)) topic.b = Buffer.alloc(0) // alias only, perhaps never set
    return true
  },
  'subscription-id': (r, m) => {
    const f = propsField(m)
    if (!f || (m.type !== TYPE.SUBSCRIBE && m.type !== TYPE.PUBLISH)) return false
    f.list.push(prop(0x0b, r.pick([0, 0, 1, 268_435_455])))
    return true
  },
  'bad-utf8': (r, m) => {
    const strs = fieldsOf(m, 'str')
    if (strs.length === 0) return false
    const f = r.pick(strs)
    const at = r.int(f.b.length + 1)
    f.b = Buffer.concat([f.b.subarray(0, at), Buffer.from(r.pick(BAD_UTF8)), f.b.subarray(at)])
    return true
  },
  'control-char': (r, m) => {
    const strs = fieldsOf(m, 'str')
    if (strs.length === 0) return false
    const f = r.pick(strs)
    const at = r.int(f.b.length + 1)
    const c = r.pick(CONTROL)
    // U+D800 cannot be written by Buffer.from (it becomes U+FFFD): write its CESU bytes instead
    const bytes = c === '\ud800' ? Buffer.from([0xed, 0xa0, 0x80]) : Buffer.from(c)
    f.b = Buffer.concat([f.b.subarray(0, at), bytes, f.b.subarray(at)])
    return true
  },
  'bad-string': (r, m) => {
    const strs = fieldsOf(m, 'str')
    if (strs.length === 0) return false
    r.pick(strs).b = Buffer.from(r.pick(['', '#', '+', 'a/#/b', 'a+', '#/', '$share/', '$share//x', '$share/g', '/', '//', 'x'.repeat(65_535)]))
    return true
  },
  'subscription-options': (r, m) => {
    if (m.type !== TYPE.SUBSCRIBE) return false
    const opts = m.fields.filter((f, i) => f.k === 'raw' && i > 0) as Array<{k: 'raw'; b: Buffer}>
    if (opts.length === 0) return false
    r.pick(opts).b = Buffer.from([r.pick([0x03, 0x30, 0x40, 0x80, 0xc0, 0xff, 0x04, 0x07])])
    return true
  },
  'no-payload': (_r, m) => {
    if (m.type !== TYPE.SUBSCRIBE && m.type !== TYPE.UNSUBSCRIBE) return false
    m.fields = m.fields.filter((f) => f.k === 'id' || f.k === 'props')
    return true
  },
  'drop-props': (_r, m) => {
    const before = m.fields.length
    m.fields = m.fields.filter((f) => f.k !== 'props')
    return m.fields.length < before
  },
  'add-props': (r, m) => {
    if (propsField(m)) return false
    const at = m.fields.findIndex((f) => f.k === 'id')
    m.fields.splice(at + 1, 0, {k: 'props', list: [randomProp(r, r.pick(ALL_PROPS))]})
    return true
  },
  'drop-field': (r, m) => {
    if (m.fields.length === 0) return false
    m.fields.splice(r.int(m.fields.length), 1)
    return true
  },
  'long-field': (r, m) => {
    const bins = [...fieldsOf(m, 'str'), ...fieldsOf(m, 'bin')]
    if (bins.length === 0) return false
    r.pick(bins).b = Buffer.alloc(r.pick([256, 4096, 65_535]), 0x61)
    return true
  },
}

type ByteMutator = (r: Rand, frame: Buffer) => Buffer

function headerLength(frame: Buffer): number {
  let i = 1
  while (i < 5 && i < frame.length && frame[i] & 0x80) i++
  return i + 1
}

const BYTES: Record<string, ByteMutator> = {
  'bit-flip': (r, b) => {
    const out = Buffer.from(b)
    for (let n = r.between(1, 4); n > 0; n--) { const i = r.int(out.length); out[i] ^= 1 << r.int(8) }
    return out
  },
  'byte-set': (r, b) => {
    const out = Buffer.from(b)
    out[r.int(out.length)] = r.pick([0x00, 0x01, 0x7f, 0x80, 0xff, r.int(256)])
    return out
  },
  // the frame ends early: the next packet's bytes are read as the rest of this one
  'truncate': (r, b) => b.subarray(0, r.int(b.length)),
  'remaining-length': (r, b) => {
    const body = b.subarray(headerLength(b))
    const n = Math.max(0, body.length + r.pick([-5, -2, -1, 1, 2, 7]))
    return Buffer.concat([b.subarray(0, 1), varint(n), body])
  },
  'huge-length': (r, b) => {
    const body = b.subarray(headerLength(b))
    const len = r.pick([Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]), Buffer.from([0x80, 0x80, 0x80, 0x80]), varint(2_000_001), varint(1 << 20)])
    return Buffer.concat([b.subarray(0, 1), len, body])
  },
  'overlong-length': (_r, b) => {
    // a remaining length in more bytes than needed ([MQTT-1.5.5-1]: the minimum number of bytes)
    const body = b.subarray(headerLength(b))
    const n = body.length
    return Buffer.concat([b.subarray(0, 1), Buffer.from([(n & 0x7f) | 0x80, (n >> 7) & 0x7f]), body])
  },
  'insert': (r, b) => { const i = r.int(b.length + 1); return Buffer.concat([b.subarray(0, i), r.bytes(r.between(1, 8)), b.subarray(i)]) },
  'delete': (r, b) => { const i = r.int(b.length); return Buffer.concat([b.subarray(0, i), b.subarray(i + r.between(1, 4))]) },
  'append': (r, b) => Buffer.concat([b, r.bytes(r.between(1, 16))]),
  'type': (r, b) => {
    const out = Buffer.from(b)
    out[0] = (r.pick([0, 1, 2, 9, 11, 13, 15, r.int(16)]) << 4) | (out[0] & 0x0f)
    return out
  },
  'garbage': (r) => r.bytes(r.between(1, 64)),
}

const STRUCT_NAMES = Object.keys(STRUCT)
const BYTE_NAMES = Object.keys(BYTES)

/**
 * One packet, perhaps damaged: with probability p one or two mutations (structure ones twice as
 * often as byte ones). Returns the bytes and the names of the mutations applied.
 */
export function mutate(r: Rand, m: Model, p: number): {bytes: Buffer; applied: string[]} {
  const applied: string[] = []
  if (!r.chance(p)) return {bytes: encode(m), applied}
  for (let n = r.chance(0.8) ? 1 : 2; n > 0; n--) {
    if (r.chance(0.67)) {
      for (let tries = 0; tries < 4; tries++) {
        const name = r.pick(STRUCT_NAMES)
        if (STRUCT[name](r, m)) { applied.push(name); break }
      }
    }
  }
  let bytes = encode(m)
  if (applied.length === 0 || r.chance(0.15)) {
    const name = r.pick(BYTE_NAMES)
    bytes = BYTES[name](r, bytes)
    applied.push(name)
  }
  return {bytes, applied}
}
