/** The keys of one prefix. Per-client keys are `<prefix>:sub:<clientId>`, `<prefix>:in:<clientId>`, `<prefix>:oi:<clientId>`. */
export class RedisKeys {
  readonly sessions: string
  readonly out: string
  readonly outMessages: string
  readonly messages: string
  readonly messageRefs: string
  readonly retained: string
  readonly schema: string
  readonly idRanges: string
  constructor(readonly prefix: string) {
    this.sessions = `${prefix}:sessions`
    this.out = `${prefix}:out`
    this.outMessages = `${prefix}:outm`
    this.messages = `${prefix}:msg`
    this.messageRefs = `${prefix}:mref`
    this.retained = `${prefix}:retained`
    this.schema = `${prefix}:schema`
    this.idRanges = `${prefix}:idrange`
  }

  subscriptions(clientId: string): string { return `${this.prefix}:sub:${clientId}` }
  inbound(clientId: string): string { return `${this.prefix}:in:${clientId}` }
  outIds(clientId: string): string { return `${this.prefix}:oi:${clientId}` }
  lock(nodeId: string): string { return `${this.prefix}:lock:${nodeId}` }
  /** The client ids whose sessions a node holds (kept by the session directory). */
  owned(nodeId: string): string { return `${this.prefix}:owned:${nodeId}` }
}
