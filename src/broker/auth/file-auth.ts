import {availableParallelism} from 'node:os'
import {ReasonCode, type QoS} from '../../codec/index.js'
import {engineOf, type Broker} from '../broker.js'
import {Connection, ConnState} from '../connection.js'
import type {Acl} from './acl-file.js'
import type {AuthenticateRequest, AuthHooks, ClientInfo} from './hooks.js'
import {remoteHost} from '../remote-host.js'
import {Limiter} from './limiter.js'

/**
 * Checks a user's password (src/passwd's PasswordFile is one). It must not tell unknown users from
 * wrong passwords, by its answer or its timing.
 */
export interface PasswordVerifier {
  verify(user: string, password: Buffer): Promise<boolean> | boolean
  /** The user's stored entry: on a reload, a user whose entry changed or went is logged out. */
  get?(user: string): {readonly text: string} | undefined
}

/** What a reload swaps: the password file and the ACL in force. */
export interface FileAuthState {
  /** Clients must authenticate against it; without it any client is accepted (user names unchecked). */
  passwords?: PasswordVerifier
  /** Without it every client may publish and subscribe anywhere. */
  acl?: Acl
}

/** A refusal, for logging. */
export interface AuthDenial {
  action: 'connect' | 'publish' | 'subscribe'
  clientId: string
  username?: string
  remoteAddress?: string
  /** The topic or filter (publish, subscribe). */
  topic?: string
  reason: string
}

export interface FileAuthOptions extends FileAuthState {
  /**
   * Accept clients without a user name when a password file is in force (Mosquitto 2's
   * allow_anonymous). Default false. Without a password file anonymous clients are always accepted.
   */
  allowAnonymous?: boolean
  /**
   * Password verifications run at once; further CONNECTs wait their turn. Default: one less than the
   * CPUs (at least 1, at most 3). argon2id is memory-bound: verifying on every core barely raises the
   * login rate but takes CPU from the event loop, and more than libuv's pool of 4 threads would starve
   * file and DNS work queued there (numbers in scripts/bench-auth-storm.mjs's runs).
   */
  maxConcurrentVerifications?: number
  /**
   * CONNECTs that may wait for a verification slot; beyond it a client is refused with 0x89 "server
   * busy" (v3: 3 "server unavailable") and can come back later. Default 10,000.
   */
  maxQueuedVerifications?: number
  /**
   * CONNECTs from one address (IP, without the port) that may be verifying or waiting at once; beyond
   * it a client is refused at once with 0x87 "not authorized" (v3: 5), as a password guesser should be,
   * and costs no verification. Addresses take turns for the verification slots, so a login storm from
   * one address does not hold up a login from another. Default 16.
   */
  maxVerificationsPerAddress?: number
  /** Called on each refused CONNECT, PUBLISH and SUBSCRIBE (not on per-message delivery filtering). */
  onDenied?: (denial: AuthDenial) => void
}

/** The engine's hooks over a password file and an ACL, with state that can be swapped (reloads). */
export interface FileAuth extends Required<Omit<AuthHooks, 'interceptPublish'>> {
  /** The password file and ACL in force. */
  readonly state: Readonly<FileAuthState>
  /**
   * Puts a new password file and ACL in force (both replaced: a key left out means none). CONNECTs
   * being verified finish against the file they started with; every later check uses the new state.
   * Returns which connected clients the change locks out (see disconnectClients): anonymous ones when
   * passwords are now required, and those whose user's entry was removed or changed.
   */
  update(state: FileAuthState): (client: ClientInfo) => boolean
  /** Verifications running and waiting (for metrics and benchmarks). */
  readonly verifications: {readonly active: number; readonly queued: number}
}

/**
 * Hooks with Mosquitto 2's semantics:
 *  - a wrong password and an unknown user are refused alike: 0x86 (v3: 4), a user name without a
 *    password too; no user name while a password file is in force: 0x87 (v3: 5) unless allowAnonymous;
 *  - PUBLISH needs write access to the topic (the engine answers v5 with 0x87, drops it on v3), wills too;
 *  - SUBSCRIBE is refused (0x87) only for a filter no topic of which the client could ever read;
 *    otherwise every message, retained messages and wills included, is checked for read access on delivery.
 */
