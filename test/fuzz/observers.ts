// The well-behaved clients around the fuzzing: subscribers of every version on `#` and on the fuzzed
// topics (clients we did not write: MQTT.js, and Debian's mosquitto_sub -V 5, which refuses any
// property that a PUBLISH may not carry), a side client whose QoS 1 round trip must keep working, and
// fresh subscribers that receive the retained messages.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import mqtt, {type IClientOptions, type MqttClient} from 'mqtt'
import {orphanSafe} from '../helpers/cli.js'
import {killOnExit} from './broker-process.js'
import type {Credentials} from './generate.js'

const SUBSCRIBERS: Array<{name: string; version: 3 | 4 | 5; filter: string; qos: 0 | 1 | 2; subscriptionId?: number; properties?: IClientOptions['properties']}> = [
  {name: 'v3.1.1 on #', version: 4, filter: '#', qos: 2},
  {name: 'v5 on #', version: 5, filter: '#', qos: 1},
  // what the broker must hold back or leave out for this one: packets over 2 kB, more than 2 in flight
  {name: 'v5 on # (Maximum Packet Size 2048, Receive Maximum 2)', version: 5, filter: '#', qos: 2, properties: {maximumPacketSize: 2048, receiveMaximum: 2}},
  {name: 'v3.1.1 on x/#', version: 4, filter: 'x/#', qos: 1},
  {name: 'v5 on x/# (subscription id)', version: 5, filter: 'x/#', qos: 2, subscriptionId: 7},
  {name: 'v3.1 on fz/#', version: 3, filter: 'fz/#', qos: 0},
  {name: 'v5 on ünï/+', version: 5, filter: 'ünï/+', qos: 1},
]

let ids = 0
const uniqueId = (prefix: string) => `${prefix}-${process.pid}-${ids++}-${Math.random().toString(16).slice(2, 10)}`

function options(version: 3 | 4 | 5, credentials: Credentials | undefined): IClientOptions {
  return {
    protocolVersion: version, protocolId: version === 3 ? 'MQIsdp' : 'MQTT', clientId: uniqueId('obs'),
    reconnectPeriod: 0, connectTimeout: 30_000, keepalive: 0, clean: true,
    ...(credentials ? {username: credentials.username, password: credentials.password} : {}),
  }
}

function connected(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
    client.once('close', () => reject(new Error('closed before CONNACK')))
  })
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms) })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Ends a client at once. Its socket is destroyed at the call; the wait for mqtt.js's callback is bounded,
 * since that callback is known not to come in some states of a stream already closed (MQTT.js #710).
 */
async function forceEnd(client: MqttClient): Promise<void> {
  await withTimeout(client.endAsync(true), 5_000, 'end').catch(() => undefined)
}

/** Subscribers that stay connected for the whole run; anything that goes wrong for them is a problem. */
export class Observers {
  private clients: MqttClient[] = []
  private mosquitto: ChildProcess | undefined
  private stopping = false
  /** What went wrong since the last take(). */
  private problems: string[] = []
  received = 0

  constructor(private readonly port: number, private readonly credentials: Credentials | undefined) {}

  async start(): Promise<void> {
    this.stopping = false
    for (const s of SUBSCRIBERS) {
      const client = mqtt.connect(`mqtt://127.0.0.1:${this.port}`, {...options(s.version, this.credentials), ...(s.properties ? {properties: s.properties} : {})})
      this.clients.push(client)
      await connected(client)
      client.on('message', () => { this.received++ })
      client.on('error', (e) => this.problems.push(`${s.name}: error ${e.message}`))
      client.on('disconnect', (p) => this.problems.push(`${s.name}: DISCONNECT 0x${(p.reasonCode ?? 0).toString(16)} ${p.properties?.reasonString ?? ''}`))
      client.on('close', () => { if (!this.stopping) this.problems.push(`${s.name}: connection closed`) })
      const granted = await client.subscribeAsync(s.filter, {qos: s.qos, ...(s.subscriptionId ? {properties: {subscriptionIdentifier: s.subscriptionId}} : {})})
      if (granted[0].qos > 2) throw new Error(`${s.name}: subscription refused (0x${granted[0].qos.toString(16)})`)
    }
    if (hasMosquittoSub()) {
      // -d: its packet log (and the payloads, -F %t: only topics) is kept, so that a failure says what came last
      const args = ['-V', '5', '-p', String(this.port), '-h', '127.0.0.1', '-t', '#', '-q', '1', '-i', uniqueId('obs-mosq'), '-k', '600', '-d', '-F', '%t']
      if (this.credentials) args.push('-u', this.credentials.username, '-P', this.credentials.password)
      // (stdbuf: line-buffered, or its output waits in a 4 kB stdio buffer)
      const child = killOnExit(spawn(...orphanSafe('stdbuf', ['-oL', 'mosquitto_sub', ...args]), {stdio: ['ignore', 'pipe', 'pipe']}))
      let err = ''
      let out = ''
      child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000) })
      // libmosquitto reconnects after what it takes for a malformed packet: a second CONNECT is a problem
      let connects = 0
      child.stdout!.on('data', (d: Buffer) => {
        const text = d.toString()
        out = (out + text).slice(-3000)
        this.mosquittoOut = (this.mosquittoOut + text).slice(-20_000)
        for (const _m of text.matchAll(/sending CONNECT/g)) {
          if (++connects === 2 && !this.stopping) this.problems.push(`mosquitto_sub -V 5 on #: lost its connection and reconnected\nits last output:\n${out}`)
        }
        for (const w of this.mosquittoWaiters) w()
      })
      child.on('exit', (code) => { if (!this.stopping) this.problems.push(`mosquitto_sub -V 5 on #: exited ${code}: ${err.trim()}\nits last output:\n${out}`) })
      this.mosquitto = child
      await this.mosquittoSaw(/received SUBACK/, 60_000).catch((error: Error) => this.problems.push(`mosquitto_sub -V 5 on #: ${error.message}`))
    }
  }

  private mosquittoOut = ''
  private mosquittoWaiters: Array<() => void> = []

  /** Resolves once mosquitto_sub has printed a line matching re (since the last call). */
  private mosquittoSaw(re: RegExp, ms: number): Promise<void> {
    return withTimeout(new Promise<void>((resolve) => {
      const check = () => {
        if (!re.test(this.mosquittoOut)) return
        this.mosquittoOut = ''
        this.mosquittoWaiters = this.mosquittoWaiters.filter((w) => w !== check)
        resolve()
      }
      this.mosquittoWaiters.push(check)
      check()
    }), ms, `no ${re.source} from mosquitto_sub`)
  }

  /**
   * A QoS 1 message published after mosquitto_sub subscribed must reach it: a subscriber stuck in a
   * reconnect loop (a retained message it takes for malformed, delivered first each time) never gets it.
   */
  async mosquittoRoundTrip(ms = 60_000): Promise<void> {
    if (!this.mosquitto || gone(this.mosquitto)) return
    const topic = `side/${uniqueId('mosq')}`
    const client = mqtt.connect(`mqtt://127.0.0.1:${this.port}`, options(5, this.credentials))
    try {
      await withTimeout(connected(client), ms, 'side client CONNECT')
      await withTimeout(client.publishAsync(topic, 'marker', {qos: 1}), ms, 'side client PUBACK')
      await this.mosquittoSaw(new RegExp(topic), ms)
    } catch (error) {
      this.problems.push(`mosquitto_sub -V 5 on #: did not get a message published after its subscription: ${(error as Error).message}`)
    } finally {
      await forceEnd(client)
    }
  }

  /** The problems since the last call (and forgets them). */
  take(): string[] {
    const p = this.problems
    this.problems = []
    return p
  }

  /** True when a subscriber has gone (it must be restarted before the next batch). */
  get broken(): boolean {
    return this.clients.some((c) => !c.connected) || (this.mosquitto !== undefined && gone(this.mosquitto))
  }

  async stop(): Promise<void> {
    this.stopping = true
    await Promise.all(this.clients.map(forceEnd))
    this.clients = []
    if (this.mosquitto && !gone(this.mosquitto)) {
      this.mosquitto.kill('SIGTERM')
      await once(this.mosquitto, 'exit').catch(() => undefined)
    }
    this.mosquitto = undefined
  }
}

