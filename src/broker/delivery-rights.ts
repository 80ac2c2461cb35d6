// Who may receive what: the read ACL (options.auth.authorizeDeliver) for a message offered now and
// again for one that waited in a queue, and the retained messages a new subscription gets, each only
// while its publisher may still write to its topic. The Broker wires these into SessionHost and
// ConnectionHost.
import type {AuthHooks} from './auth/hooks.js'
import type {Message} from './message.js'
import type {RetainedMessages} from './retained.js'
import type {Router} from './router.js'
import type {Delivery, Session, SubscriptionOptions} from './session.js'

/** The engine's last line of defence (Broker.internalError). */
interface ErrorSink {
  internalError(error: unknown, context: {clientId?: string; packet?: string; during: string}): void
}

/** What sending retained messages reads: the broker's engine (engine.ts) is one. */
interface RetainedSource {
  readonly options: {readonly auth: AuthHooks; readonly timers: {now(): number}}
  readonly retained: RetainedMessages
  readonly router: Router
}

/** Read access for a message offered now (SessionHost.mayRead): an exception is Session.deliver's to contain. */
export function mayRead(auth: AuthHooks, session: Session, d: Delivery): boolean {
  const canRead = auth.authorizeDeliver
  return canRead === undefined || canRead(session.client, d.message.topic)
}

/** Read access, checked again for a message that waited (SessionHost.mayDeliver). A hook that throws denies. */
export function mayDeliver(auth: AuthHooks, session: Session, d: Delivery, engine: ErrorSink): boolean {
  const canRead = auth.authorizeDeliver
  if (canRead === undefined) return true
  try {
    return canRead(session.client, d.message.topic)
  } catch (error) {
    engine.internalError(error, {clientId: session.clientId, packet: 'publish', during: 'delivery'})
    return false
  }
}

/** Sends the retained messages matching a new subscription, with retain set [MQTT-3.3.1-8]. */
export function sendRetained(engine: RetainedSource, session: Session, filter: string, options: SubscriptionOptions): void {
  const ids = options.subscriptionId === undefined ? undefined : [options.subscriptionId]
  const {auth, timers} = engine.options
  for (const msg of engine.retained.match(filter, timers.now())) {
    if (!sourceMayPublish(auth, msg)) continue
    session.deliver({message: msg, qos: engine.router.outgoingQos(options.qos, msg.qos), retain: true, subscriptionIds: ids, sharedGroup: undefined})
  }
}

/**
 * Mosquitto's check_retain_source: a retained message goes out only while its publisher may still
 * write to its topic (a hook answering with a promise is not waited for: allowed).
 */
function sourceMayPublish(auth: AuthHooks, msg: Message): boolean {
  const mayWrite = auth.authorizePublish
  if (mayWrite === undefined || msg.origin === undefined || msg.originUsername === undefined) return true
  const source = {clientId: msg.origin, username: msg.originUsername ?? undefined, protocolVersion: 5 as const}
  return mayWrite(source, msg.topic, msg.qos, true) !== false
}
