// A subscriber on a plain TCP socket, parsing with mqtt-packet, that the test can stop and resume
// (socket.pause/resume): how the fan-out tests make a reader the kernel stops taking from.
import assert from 'node:assert/strict'
import {connect, type Socket} from 'node:net'
import type {MqttClient} from 'mqtt'
import mqttPacket from 'mqtt-packet'
import {tryConnect} from './listeners.js'

/** Message i of a fan-out test: its number, then a byte pattern that depends on i, so a copy from another batch shows. */
export function numberedPayload(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, i % 251)
  b.write(`${String(i).padStart(5, '0')}:`)
  return b
}

/** A subscriber on a plain socket that reads only when told to, parsing with mqtt-packet (MQTT 3.1.1). */
export class RawSubscriber {
  readonly socket: Socket
  private readonly parser = mqttPacket.parser({protocolVersion: 4})
  readonly packets: mqttPacket.Packet[] = []
  private waiter: (() => void) | undefined

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1')
    this.socket.on('data', (chunk) => this.parser.parse(chunk))
    this.socket.on('error', () => undefined)
    this.parser.on('packet', (p) => {
      this.packets.push(p)
      this.waiter?.()
    })
    this.parser.on('error', (e) => this.socket.destroy(e))
  }

  send(p: mqttPacket.Packet): void {
    this.socket.write(mqttPacket.generate(p))
  }

  /** Resolves once check() holds, checking after every packet. */
  async until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>((resolve) => (this.waiter = resolve))
  }

  /** Connects as a clean session and subscribes to `topic`; resolves on the SUBACK. */
  async subscribe(clientId: string, topic: string, qos: 0 | 1): Promise<void> {
    this.send({cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 0})
    this.send({cmd: 'subscribe', messageId: 1, subscriptions: [{topic, qos}]})
    await this.until(() => this.packets.some((p) => p.cmd === 'suback'))
  }
}

/** The PUBLISH packets received so far, in order. */
export function publishesOf(sub: RawSubscriber): mqttPacket.IPublishPacket[] {
  return sub.packets.filter((p) => p.cmd === 'publish') as mqttPacket.IPublishPacket[]
}

/** Reads again (a paused socket resumes), acknowledging every QoS 1 PUBLISH, until `count` have come; resolves with them. */
export async function readAndAcknowledge(sub: RawSubscriber, count: number): Promise<mqttPacket.IPublishPacket[]> {
  sub.socket.resume()
  let acked = 0
  await sub.until(() => {
    const got = publishesOf(sub)
    for (; acked < got.length; acked++) sub.send({cmd: 'puback', messageId: got[acked]!.messageId})
    return got.length >= count
  })
  return publishesOf(sub)
}

/**
 * n mqtt.js subscribers of `topic` (client ids fast-0, fast-1, ...), each collecting the payloads it
 * gets; `done` resolves once each has `count`. Their clients go into `clients`, for the caller to end.
 */
export async function fastReaders(port: number, n: number, topic: string, qos: 0 | 1, count: number, clients: MqttClient[]):
  Promise<{got: Buffer[][]; done: Promise<unknown>}> {
  const got: Buffer[][] = []
  const done: Array<Promise<void>> = []
  for (let i = 0; i < n; i++) {
    const a = await tryConnect(`mqtt://127.0.0.1:${port}`, {clientId: `fast-${i}`})
    assert.ok(a.ok)
    clients.push(a.client)
    await a.client.subscribeAsync(topic, {qos})
    const payloads: Buffer[] = []
    got.push(payloads)
    done.push(new Promise((resolve) => a.client.on('message', (_topic, p) => {
      payloads.push(p)
      if (payloads.length === count) resolve()
    })))
  }
  return {got, done: Promise.all(done)}
}
