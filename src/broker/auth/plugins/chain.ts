import {ReasonCode} from '../../../codec/index.js'
import type {Broker} from '../../broker.js'
import type {AuthExchange, Authenticator, AuthResult} from '../authenticator.js'
import type {Logger} from '../../logger.js'
import type {AuthenticateRequest, AuthHooks, ClientInfo, InterceptedPublish} from '../hooks.js'
import {describe, isAuthResult, isBoolean, isConnectVerdict, isInterception, isThenable, TimeoutError, withTimeout} from './answers.js'
import type {PluginHooks} from './types.js'

/** A plugin loaded and set up: its name (for logs) and its hooks. */
export interface LoadedPlugin {
  name: string
  hooks: PluginHooks
}

export interface PluginChainOptions {
  plugins: readonly LoadedPlugin[]
  /** What decides when every plugin abstains: the password file and ACL file hooks (file-auth). */
  fallback?: AuthHooks
  /**
   * Whether the fallback checks passwords. Without a password file, a client no plugin accepted is
   * refused (fail closed), unless it has no user name and allowAnonymous is set.
   */
  passwordFile: boolean
  allowAnonymous: boolean
  /** Time limit of each hook call, in ms. */
  timeoutMs: number
  logger: Logger
}

/** The engine's hooks over the plugins, and the plugins' lifecycle. */
export interface PluginChain {
  hooks: AuthHooks
  /** The plugins' MQTT 5 authentication methods, each step under the time limit. */
  authenticators: Authenticator[]
  /** Sends the broker's connect and disconnect events to the plugins' onConnect/onDisconnect. */
  attach(broker: Broker): void
  /** Calls every plugin's reload (SIGHUP); false when one failed (it is logged). */
  reload(): Promise<boolean>
  /** Calls every plugin's stop, each under the time limit. */
  stop(): Promise<void>
}

const FAILED = Symbol('failed')
type Outcome<T> = T | undefined | typeof FAILED

/** Per plugin: calls failing in a row; only the first of a run is logged. */
interface State extends LoadedPlugin {
  failures: number
}

/**
 * Chains the plugins in order: the first that decides (anything but undefined) wins; when all
 * abstain, the password file and ACL decide as without plugins. A hook that throws, rejects, answers
 * nonsense or exceeds the time limit refuses (fail closed): authentication 0x88 server unavailable,
 * publish and subscribe 0x87, delivery skipped.
 */