export function createFileAuth(options: FileAuthOptions = {}): FileAuth {
  let state: FileAuthState = {passwords: options.passwords, acl: options.acl}
  const allowAnonymous = options.allowAnonymous ?? false
  const limiter = new Limiter(options.maxConcurrentVerifications ?? defaultConcurrency())
  const maxQueued = options.maxQueuedVerifications ?? 10_000
  const maxPerAddress = options.maxVerificationsPerAddress ?? 16
  const onDenied = options.onDenied
  const deny = (action: AuthDenial['action'], client: ClientInfo, reason: string, topic?: string): void => {
    onDenied?.({action, clientId: client.clientId, username: client.username, remoteAddress: client.remoteAddress, topic, reason})
  }

  const refuse = (req: AuthenticateRequest, code: number, reason: string): number => {
    deny('connect', req, reason)
    return code
  }

  return {
    get state() {
      return state
    },
    update(next: FileAuthState): (client: ClientInfo) => boolean {
      const before = state.passwords
      const after = next.passwords
      state = {passwords: after, acl: next.acl}
      return (client) => {
        if (after === undefined) return false
        if (client.username === undefined) return !allowAnonymous
        if (before === undefined) return true // it never proved who it is
        if (before.get === undefined || after.get === undefined) return false
        return before.get(client.username)?.text !== after.get(client.username)?.text
      }
    },
    verifications: {
      get active() { return limiter.active },
      get queued() { return limiter.queued },
    },

    authenticate(req: AuthenticateRequest): true | number | Promise<true | number> {
      const {passwords} = state
      if (passwords === undefined) return true
      if (req.username === undefined) {
        return allowAnonymous ? true : refuse(req, ReasonCode.NotAuthorized, 'no user name (anonymous clients are not allowed)')
      }
      // Mosquitto: a user name without a password is refused like a wrong password (nothing is learnt)
      if (req.password === undefined) return refuse(req, ReasonCode.BadUserNameOrPassword, 'no password')
      if (limiter.queued >= maxQueued) return refuse(req, ReasonCode.ServerBusy, `more than ${maxQueued} logins waiting`)
      const address = remoteHost(req.remoteAddress)
      if (limiter.pending(address) >= maxPerAddress) return refuse(req, ReasonCode.NotAuthorized, `more than ${maxPerAddress} logins waiting from this address`)
      const {username, password, signal} = req
      // a client that left while waiting for its turn costs no verification
      return limiter.run(() => signal?.aborted ? GONE : passwords.verify(username, password), address).then(
        (ok) => ok === GONE ? ReasonCode.UnspecifiedError : ok ? true : refuse(req, ReasonCode.BadUserNameOrPassword, 'bad user name or password'),
        () => refuse(req, ReasonCode.ServerUnavailable, 'password verification failed'),
      )
    },

    authorizePublish(client: ClientInfo, topic: string, _qos: QoS, _retain: boolean): boolean {
      const {acl} = state
      if (acl === undefined || acl.canWrite(client.clientId, client.username, topic)) return true
      deny('publish', client, 'no write access', topic)
      return false
    },

    grantsReserved(client: ClientInfo, topic: string): boolean {
      // explicit by construction: no rule starting with a wildcard matches a '$' topic [MQTT-4.7.2-1]
      return state.acl?.canWrite(client.clientId, client.username, topic) ?? false
    },

    authorizeSubscribe(client: ClientInfo, filter: string, _qos: QoS): boolean {
      const {acl} = state
      if (acl === undefined || acl.canEverRead(client.clientId, client.username, filter)) return true
      deny('subscribe', client, 'no read access to any topic of the filter', filter)
      return false
    },

    authorizeUnsubscribe(): boolean {
      return true // Mosquitto's ACL file does not restrict unsubscribing
    },

    authorizeDeliver(client: ClientInfo, topic: string): boolean {
      const {acl} = state
      return acl === undefined || acl.canRead(client.clientId, client.username, topic)
    },
  }
}

/**
 * Disconnects the connected clients matching `lockedOut` (v5: DISCONNECT 0x87 with `reason`), as
 * Mosquitto does on a reload for users no longer in the password file. Returns how many.
 */
export function disconnectClients(broker: Broker, lockedOut: (client: ClientInfo) => boolean, reason: string): number {
  let count = 0
  for (const session of engineOf(broker).sessions.values()) {
    const link = session.link
    if (link instanceof Connection && link.state === ConnState.Connected && lockedOut(session.client)) {
      link.disconnect(ReasonCode.NotAuthorized, reason)
      count++
    }
  }
  return count
}

const GONE = Symbol('connection closed')

/** One below libuv's default thread pool size (UV_THREADPOOL_SIZE 4): a thread stays free for fs and dns. */
const MAX_DEFAULT_CONCURRENCY = 3

function defaultConcurrency(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, MAX_DEFAULT_CONCURRENCY))
}
