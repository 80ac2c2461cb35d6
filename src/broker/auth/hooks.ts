import type {QoS} from '../../codec/index.js'

/** Who is asking: what the engine knows of a client when it calls a hook. */
export interface ClientInfo {
  clientId: string
  username?: string
  protocolVersion: 3 | 4 | 5
  remoteAddress?: string
  /** The id of the listener it came through (ListenerSpec.id), for settings per listener. */
  listener?: string
}

export interface AuthenticateRequest extends ClientInfo {
  password?: Buffer
  /** The subject (RFC 2253, e.g. `CN=alice,O=Example`) of the client certificate the TLS handshake verified. */
  certificateSubject?: string
  /** Aborted if the connection closes before the verdict: a hook can skip costly work nobody waits for. */
  signal?: AbortSignal
}

/** Handles a PUBLISH to a `$CONTROL/...` topic: such messages are never routed to subscribers. */
export type ControlHandler = (client: ClientInfo, payload: Buffer) => void

/**
 * The authorization hooks an embedder (or the password/ACL files) provides. Each may return a value or
 * a promise; the connection processes its packets strictly in order either way.
 *
 * authenticate returns true to accept, or a reason code to refuse with (v5 CONNACK codes; mapped to
 * v3 return codes for v3 clients): 0x86 bad user name or password, 0x87 not authorized, ...
 */
export interface AuthHooks {
  authenticate?(req: AuthenticateRequest): boolean | number | Promise<boolean | number>
  authorizePublish?(client: ClientInfo, topic: string, qos: QoS, retain: boolean): boolean | Promise<boolean>
  /**
   * Whether an ACL explicitly grants publishing to a topic the broker reserves ($SYS/..., $share/...:
   * reserved-topics.ts). Without this hook, or when it says false, such publishes are refused (v5
   * 0x87), whatever authorizePublish says.
   */
  grantsReserved?(client: ClientInfo, topic: string): boolean
  /** Whether a subscription may be made at all (false: SUBACK 0x87). */
  authorizeSubscribe?(client: ClientInfo, filter: string, qos: QoS): boolean | Promise<boolean>
  /** Whether an UNSUBSCRIBE of the filter may be done (false: v5 UNSUBACK 0x87, the subscription stays). */
  authorizeUnsubscribe?(client: ClientInfo, filter: string): boolean
  /** Whether one message may be delivered to a subscriber (checked per message, retained and wills included). */
  authorizeDeliver?(client: ClientInfo, topic: string): boolean
  /**
   * Sees each authorized PUBLISH from a client before it is routed: false rejects it (v5 PUBACK/PUBREC
   * 0x87, v3 dropped), an object is the message routed instead, true lets it through unchanged.
   */
  interceptPublish?(client: ClientInfo, message: InterceptedPublish): boolean | InterceptedPublish | Promise<boolean | InterceptedPublish>
}

/** The parts of a PUBLISH an interceptPublish hook may change. */
export interface InterceptedPublish {
  topic: string
  payload: Buffer
  qos: QoS
  retain: boolean
}
