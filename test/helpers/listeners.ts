// Listeners around a broker engine for the listener tests, and an mqtt.js connect that reports refusals.
import mqtt, {type IClientOptions, type MqttClient} from 'mqtt'
import type {Broker} from '../../src/broker/broker.js'
import {openListener, type Accepted, type Listener, type ListenerSpec} from '../../src/broker/listeners/index.js'

/** Opens a listener that hands its connections to the broker and remembers what it accepted. */
export async function listenerFor(broker: Broker, spec: ListenerSpec): Promise<{listener: Listener; accepted: Accepted[]; errors: Error[]}> {
  const accepted: Accepted[] = []
  const errors: Error[] = []
  const listener = await openListener({host: '127.0.0.1', ...spec}, {
    onStream: (stream, a) => {
      accepted.push(a)
      broker.handle(stream, a.remoteAddress, {username: a.username, listener: a.listener})
    },
    onClientError: (error) => errors.push(error),
  })
  return {listener, accepted, errors}
}

export type Attempt = {ok: true; client: MqttClient} | {ok: false; error?: Error & {code?: number | string}; closed: boolean}

/** Connects with mqtt.js: the client once CONNACK accepts, else how it failed (an error, or just a close). */
export function tryConnect(url: string, options: IClientOptions = {}, timeoutMs = 5000): Promise<Attempt> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {reconnectPeriod: 0, connectTimeout: timeoutMs, ...options})
    let error: Error | undefined
    const done = (a: Attempt) => {
      clearTimeout(timer)
      client.removeAllListeners('connect')
      if (!a.ok) client.end(true)
      resolve(a)
    }
    const timer = setTimeout(() => done({ok: false, error: new Error('timeout'), closed: false}), timeoutMs + 1000)
    client.on('connect', () => done({ok: true, client}))
    client.on('error', (e) => { error ??= e })
    client.on('close', () => done({ok: false, error, closed: true}))
  })
}

/** The arguments of the next `event` from an mqtt.js client. */
export function next(c: MqttClient, event: string): Promise<any[]> {
  return new Promise((resolve) => (c as unknown as NodeJS.EventEmitter).once(event, (...args: unknown[]) => resolve(args)))
}

/** Subscribes one client, publishes from another, and resolves with the payload received. */
export async function roundTrip(sub: MqttClient, pub: MqttClient, topic: string, payload: string): Promise<string> {
  await sub.subscribeAsync(topic, {qos: 1})
  const got = next(sub, 'message')
  await pub.publishAsync(topic, payload, {qos: 1})
  const [, message] = await got
  return (message as Buffer).toString()
}
