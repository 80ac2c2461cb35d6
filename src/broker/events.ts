import {EventEmitter} from 'node:events'

export interface ClientEvent {
  clientId: string
  username?: string
  remoteAddress?: string
  protocolVersion: 3 | 4 | 5
}

/** The events a broker emits; the CLI logs them, tests and embedders listen to them. */
export interface BrokerEvents {
  clientConnected: [ClientEvent & {sessionPresent: boolean; keepalive: number; cleanStart: boolean}]
  clientDisconnected: [ClientEvent & {reason: string}]
  subscribe: [{clientId: string; subscriptions: Array<{filter: string; code: number}>}]
  unsubscribe: [{clientId: string; filters: string[]}]
  messageDropped: [{clientId: string; topic: string; reason: string}]
  listening: [{protocol: string; host: string; port: number; url: string}]
  /** A connection failed before reaching the engine (TLS handshake, bad client certificate). */
  listenerError: [{url: string; remoteAddress?: string; error: string}]
  /** A bridge connected to its remote broker (address: host:port). */
  bridgeConnected: [{name: string; address: string}]
  /** A bridge's remote connection ended (or an attempt failed: see the log). */
  bridgeDisconnected: [{name: string; address: string; reason: string}]
}

/** A typed EventEmitter. */
export class TypedEmitter<E extends {[K in keyof E]: unknown[]}> extends EventEmitter {
  override on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this { return super.on(event, listener as never) }
  override once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this { return super.once(event, listener as never) }
  override off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this { return super.off(event, listener as never) }
  override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean { return super.emit(event, ...args) }
  /** Whether anyone listens: an event nobody hears need not be built (once per connect and disconnect). */
  heard<K extends keyof E & string>(event: K): boolean { return this.listenerCount(event) > 0 }
}
