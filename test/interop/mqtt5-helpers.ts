// Shared by the test/interop/mqtt5-*.test.ts files: the `mqtt` npm package in v5 mode against a midge
// broker on a real TCP listener (port 0), everything closed when the test ends.
import type {TestContext} from 'node:test'
import mqtt, {type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient} from 'mqtt'
import {createBroker, type Broker, type BrokerOptions} from '../../src/index.js'

export interface Fixture {
  broker: Broker
  url: string
  /**
   * An mqtt.js v5 client, connected (rejects on a refused CONNECT); ended with the test. `setup` runs
   * before anything arrives (e.g. to install handleAuth).
   */
  client(options?: IClientOptions, setup?: (c: MqttClient) => void): Promise<MqttClient>
}

export async function fixture(t: TestContext, options: Partial<BrokerOptions> = {}): Promise<Fixture> {
  const broker = createBroker(options)
  const {port} = await broker.listen({port: 0})
  const url = `mqtt://127.0.0.1:${port}`
  const clients: MqttClient[] = []
  t.after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
    await broker.close()
  })
  return {
    broker,
    url,
    async client(o: IClientOptions = {}, setup?: (c: MqttClient) => void) {
      const c = mqtt.connect(url, {protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, keepalive: 0, ...o})
      clients.push(c)
      setup?.(c)
      inbox(c) // collects from the start: a resumed session's messages can come in the CONNACK's chunk
      await new Promise<void>((resolve, reject) => {
        c.once('connect', (packet) => { connacks.set(c, packet); resolve() })
        c.once('error', reject)
        c.once('close', () => reject(new Error('closed before CONNACK')))
      })
      return c
    },
  }
}

const connacks = new WeakMap<MqttClient, IConnackPacket>()

/** The CONNACK a fixture client got. */
export function connack(c: MqttClient): IConnackPacket {
  return connacks.get(c)!
}

export interface Received {
  topic: string
  payload: Buffer
  packet: IPublishPacket
}

export interface Inbox {
  next(ms?: number): Promise<Received>
  readonly pending: Received[]
}

const inboxes = new WeakMap<MqttClient, Inbox>()

/** Every message a client receives, collected from its creation (one per client); `next()` waits for the next one. */
export function inbox(c: MqttClient): Inbox {
  const known = inboxes.get(c)
  if (known !== undefined) return known
  const pending: Received[] = []
  let wake: (() => void) | undefined
  c.on('message', (topic, payload, packet) => {
    if (topic.startsWith('settle/')) return
    pending.push({topic, payload, packet})
    wake?.()
  })
  const box: Inbox = {
    pending,
    async next(ms = 3000) {
      const deadline = Date.now() + ms
      while (pending.length === 0) {
        const left = deadline - Date.now()
        if (left <= 0) throw new Error('no message within timeout')
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          wake = () => { clearTimeout(timer); resolve() }
        })
      }
      return pending.shift()!
    },
  }
  inboxes.set(c, box)
  return box
}

/** The arguments of the next `event` of an mqtt.js client. */
export function nextEvent(c: MqttClient, event: string): Promise<any[]> {
  return new Promise((resolve) => (c as unknown as NodeJS.EventEmitter).once(event, (...args: unknown[]) => resolve(args)))
}

/** A round trip through the broker: everything the broker sent this client before it has arrived. */
export async function settle(c: MqttClient): Promise<void> {
  const topic = `settle/${Math.random()}`
  const box = new Promise<void>((resolve) => {
    const on = (t: string) => { if (t === topic) { c.off('message', on); resolve() } }
    c.on('message', on)
  })
  await c.subscribeAsync(topic, {qos: 0})
  await c.publishAsync(topic, '', {qos: 0})
  await box
  await c.unsubscribeAsync(topic)
}