/** A child that exited, by itself or by a signal (exitCode alone stays null for the latter: waiting for its exit would never end). */
function gone(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

let mosquittoSub: boolean | undefined
function hasMosquittoSub(): boolean {
  mosquittoSub ??= spawnSync('mosquitto_sub', ['--help'], {stdio: 'ignore'}).error === undefined
  return mosquittoSub
}

/**
 * A client that publishes QoS 1 to its own topic and must get both the PUBACK and the message back.
 * Every call makes a fresh connection of each version (a kept one could hide a broker that no longer
 * accepts new clients).
 */
export async function roundTrip(port: number, credentials: Credentials | undefined, ms = 60_000): Promise<void> {
  for (const version of [4, 5] as const) {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, options(version, credentials))
    try {
      await withTimeout(connected(client), ms, `side client v${version} CONNECT`)
      const topic = `side/${uniqueId('rt')}`
      await withTimeout(client.subscribeAsync(topic, {qos: 1}), ms, `side client v${version} SUBSCRIBE`)
      const payload = uniqueId('payload')
      const arrived = new Promise<void>((resolve) => client.on('message', (_t, p) => { if (p.toString() === payload) resolve() }))
      await withTimeout(client.publishAsync(topic, payload, {qos: 1}), ms, `side client v${version} PUBACK`)
      await withTimeout(arrived, ms, `side client v${version} message`)
    } finally {
      await forceEnd(client)
    }
  }
}

/**
 * Fresh v3.1.1 and v5 subscribers on `#`: they get every retained message (and must stay connected
 * through them), then a message of their own published after the subscription.
 */
export async function retainedSubscribe(port: number, credentials: Credentials | undefined, ms = 60_000): Promise<number> {
  let retained = 0
  for (const version of [4, 5] as const) {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, options(version, credentials))
    const problems: string[] = []
    client.on('error', (e) => problems.push(`error ${e.message}`))
    client.on('disconnect', (p) => problems.push(`DISCONNECT 0x${(p.reasonCode ?? 0).toString(16)} ${p.properties?.reasonString ?? ''}`))
    try {
      await withTimeout(connected(client), ms, `retained subscriber v${version} CONNECT`)
      const topic = `side/${uniqueId('ret')}`
      const payload = uniqueId('payload')
      const arrived = new Promise<void>((resolve, reject) => {
        client.on('message', (t, p, packet) => {
          if (packet.retain) retained++
          if (t === topic && p.toString() === payload) resolve()
        })
        client.on('close', () => reject(new Error(`retained subscriber v${version} closed: ${problems.join('; ')}`)))
      })
      await withTimeout(client.subscribeAsync(['#', topic], {qos: 1}), ms, `retained subscriber v${version} SUBSCRIBE`)
      await withTimeout(client.publishAsync(topic, payload, {qos: 1}), ms, `retained subscriber v${version} PUBACK`)
      await withTimeout(arrived, ms, `retained subscriber v${version} message`)
      if (problems.length > 0) throw new Error(`retained subscriber v${version}: ${problems.join('; ')}`)
    } finally {
      await forceEnd(client)
    }
  }
  return retained
}
