// How sessions end: the expiry timer of a disconnected session, a will published now or after its Will
// Delay Interval, and the end of a session (its delayed will out, its state dropped). The Broker owns
// one and reaches it through its methods of the same names.
import type {QoS, WillMessage} from '../codec/index.js'
import type {ClientInfo} from './auth/hooks.js'
import {longTimer} from './long-timer.js'
import type {Message} from './message.js'
import type {Metrics} from './metrics.js'
import type {BrokerOptions} from './options.js'
import type {Persistence} from './persistence.js'
import {isReservedTopic} from './reserved-topics.js'
import type {Router} from './router.js'
import type {Delivery, DropReason, LongTimer, Session} from './session.js'
import {willMessage} from './will.js'

const NEVER_EXPIRES = 0xffff_ffff

/** What ending sessions needs of the broker. */
export interface LifecycleHost {
  readonly options: BrokerOptions
  readonly metrics: Metrics
  readonly router: Router
  readonly sessions: Map<string, Session>
  readonly persistence: Persistence | undefined
  /** The broker is shutting down: no wills go out, shared messages are not handed on. */
  readonly closing: boolean
  publish(message: Message): number
  dropped(session: Session | undefined, d: Delivery, reason: DropReason): void
  internalError(error: unknown, context: {clientId?: string; packet?: string; during: string}): void
}

export class SessionLifecycle {
  constructor(private readonly host: LifecycleHost) {}

  /** Ends the session after its expiry interval (or `ms`, for a session restored from a store). */
  scheduleExpiry(session: Session, ms = session.expiryInterval * 1000): void {
    if (session.expiryInterval === NEVER_EXPIRES) return
    session.expiryTimer = this.later(ms, () => {
      session.expiryTimer = undefined
      this.host.metrics.clientsExpired++
      this.endSession(session)
    })
  }

  /** Ends a session: its delayed will goes out now [MQTT-3.1.3-9], its state is dropped. */
  endSession(session: Session): void {
    const {host} = this
    this.clearTimers(session)
    const will = session.pendingWill
    session.pendingWill = undefined
    if (will !== undefined) this.publishWill(session.client, will)
    host.router.removeAll(session)
    if (!host.closing) session.handOffShared((d) => host.router.redeliver(d, session, false))
    session.forEachUndelivered((d) => host.dropped(session, d, 'session-ended'))
    session.clearOutbound()
    if (host.sessions.get(session.clientId) === session) {
      host.sessions.delete(session.clientId)
      host.persistence?.ended(session)
      host.options.sessions?.ended(session.clientId)
    }
  }

  /**
   * Its connection left the session (Broker.detach): the will goes out now or after its delay, and the
   * session ends (expiry 0) or waits for its expiry, its shared-subscription messages moving on to a
   * connected member of the group (Router.redeliver), except at shutdown.
   */
  left(session: Session, will: WillMessage | undefined): void {
    const {host} = this
    session.link = undefined
    if (will !== undefined) this.scheduleWill(session, will)
    if (session.expiryInterval === 0) return this.endSession(session)
    if (!host.closing) session.handOffShared((d) => host.router.redeliver(d, session, true))
    this.scheduleExpiry(session)
    host.persistence?.detached(session)
  }

  clearTimers(session: Session): void {
    const {timers} = this.host.options
    if (session.expiryTimer) timers.clearTimeout(session.expiryTimer.t)
    if (session.willTimer) timers.clearTimeout(session.willTimer.t)
    session.expiryTimer = undefined
    session.willTimer = undefined
  }

  /** Publishes a will now, or after its Will Delay Interval [MQTT-3.1.3-9] (or `ms`, for a session restored from a store). */
  scheduleWill(session: Session, will: WillMessage, ms = (will.properties?.willDelayInterval ?? 0) * 1000): void {
    if (ms === 0 || session.expiryInterval === 0) return this.publishWill(session.client, will)
    session.pendingWill = will
    session.willTimer = this.later(ms, () => {
      session.willTimer = undefined
      session.pendingWill = undefined
      this.host.persistence?.willSent(session)
      this.publishWill(session.client, will)
    })
  }

  /** Publishes a will now (if the publish ACL allows it). Never throws: it runs while a connection closes. */
  publishWill(client: ClientInfo, will: WillMessage): void {
    const {host} = this
    const {auth, timers} = host.options
    const qos = (will.qos ?? 0) as QoS
    const retain = will.retain ?? false
    const failed = (error: unknown) => host.internalError(error, {clientId: client.clientId, packet: 'will', during: 'will publication'})
    const send = (ok: boolean) => {
      if (!ok || host.closing) return
      try {
        host.publish(willMessage(client, will, timers.now()))
      } catch (error) {
        failed(error)
      }
    }
    let allowed: boolean | Promise<boolean>
    try {
      // a will into $SYS or $share/ only with an explicit grant, as a PUBLISH (reserved-topics.ts)
      allowed = isReservedTopic(will.topic) && auth.grantsReserved?.(client, will.topic) !== true ? false
        : auth.authorizePublish?.(client, will.topic, qos, retain) ?? true
    } catch (error) {
      return failed(error) // fail closed: no will
    }
    if (typeof allowed === 'object') void allowed.then(send, () => undefined)
    else send(allowed)
  }

  /** A timer that may be longer than setTimeout allows (long-timer.ts); what it runs cannot throw into the event loop. */
  private later(ms: number, fn: () => void): LongTimer {
    return longTimer(this.host.options.timers, ms, fn, (error) => this.host.internalError(error, {during: 'a session timer'}))
  }
}
