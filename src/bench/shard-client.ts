// The client options every shard connects with: only what can cross to a worker thread, and the
// broker's host name looked up once for the whole run.
import {lookup} from 'node:dns/promises'
import {isIP} from 'node:net'
import {transportTarget, type ClientOptions} from '../client/index.js'

export function shardClientOptions(o: ClientOptions): Promise<ClientOptions> {
  return resolveHost(stripClientOptions(o))
}

/**
 * Looks the broker's host name up once, instead of once per connection (getaddrinfo runs on libuv's
 * small thread pool and would pace the connection rate). TLS still verifies the certificate against
 * the name; WebSocket URLs keep it.
 */
async function resolveHost(o: ClientOptions): Promise<ClientOptions> {
  const target = transportTarget(o)
  if (target.socketPath || target.scheme === 'ws' || target.scheme === 'wss' || isIP(target.host)) return o
  try {
    const {address} = await lookup(target.host)
    return {...o, scheme: target.scheme, host: address, port: target.port,
      tls: target.scheme === 'mqtts' ? {...o.tls, servername: o.tls?.servername ?? target.host} : o.tls}
  } catch {
    return o // each connection reports the failure
  }
}

/** Options that cross to a worker thread (no functions, no signals). */
function stripClientOptions(o: ClientOptions): ClientOptions {
  const {signal: _s, transport: _t, trace: _r, ...rest} = o
  return rest
}
