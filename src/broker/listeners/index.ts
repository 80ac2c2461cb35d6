import type {Listener, ListenerHandlers, ListenerSpec} from './listener.js'
import {openTcpListener} from './tcp.js'
import {openTlsListener} from './tls.js'

export {Listener, type Accepted, type ListenerHandlers, type ListenerProtocol, type ListenerSpec, type ListenerStats, type TlsOptions} from './listener.js'

/** Opens a listener of any protocol; resolves once it accepts connections. */
export function openListener(spec: ListenerSpec, handlers: ListenerHandlers): Promise<Listener> {
  switch (spec.protocol) {
    case 'mqtt': return openTcpListener(spec, handlers)
    case 'mqtts': return openTlsListener(spec, handlers)
    case 'ws':
    // ws (and what it loads: http, zlib, crypto) only for a broker that serves WebSockets: about 4.5 MiB of RSS otherwise
    case 'wss': return import('./ws.js').then((ws) => ws.openWebSocketListener(spec, handlers))
    default: throw new Error(`unknown listener protocol ${String((spec as {protocol: unknown}).protocol)}`)
  }
}
