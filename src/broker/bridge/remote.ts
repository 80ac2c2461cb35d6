// How a bridge reaches its remote: the CONNECT it sends (Mosquitto's bridge__connect: client id,
// clean session, keepalive, credentials, the state will, the bridge bit, TLS) and a TCP probe of an
// address (to learn that the primary is back).
import {connect as netConnect} from 'node:net'
import type {ClientOptions, WillOptions} from '../../client/index.js'
import type {BridgeAddress, BridgeConfig} from './config.js'

const NEVER_EXPIRES = 0xffff_ffff

export function remoteOptions(c: BridgeConfig, address: BridgeAddress, version: 3 | 4 | 5, bridgeMode: boolean, will: WillOptions | undefined): ClientOptions {
  return {
    host: address.host, port: address.port, scheme: c.tls ? 'mqtts' : 'mqtt', tls: c.tls, localAddress: c.bindAddress,
    protocolVersion: version, clientId: c.remoteClientId, clean: c.cleanSession, keepalive: c.keepalive,
    username: c.remoteUsername, password: c.remotePassword, will, bridgeMode, manualAck: true, connectTimeout: 30_000,
    // cleansession false: the remote keeps the bridge's subscriptions and messages (v5: until it comes back)
    properties: version === 5 ? {sessionExpiryInterval: c.cleanSession ? 0 : NEVER_EXPIRES} : undefined,
  }
}

/** Resolves true when a TCP connection to `address` opens (then closed at once), false when it fails. */
export function answers(address: BridgeAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({host: address.host, port: address.port})
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

export function describeAddress(a: BridgeAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}
