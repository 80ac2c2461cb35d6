// Connection scripts: what one fuzzing client sends, from CONNECT to its end. Most packets are valid
// (so the broker gets past CONNECT and into routing, sessions, retained messages and wills); a share
// of them is mutated (mutate.ts).
import {mutate, randomProp} from './mutate.js'
import {
  ack, ALLOWED, auth, connect, disconnect, pingreq, prop, publish, subscribe, TYPE, unsubscribe,
  type Model, type Prop, type Version,
} from './packets.js'
import type {Rand} from './rand.js'

/** Topics the fuzzing clients publish to; the observers subscribe to `#` and `x/#`. */
export const TOPICS = ['x/a', 'x/b', 'x/a/b', 'x/ret', 'fz/1', 'fz/2/3', 'ünï/🐝', `x/${'l'.repeat(200)}`, '$SYS/fz', 'y']
const FILTERS = ['#', 'x/#', 'x/+', '+/+', 'fz/#', '$share/g/x/#', '$share/h/#', 'x/a', '+', '$SYS/#', 'ünï/+']

export interface Credentials {
  username: string
  password: string
}

export interface ConnectionScript {
  version: Version
  /** The packets in order, each as its bytes (hex when saved). */
  packets: Buffer[]
  /** How the client leaves once everything is written: half-close, or reset without a word. */
  close: 'end' | 'destroy'
  /** Everything written at once (default), or the CONNECT alone and the rest after the broker's first answer. */
  pipelined?: boolean
  /** Offsets at which what is written is cut into separate writes (ascending). */
  splits?: number[]
}

export interface GenerateOptions {
  /** Share of packets that are mutated. */
  mutationRate: number
  credentials?: Credentials
  /** Counts of the mutations applied, by name. */
  counts: Map<string, number>
}

function propsFor(r: Rand, kind: string, p = 0.4): Prop[] | undefined {
  if (!r.chance(p)) return undefined
  const ids = ALLOWED[kind]
  const list: Prop[] = []
  for (let n = r.between(1, 3); n > 0; n--) {
    const id = r.pick(ids)
    if (id !== 0x26 && list.some((x) => x.id === id)) continue
    list.push(id === 0x0b ? prop(id, r.between(1, 1000)) : id === 0x01 ? prop(id, r.int(2)) : randomProp(r, id))
  }
  // a sensible value for the ones the broker acts on
  return list.map((x) => x.id === 0x11 ? prop(0x11, r.pick([0, 10, 3600])) : x.id === 0x18 ? prop(0x18, r.pick([0, 1])) : x)
}

function connectModel(r: Rand, version: Version, clientId: string, o: GenerateOptions): Model {
  const withWill = r.chance(0.35)
  const creds = o.credentials
  const login = creds === undefined ? r.chance(0.1) : !r.chance(0.1)
  // Only the pool's ids keep a session: a session per fresh id would be kept (and queue messages)
  // for good, as in Mosquitto, and the memory check would measure that instead of a leak.
  const pooled = clientId.startsWith('fz-p')
  return connect({
    version, clientId, clean: pooled ? r.chance(0.5) : true, keepalive: r.pick([0, 0, 5, 60, 65_535]),
    props: version === 5 ? propsFor(r, 'connect', 0.5)?.filter((p) => p.id !== 0x11 || pooled) : undefined,
    will: withWill ? {topic: r.pick(TOPICS), payload: r.bytes(r.size(2048)), qos: r.int(3), retain: r.chance(0.3), props: version === 5 ? propsFor(r, 'will') : undefined} : undefined,
    username: login ? creds?.username ?? 'fuzz' : undefined,
    password: login ? Buffer.from(creds && !r.chance(0.1) ? creds.password : 'wrong') : undefined,
  })
}

