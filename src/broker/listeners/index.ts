import type {Listener, ListenerHandlers, ListenerSpec} from './listener.js'
import {openTcpListener} from './tcp.js'
import {openTlsListener} from './tls.js'
import {openWebSocketListener} from './ws.js'

export {Listener, type Accepted, type ListenerHandlers, type ListenerProtocol, type ListenerSpec, type ListenerStats, type TlsOptions} from './listener.js'

/** Opens a listener of any protocol; resolves once it accepts connections. */
export function openListener(spec: ListenerSpec, handlers: ListenerHandlers): Promise<Listener> {
  switch (spec.protocol) {
    case 'mqtt': return openTcpListener(spec, handlers)
    case 'mqtts': return openTlsListener(spec, handlers)
    case 'ws':
    case 'wss': return openWebSocketListener(spec, handlers)
    default: throw new Error(`unknown listener protocol ${String((spec as {protocol: unknown}).protocol)}`)
  }
}
