import type {Logger} from 'pino'
import type {Broker} from '../broker/broker.js'
import {reasonName} from '../codec/index.js'

/** The engine emits events; the CLI logs them. */
export function logBrokerEvents(broker: Broker, log: Logger): void {
  broker.events.on('messageDropped', (e) => log.warn({clientId: e.clientId, topic: e.topic, reason: e.reason}, 'message dropped'))
  // listening only at the levels logged: the engine builds no event nobody hears
  if (!log.isLevelEnabled('info')) return
  broker.events.on('listenerError', (e) => log.info({listener: e.url, address: e.remoteAddress, error: e.error}, 'connection refused before CONNECT'))
  broker.events.on('clientConnected', (e) =>
    log.info({clientId: e.clientId, address: e.remoteAddress, username: e.username, protocol: e.protocolVersion,
      sessionPresent: e.sessionPresent, keepalive: e.keepalive}, 'client connected'))
  broker.events.on('clientDisconnected', (e) =>
    log.info({clientId: e.clientId, address: e.remoteAddress, reason: e.reason}, 'client disconnected'))
  if (!log.isLevelEnabled('debug')) return
  broker.events.on('subscribe', (e) =>
    log.debug({clientId: e.clientId, subscriptions: e.subscriptions.map((s) => `${s.filter} (${s.code < 0x80 ? `qos ${s.code}` : reasonName(s.code)})`)}, 'subscribe'))
  broker.events.on('unsubscribe', (e) => log.debug({clientId: e.clientId, filters: e.filters}, 'unsubscribe'))
}