/** A valid packet of any kind a client sends after CONNECT (a PUBLISH most often). */
function packetModel(r: Rand, v: Version, nextId: () => number): Model[] {
  const roll = r.int(100)
  if (roll < 45) {
    const qos = r.int(3)
    const props = v === 5 ? propsFor(r, 'publish') : undefined
    const p = publish(v, {topic: r.pick(TOPICS), qos, retain: r.chance(0.2), dup: qos > 0 && r.chance(0.05), id: nextId(), props, payload: r.bytes(r.size(64 * 1024))})
    const id = p.fields.find((f) => f.k === 'id') as {n: number} | undefined
    // the rest of a QoS 2 flow now and then
    if (qos === 2 && id && r.chance(0.5)) return [p, ack(v, TYPE.PUBREL, id.n)]
    return [p]
  }
  if (roll < 60) {
    const type = r.pick([TYPE.PUBACK, TYPE.PUBREC, TYPE.PUBREL, TYPE.PUBCOMP])
    return [ack(v, type, r.chance(0.5) ? r.between(1, 20) : r.between(1, 65_535), v === 5 && r.chance(0.3) ? r.pick([0, 0x10, 0x80, 0x92]) : undefined, v === 5 ? propsFor(r, 'ack', 0.2) : undefined)]
  }
  if (roll < 75) {
    const subs = Array.from({length: r.between(1, 3)}, () => ({filter: r.pick(FILTERS), options: r.int(3) | (v === 5 ? r.pick([0, 0x04, 0x08, 0x10, 0x20]) : 0)}))
    return [subscribe(v, nextId(), subs, v === 5 ? propsFor(r, 'subscribe') : undefined)]
  }
  if (roll < 83) return [unsubscribe(v, nextId(), Array.from({length: r.between(1, 2)}, () => r.pick(FILTERS)), v === 5 ? propsFor(r, 'unsubscribe', 0.2) : undefined)]
  if (roll < 92) return [pingreq()]
  if (roll < 96 && v === 5) return [auth(r.pick([0x00, 0x18, 0x19]), [prop(0x15, r.pick(['SCRAM-SHA-1', 'x'])), ...(propsFor(r, 'auth') ?? [])])]
  return [disconnect(v, v === 5 && r.chance(0.5) ? r.pick([0x00, 0x04, 0x80]) : undefined, v === 5 ? propsFor(r, 'disconnect', 0.3) : undefined)]
}

/** One client's script: CONNECT (mutated now and then), then 1 to 30 packets. */
export function generateConnection(r: Rand, o: GenerateOptions): ConnectionScript {
  const version = r.pick([3, 4, 4, 5, 5, 5] as const)
  // a few fixed ids, so sessions are resumed and taken over; otherwise fresh ones
  const clientId = r.chance(0.3) ? `fz-p${r.int(8)}` : version === 5 && r.chance(0.1) ? '' : `fz-${r.int(1e9)}`
  const packets: Buffer[] = []
  const count = (names: string[]) => { for (const n of names) o.counts.set(n, (o.counts.get(n) ?? 0) + 1) }
  const c = mutate(r, connectModel(r, version, clientId, o), o.mutationRate / 3)
  count(c.applied)
  packets.push(c.bytes)
  let id = r.between(1, 65_000)
  const nextId = () => (id = id >= 65_535 ? 1 : id + 1)
  // some connections speak another version than their CONNECT announced
  const speak: Version = r.chance(0.03) ? r.pick([3, 4, 5] as const) : version
  for (let n = r.between(1, 30); n > 0; n--) {
    for (const m of packetModel(r, speak, nextId)) {
      const out = mutate(r, m, o.mutationRate)
      count(out.applied)
      packets.push(out.bytes)
    }
  }
  if (r.chance(0.05)) packets.push(c.bytes) // a second CONNECT
  // a third of the clients write in pieces: inside a fixed header, a remaining length or a body
  const total = packets.reduce((n, p) => n + p.length, 0)
  const splits = r.chance(0.33) ? [...new Set(Array.from({length: r.between(1, 6)}, () => r.between(1, Math.max(1, total - 1))))].sort((a, b) => a - b) : undefined
  return {version, packets, close: r.chance(0.7) ? 'end' : 'destroy', pipelined: r.chance(0.5), ...(splits ? {splits} : {})}
}