export function createPluginChain(options: PluginChainOptions): PluginChain {
  const {fallback, logger, timeoutMs} = options
  const plugins: State[] = options.plugins.map((p) => ({...p, failures: 0}))
  const having = <K extends keyof PluginHooks>(hook: K) => plugins.filter((p) => typeof p.hooks[hook] === 'function')

  const failed = (p: State, hook: string, error: unknown): typeof FAILED => {
    if (p.failures++ === 0) {
      const reason = error instanceof TimeoutError ? error.message : `${(error as Error)?.message ?? String(error)}`
      logger.error({plugin: p.name, hook}, `plugin ${p.name}: ${hook} failed: ${reason}; refusing until it answers again (fail closed)`)
    }
    return FAILED
  }
  const succeeded = (p: State): void => {
    if (p.failures === 0) return
    logger.info({plugin: p.name, failures: p.failures}, `plugin ${p.name} answers again after ${p.failures} failed call${p.failures === 1 ? '' : 's'}`)
    p.failures = 0
  }

  /** One hook call: a value at once when the hook answers at once, a promise (under the time limit) otherwise. */
  function call<T>(p: State, hook: string, fn: () => unknown, valid: (v: unknown) => v is T): Outcome<T> | Promise<Outcome<T>> {
    const check = (v: unknown): Outcome<T> => {
      if (v === undefined || v === null) { succeeded(p); return undefined }
      if (!valid(v)) return failed(p, hook, new Error(`answered ${describe(v)}`))
      succeeded(p)
      return v
    }
    let answer: unknown
    try {
      answer = fn()
    } catch (error) {
      return failed(p, hook, error)
    }
    if (!isThenable(answer)) return check(answer)
    return withTimeout(answer, timeoutMs, `no answer within ${timeoutMs} ms`).then(check, (error) => failed(p, hook, error))
  }

  /** The first decision of the plugins (from index i on); FAILED stops the chain. */
  function first<T>(list: readonly State[], ask: (p: State) => Outcome<T> | Promise<Outcome<T>>, i = 0): Outcome<T> | Promise<Outcome<T>> {
    for (; i < list.length; i++) {
      const outcome = ask(list[i]!)
      if (isThenable(outcome)) return outcome.then((o) => (o === undefined ? first(list, ask, i + 1) : o))
      if (outcome !== undefined) return outcome
    }
    return undefined
  }

  const hooks: AuthHooks = {...fallback}

  const authenticators = having('authenticate')
  if (authenticators.length > 0) {
    const noOneDecided = (req: AuthenticateRequest) => {
      if (options.passwordFile && fallback?.authenticate) return fallback.authenticate(req)
      if (req.username === undefined) return options.allowAnonymous ? true : ReasonCode.NotAuthorized
      return ReasonCode.BadUserNameOrPassword
    }
    hooks.authenticate = (req) => {
      let decider: State | undefined
      const verdict = (o: Outcome<boolean | number>) => {
        if (o === FAILED) return ReasonCode.ServerUnavailable
        if (o === undefined) return noOneDecided(req)
        if (o === true) return true
        logger.warn({plugin: decider?.name, clientId: req.clientId, username: req.username, address: req.remoteAddress}, `connection refused by plugin ${decider?.name}`)
        return o === false ? ReasonCode.BadUserNameOrPassword : o
      }
      const o = first(authenticators, (p) => { decider = p; return call(p, 'authenticate', () => p.hooks.authenticate!(req), isConnectVerdict) })
      return isThenable(o) ? o.then(verdict) : verdict(o)
    }
  }

  const publishers = having('authorizePublish')
  if (publishers.length > 0) {
    const next = fallback?.authorizePublish
    hooks.authorizePublish = (client, topic, qos, retain) => {
      const request = {...client, topic, qos, retain}
      const verdict = (o: Outcome<boolean>) => {
        if (o === undefined) return next?.(client, topic, qos, retain) ?? true
        if (o !== true) logger.debug({clientId: client.clientId, username: client.username, topic}, 'publish denied by a plugin')
        return o === true
      }
      const o = first(publishers, (p) => call(p, 'authorizePublish', () => p.hooks.authorizePublish!(request), isBoolean))
      return isThenable(o) ? o.then(verdict) : verdict(o)
    }
  }

  const subscribers = having('authorizeSubscribe')
  if (subscribers.length > 0) {
    const next = fallback?.authorizeSubscribe
    hooks.authorizeSubscribe = (client, filter, qos) => {
      const request = {...client, filter, qos}
      const verdict = (o: Outcome<boolean>) => {
        if (o === undefined) return next?.(client, filter, qos) ?? true
        if (o !== true) logger.debug({clientId: client.clientId, username: client.username, topic: filter}, 'subscribe denied by a plugin')
        return o === true
      }
      const o = first(subscribers, (p) => call(p, 'authorizeSubscribe', () => p.hooks.authorizeSubscribe!(request), isBoolean))
      return isThenable(o) ? o.then(verdict) : verdict(o)
    }
  }

  const readers = having('authorizeDeliver')
  if (readers.length > 0) {
    const next = fallback?.authorizeDeliver
    const syncBoolean = (v: unknown): v is boolean => {
      if (isThenable(v)) throw new Error('answered a promise: authorizeDeliver must answer at once')
      return typeof v === 'boolean'
    }
    hooks.authorizeDeliver = (client, topic) => {
      const request = {...client, topic}
      for (const p of readers) {
        const o = call(p, 'authorizeDeliver', () => {
          const v = p.hooks.authorizeDeliver!(request)
          if (isThenable(v)) { v.then(undefined, () => undefined); throw new Error('answered a promise: authorizeDeliver must answer at once') }
          return v
        }, syncBoolean) as Outcome<boolean>
        if (o === FAILED) return false
        if (o !== undefined) return o
      }
      return next?.(client, topic) ?? true
    }
  }

  const interceptors = having('interceptPublish')
  if (interceptors.length > 0) {
    hooks.interceptPublish = (client, message) => {
      const step = (i: number, m: InterceptedPublish): boolean | InterceptedPublish | Promise<boolean | InterceptedPublish> => {
        for (; i < interceptors.length; i++) {
          const p = interceptors[i]!
          const o = call(p, 'interceptPublish', () => p.hooks.interceptPublish!({client, message: m}), isInterception)
          const apply = (o: Outcome<boolean | Partial<InterceptedPublish>>, at: number) => {
            if (o === FAILED || o === false) return false
            return step(at + 1, o === undefined || o === true ? m : {...m, ...o})
          }
          if (isThenable(o)) return o.then((v) => apply(v, i))
          if (o === FAILED || o === false) return false
          if (o !== undefined && o !== true) m = {...m, ...o}
        }
        return m === message ? true : m
      }
      return step(0, message)
    }
  }

  return {
    hooks,
    authenticators: plugins.flatMap((p) => (p.hooks.authenticators ?? []).map((a) => timed(a, p))),
    attach(broker: Broker) {
      const notify = (hook: 'onConnect' | 'onDisconnect', arg: ClientInfo) => {
        for (const p of plugins) {
          const fn = p.hooks[hook]
          if (typeof fn !== 'function') continue
          const o = call(p, hook, () => (fn as (c: ClientInfo) => unknown)(arg), (_v): _v is unknown => true)
          if (isThenable(o)) void o
        }
      }
      if (plugins.some((p) => p.hooks.onConnect)) broker.events.on('clientConnected', (e) => notify('onConnect', clientOf(e)))
      if (plugins.some((p) => p.hooks.onDisconnect)) broker.events.on('clientDisconnected', (e) => notify('onDisconnect', {...clientOf(e), reason: e.reason} as ClientInfo))
    },
    async reload() {
      const results = await Promise.all(having('reload').map(async (p) => {
        const o = await call(p, 'reload', () => p.hooks.reload!(), (_v): _v is unknown => true)
        if (o !== FAILED) logger.info({plugin: p.name}, `plugin ${p.name} reloaded`)
        return o
      }))
      return !results.includes(FAILED)
    },
    async stop() {
      await Promise.all(having('stop').map((p) => call(p, 'stop', () => p.hooks.stop!(), (_v): _v is unknown => true)))
    },
  }

  /** An authenticator whose steps run under the time limit and fail closed. */
  function timed(a: Authenticator, p: State): Authenticator {
    const failure: AuthResult = {status: 'failure', reasonCode: ReasonCode.ServerUnavailable, reason: 'authentication failed'}
    return {
      method: a.method,
      begin(request) {
        let exchange: AuthExchange
        try {
          exchange = a.begin(request)
        } catch (error) {
          failed(p, `${a.method} authentication`, error)
          return {next: () => failure}
        }
        return {
          next(data) {
            const o = call(p, `${a.method} authentication`, () => exchange.next(data), isAuthResult)
            if (isThenable(o)) return o.then((r) => (r === undefined || r === FAILED ? failure : r))
            return o === undefined || o === FAILED ? failure : o
          },
        }
      },
    }
  }
}

function clientOf(e: ClientInfo): ClientInfo {
  return {clientId: e.clientId, username: e.username, protocolVersion: e.protocolVersion, remoteAddress: e.remoteAddress}
}
