import type {Duplex} from 'node:stream'
import {encodePacket, PacketDecoder, type Packet} from '../../codec/index.js'

export interface Refusal {
  /** The v5 CONNACK reason code (0x97 quota exceeded, 0x87 not authorized, ...). */
  reasonCode: number
  /** The reason string sent to v5 clients. */
  reason: string
  /** The v3 CONNACK return code, if a v3 client is told at all (undefined: just closed, as Mosquitto does for max_connections). */
  v3ReturnCode?: number
}

/** A CONNECT is small; anything larger while refusing is not worth reading. */
const MAX_CONNECT_BYTES = 64 * 1024
const WAIT_FOR_CONNECT_MS = 10_000
const LINGER_MS = 2000

/**
 * Refuses a connection that never reaches the engine: waits for its CONNECT to learn the protocol
 * version, answers a v5 client with a CONNACK carrying the reason code (a v3 client with the return
 * code, or nothing), and closes. A peer that sends nothing or garbage is closed.
 */
export function refuseConnection(stream: Duplex, refusal: Refusal): void {
  const decoder = new PacketDecoder({maxPacketSize: MAX_CONNECT_BYTES})
  let done = false
  const timer = setTimeout(() => stream.destroy(), WAIT_FOR_CONNECT_MS)
  timer.unref()
  const finish = (packet: Packet | undefined) => {
    if (done) return
    done = true
    decoder.stop()
    clearTimeout(timer)
    if (packet?.cmd === 'connect') {
      if (packet.protocolVersion === 5) {
        // the reason string only if the client wants problem information [MQTT-3.1.2-29] and it fits [MQTT-3.1.2-24]
        const {requestProblemInformation, maximumPacketSize} = packet.properties ?? {}
        const connack = {cmd: 'connack', sessionPresent: false, reasonCode: refusal.reasonCode} as const
        let bytes = encodePacket(requestProblemInformation === false ? connack : {...connack, properties: {reasonString: refusal.reason}}, 5)
        if (bytes.length > (maximumPacketSize ?? Infinity)) bytes = encodePacket(connack, 5)
        if (bytes.length <= (maximumPacketSize ?? Infinity)) stream.write(bytes)
      } else if (refusal.v3ReturnCode !== undefined) {
        stream.write(encodePacket({cmd: 'connack', sessionPresent: false, returnCode: refusal.v3ReturnCode}, 4))
      }
    }
    stream.end()
    setTimeout(() => stream.destroy(), LINGER_MS).unref()
  }
  stream.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk, finish)
    } catch {
      finish(undefined)
    }
  })
  stream.on('error', () => stream.destroy())
  stream.on('end', () => finish(undefined))
  stream.once('close', () => clearTimeout(timer))
}
