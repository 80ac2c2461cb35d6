// The one table of MQTT reason codes. Handlers name codes from here; no numeric literals elsewhere.
// MQTT 5.0 §2.4 (Reason Code) and MQTT 3.1.1 §3.2.2.3 (CONNACK return codes).

export const ReasonCode = {
  Success: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWill: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const

export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode]

/** The reason codes a DISCONNECT may carry (MQTT 5.0 §3.14.2.1); a peer rejects any other as malformed. */
const DISCONNECT_CODES = new Set<number>([
  ReasonCode.Success, ReasonCode.DisconnectWithWill, ReasonCode.UnspecifiedError, ReasonCode.MalformedPacket,
  ReasonCode.ProtocolError, ReasonCode.ImplementationSpecificError, ReasonCode.NotAuthorized, ReasonCode.ServerBusy,
  ReasonCode.ServerShuttingDown, ReasonCode.KeepAliveTimeout, ReasonCode.SessionTakenOver, ReasonCode.TopicFilterInvalid,
  ReasonCode.TopicNameInvalid, ReasonCode.ReceiveMaximumExceeded, ReasonCode.TopicAliasInvalid, ReasonCode.PacketTooLarge,
  ReasonCode.MessageRateTooHigh, ReasonCode.QuotaExceeded, ReasonCode.AdministrativeAction, ReasonCode.PayloadFormatInvalid,
  ReasonCode.RetainNotSupported, ReasonCode.QoSNotSupported, ReasonCode.UseAnotherServer, ReasonCode.ServerMoved,
  ReasonCode.SharedSubscriptionsNotSupported, ReasonCode.ConnectionRateExceeded, ReasonCode.MaximumConnectTime,
  ReasonCode.SubscriptionIdentifiersNotSupported, ReasonCode.WildcardSubscriptionsNotSupported,
])

/** Whether a reason code may be sent in a DISCONNECT. */
export function isDisconnectReason(code: number): boolean {
  return DISCONNECT_CODES.has(code)
}

/** MQTT 3.1 / 3.1.1 CONNACK return codes. */
export const V3ConnackCode = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5,
} as const

export type V3ConnackCode = (typeof V3ConnackCode)[keyof typeof V3ConnackCode]

/** The v3 CONNACK return code that best carries a v5 CONNACK reason code. */
export function toV3ConnackCode(code: number): V3ConnackCode {
  switch (code) {
    case ReasonCode.Success: return V3ConnackCode.Accepted
    case ReasonCode.UnsupportedProtocolVersion: return V3ConnackCode.UnacceptableProtocolVersion
    case ReasonCode.ClientIdentifierNotValid: return V3ConnackCode.IdentifierRejected
    case ReasonCode.BadUserNameOrPassword: return V3ConnackCode.BadUserNameOrPassword
    case ReasonCode.NotAuthorized:
    case ReasonCode.Banned:
    case ReasonCode.BadAuthenticationMethod: return V3ConnackCode.NotAuthorized
    default: return V3ConnackCode.ServerUnavailable
  }
}

const names = new Map<number, string>(
  Object.entries(ReasonCode).map(([k, v]) => [v, k.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase()]),
)
names.set(ReasonCode.Success, 'success')

/** A reason code in words, e.g. 0x87 -> "not authorized". */
export function reasonName(code: number): string {
  return names.get(code) ?? `reason 0x${code.toString(16)}`
}

const v3Names = ['accepted', 'unacceptable protocol version', 'identifier rejected', 'server unavailable',
  'bad user name or password', 'not authorized']

/** A v3 CONNACK return code in words. */
export function v3ConnackName(code: number): string {
  return v3Names[code] ?? `return code ${code}`
}
