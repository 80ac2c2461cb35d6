import {PROTOCOL_MAX_PACKET_SIZE, ReasonCode, type ConnectPacket} from '../codec/index.js'
import {MqttClient} from './client.js'
import {ConnectError, ConnectionRefusedError} from './errors.js'
import {parseBrokerUrl, transportTarget, type ClientOptions} from './options.js'
import {describeTarget, openTransport} from './transport.js'

/**
 * Opens the transport, sends CONNECT and waits for CONNACK. Resolves with a connected client, or
 * throws ConnectError (unreachable, no CONNACK in time) or ConnectionRefusedError (carrying the code).
 */
export async function connect(options: ClientOptions = {}): Promise<MqttClient> {
  const version = options.protocolVersion ?? 5
  const target = transportTarget(options)
  const timeout = options.connectTimeout ?? 30_000
  const timer = new AbortController()
  const timeoutHandle = setTimeout(() => timer.abort(Object.assign(new Error(`timed out after ${timeout / 1000}s`), {code: 'ETIMEDOUT'})), timeout)
  const signal = options.signal ? AbortSignal.any([options.signal, timer.signal]) : timer.signal
  try {
    const stream = await (options.transport ?? openTransport)({...target, signal})
    const packet = connectPacket(options)
    const client = new MqttClient(stream, version, {
      clientId: packet.clientId,
      maxInflight: options.maxInflight ?? 65_535,
      maxPacketSize: options.properties?.maximumPacketSize ?? options.maxPacketSize ?? PROTOCOL_MAX_PACKET_SIZE,
      trace: options.trace,
      manualAck: options.manualAck,
    })
    let connack
    try {
      connack = await client.handshake(packet, signal)
    } catch (error) {
      client.destroy()
      const e = error as Error
      throw new ConnectError(`cannot connect to ${describeTarget(target)}: ${e.message}`, (e as {code?: string}).code, {cause: e})
    }
    const code = (version === 5 ? connack.reasonCode : connack.returnCode) ?? 0
    if (code !== ReasonCode.Success) {
      client.destroy()
      throw new ConnectionRefusedError(connack, version)
    }
    return client
  } finally {
    clearTimeout(timeoutHandle)
  }
}

/** The CONNECT packet for these options (v3.x without an id gets a random `midge-` one). */
export function connectPacket(options: ClientOptions): ConnectPacket {
  const version = options.protocolVersion ?? 5
  const fromUrl = options.url ? parseBrokerUrl(options.url) : undefined
  const username = options.username ?? fromUrl?.username
  const password = options.password ?? fromUrl?.password
  const clientId = options.clientId || (version === 5 ? '' : `midge-${randomHex(8)}`)
  const packet: ConnectPacket = {
    cmd: 'connect',
    protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    clean: options.clean ?? true,
    clientId,
    keepalive: options.keepalive ?? 60,
  }
  if (options.bridgeMode && version !== 5) packet.bridgeMode = true
  if (username !== undefined) packet.username = username
  if (password !== undefined) packet.password = typeof password === 'string' ? Buffer.from(password) : password
  if (options.will) {
    const w = options.will
    packet.will = {topic: w.topic, payload: typeof w.payload === 'string' ? Buffer.from(w.payload) : w.payload,
      qos: w.qos ?? 0, retain: w.retain ?? false}
    if (version === 5 && w.properties) packet.will.properties = w.properties
  }
  if (version === 5 && options.properties) packet.properties = options.properties
  return packet
}

/** n random bytes in hex, from Web Crypto: node:crypto is loaded only when a client id is made up (a v3 client without -i). */
function randomHex(n: number): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(n))).toString('hex')
}
