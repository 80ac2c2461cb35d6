import type {Redis} from 'ioredis'
import type {SessionScripts} from './session-scripts.js'

/** What a claim learns: the previous owner value ('' for none), its node's recorded will ('' for none), the new owner value, 1 if the store has a row for the client. */
export type ClaimReply = [previous: string, previousWill: string, value: string, stored: number]

type Kind = 'c' | 'e' | 'w'

interface Step {
  readonly kind: Kind
  readonly clientId: string
  readonly will: string
  resolve(reply: unknown): void
  reject(error: unknown): void
}

/** Steps per script call: one call is one Redis command, which blocks Redis while it runs. */
const MAX_STEPS = 500

/**
 * How long steps nobody waits for (a clean session's claim, an end, a will no longer due) may wait for
 * company. A claim that holds a CONNACK back goes after the current turn, with whatever waits.
 */
export const LAZY_MS = 2

/**
 * The session-ownership steps a node asks of Redis (claims, sessions that ended, wills no longer due),
 * sent together as one call of the OWNERSHIP script (session-scripts.ts), executed by Redis in the
 * order they were asked for: after the current event-loop turn when a claim waits for its answer, else
 * within LAZY_MS. A CONNECT storm then costs one Redis command per batch instead of one per connection
 * (each costs the node a Command, a promise and a socket write).
 */
export class OwnershipBatch {
  private steps: Step[] = []
  private soon: NodeJS.Immediate | undefined
  private later: NodeJS.Timeout | undefined

  constructor(private readonly redis: Redis & SessionScripts, private readonly nodeId: string, private readonly prefix: string) {}

  /** Makes this node the client's owner (recording its connection's will, or deleting any); `waited` when a CONNACK waits for it. */
  claim(clientId: string, will: string, waited: boolean): Promise<ClaimReply> {
    return this.add('c', clientId, will, waited) as Promise<ClaimReply>
  }

  /** Drops the client's ownership and recorded will if this node still owns it; resolves with 1 if it did. */
  ended(clientId: string): Promise<number> {
    return this.add('e', clientId, '', false) as Promise<number>
  }

  /** Deletes the will this node recorded for the client's connection. */
  willGone(clientId: string): Promise<unknown> {
    return this.add('w', clientId, '', false)
  }

  private add(kind: Kind, clientId: string, will: string, waited: boolean): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.steps.push({kind, clientId, will, resolve, reject})
      if (this.steps.length >= MAX_STEPS) this.flush()
      else if (waited) this.soon ??= setImmediate(this.flush)
      else this.later ??= setTimeout(this.flush, LAZY_MS)
    })
  }

  private readonly flush = (): void => {
    if (this.soon !== undefined) clearImmediate(this.soon)
    if (this.later !== undefined) clearTimeout(this.later)
    this.soon = this.later = undefined
    const steps = this.steps
    if (steps.length === 0) return
    this.steps = []
    const args: string[] = steps.map((s) => `${this.prefix}:owner:${s.clientId}`)
    args.push(this.nodeId, this.prefix)
    for (const s of steps) args.push(s.kind, s.clientId, s.will)
    this.redis.midgeOwnership(steps.length, ...args).then((replies) => {
      for (let i = 0; i < steps.length; i++) steps[i]!.resolve(replies[i])
    }, (error: unknown) => {
      for (const s of steps) s.reject(error)
    })
  }
}
