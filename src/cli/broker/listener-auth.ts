// per_listener_settings true: each listener of the configuration file has its own password file, ACL
// and allow_anonymous, as in Mosquitto 2.0. One set of engine hooks dispatches on the listener a
// client came through (ClientInfo.listener); SIGHUP re-reads every listener's files.
import type {Logger} from 'pino'
import type {AuthDenial, AuthHooks, Broker, ClientInfo} from '../../index.js'
import {brokerAuthFromFlags, type BrokerAuth} from './auth.js'
import {refuseEveryone} from './serve.js'
import type {ListenerSetting} from './settings.js'

export interface ListenerAuth {
  hooks: AuthHooks
  reload(broker: Broker): Promise<boolean>
}

/**
 * The hooks for listeners that carry their own authentication (ListenerSetting.auth), or undefined
 * when none does. A client of any other listener (none, when every listener has its own) is let
 * through by these hooks.
 */
export async function perListenerAuth(listeners: readonly ListenerSetting[], log: Logger, onDenied?: (d: AuthDenial) => void): Promise<ListenerAuth | undefined> {
  const byListener = new Map<string, AuthHooks>()
  const reloadable: BrokerAuth[] = []
  for (const l of listeners) {
    if (l.auth === undefined || l.spec.id === undefined) continue
    const files = await brokerAuthFromFlags({...l.auth, listener: l.spec.id}, log.child({listener: l.origin}), onDenied)
    if (files !== undefined) reloadable.push(files)
    byListener.set(l.spec.id, l.auth.refuseEveryone ? refuseEveryone(files?.hooks) : files?.hooks ?? {})
  }
  if (byListener.size === 0) return undefined
  const of = (client: ClientInfo): AuthHooks | undefined => client.listener === undefined ? undefined : byListener.get(client.listener)
  return {
    hooks: {
      authenticate: (req) => of(req)?.authenticate?.(req) ?? true,
      authorizePublish: (client, topic, qos, retain) => of(client)?.authorizePublish?.(client, topic, qos, retain) ?? true,
      authorizeSubscribe: (client, filter, qos) => of(client)?.authorizeSubscribe?.(client, filter, qos) ?? true,
      authorizeDeliver: (client, topic) => of(client)?.authorizeDeliver?.(client, topic) ?? true,
      grantsReserved: (client, topic) => of(client)?.grantsReserved?.(client, topic) === true,
    },
    async reload(broker) {
      const results = await Promise.all(reloadable.map((a) => a.reload(broker)))
      return results.every(Boolean)
    },
  }
}
