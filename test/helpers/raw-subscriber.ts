// A subscriber on a plain TCP socket, parsing with mqtt-packet, that the test can stop and resume
// (socket.pause/resume): how the fan-out tests make a reader the kernel stops taking from.
import {connect, type Socket} from 'node:net'
import mqttPacket from 'mqtt-packet'

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
