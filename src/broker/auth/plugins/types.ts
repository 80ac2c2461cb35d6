// The plugin contract: what a module named by `--plugin` (or a `plugin` line) exports, and what each
// hook is asked and may answer. Public: `import type {AuthPlugin} from 'midge'`.
import type {QoS} from '../../../codec/index.js'
import type {Authenticator} from '../authenticator.js'
import type {Logger} from '../../logger.js'
import type {AuthenticateRequest, ClientInfo, InterceptedPublish} from '../hooks.js'
import type {TtlCache} from './cache.js'

type Awaitable<T> = T | Promise<T>

/**
 * "No opinion": undefined (or null, or no return at all) passes the question to the next plugin,
 * then to the password file and ACL file.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing abstains
export type Abstain = undefined | null | void

/** A PUBLISH (or a will) to authorize: who sends it, where, how. */
export interface PublishRequest extends ClientInfo {
  topic: string
  qos: QoS
  retain: boolean
}

/** A SUBSCRIBE's topic filter (each filter of a SUBSCRIBE is asked separately). */
export interface SubscribeRequest extends ClientInfo {
  filter: string
  qos: QoS
}

/** One message about to be sent to a subscriber. */
export interface DeliverRequest extends ClientInfo {
  topic: string
}

/**
 * The hooks a plugin returns; every one is optional. Each call has a time limit (--plugin-timeout);
 * a hook that throws, rejects, answers something else than it may, or runs out of time counts as a
 * refusal (fail closed) and is logged once with the plugin's name until the plugin answers again.
 */
export interface PluginHooks {
  /**
   * A CONNECT with a user name and password (basic authentication). true: accepted; false: refused
   * with 0x86 bad user name or password (v3: 4); a number: refused with that CONNACK reason code
   * (>= 0x80, e.g. 0x87 not authorized, 0x8A banned); undefined: no opinion.
   * `password` is the raw bytes: `password?.toString()` for text.
   */
  authenticate?(request: AuthenticateRequest): Awaitable<boolean | number | Abstain>
  /** May this client publish (also asked for its will)? false: v5 PUBACK/PUBREC 0x87, v3 dropped. */
  authorizePublish?(request: PublishRequest): Awaitable<boolean | Abstain>
  /** May this client subscribe to this filter? false: SUBACK 0x87 for it. */
  authorizeSubscribe?(request: SubscribeRequest): Awaitable<boolean | Abstain>
  /** May this message reach this subscriber? Asked per message, so it must answer at once (no promise). */
  authorizeDeliver?(request: DeliverRequest): boolean | Abstain
  /**
   * Sees each authorized PUBLISH before it is routed: false rejects it (v5 0x87, v3 dropped), an
   * object replaces any of topic, payload, qos and retain, true or undefined lets it through.
   */
  interceptPublish?(request: {client: ClientInfo; message: InterceptedPublish}): Awaitable<boolean | Partial<InterceptedPublish> | Abstain>
  /** MQTT 5 extended authentication (AUTH exchanges): methods this plugin implements. */
  authenticators?: readonly Authenticator[]
  /** A client is connected (after CONNACK). Its answer is not waited for. */
  onConnect?(client: ClientInfo): unknown
  /** A connected client is gone; `reason` says why. Its answer is not waited for. */
  onDisconnect?(client: ClientInfo & {reason: string}): unknown
  /** SIGHUP: re-read whatever the plugin reads (files, keys). */
  reload?(): Awaitable<unknown>
  /** The broker is shutting down. */
  stop?(): Awaitable<unknown>
}

/** What a plugin is given besides its options. */
export interface PluginContext {
  /** The plugin's name as given (`--plugin` value or `plugin` line), for messages. */
  name: string
  /** The broker's logger; lines carry {plugin: name}. */
  logger: Logger
  /** The per-call time limit in ms (--plugin-timeout): a plugin's own I/O should give up by then. */
  timeoutMs: number
  /** A bounded cache whose entries expire after ttlMs, for results worth reusing. */
  cache<V>(options: {ttlMs: number; maxEntries?: number}): TtlCache<V>
}

/**
 * A plugin module's default export: called once at start with its options (the `plugin_opt_NAME VALUE`
 * lines, or `--plugin-opt NAME=VALUE`) and the context; returns the hooks (or a promise of them).
 *
 *   export default () => ({authenticate: ({username}) => username === 'ok'})
 */
export type AuthPlugin = (options: Readonly<Record<string, string>>, context: PluginContext) => Awaitable<PluginHooks>
