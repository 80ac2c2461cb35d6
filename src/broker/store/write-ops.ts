import type {OutboundState, StoredMessage, StoredOutbound, StoredSession, StoredSubscriptionOptions} from './types.js'

/*
 * What a store's buffer hands its backend: row-level operations, applied in order as one transaction
 * (BufferedStore builds and cancels them; the memory and SQLite backends apply them), and the rows a
 * backend reads back.
 */

/** Row-level operations, applied in order by a backend. */
export const OpKind = {
  PutSession: 0, DeleteSession: 1, PutSubscription: 2, DeleteSubscription: 3, PutMessage: 4, DeleteMessage: 5,
  PutOutbound: 6, UpdateOutbound: 7, DeleteOutbound: 8, PutInbound: 9, DeleteInbound: 10, PutRetained: 11, DeleteRetained: 12,
} as const

export interface OutboundRow {
  readonly id: number
  readonly clientId: string
  readonly messageId: number
  readonly qos: StoredOutbound['qos']
  readonly retain: boolean
  state: OutboundState
  packetId: number
  dup: boolean
  readonly subscriptionIds?: readonly number[]
  readonly sharedGroup?: string
  /** The message itself, when it is stored in this row rather than in a messages row of its own. */
  inline?: StoredMessage
}

export type WriteOp =
  | {readonly k: typeof OpKind.PutSession; cancelled: boolean; readonly session: StoredSession}
  /** Deletes the session row, its subscriptions and inbound ids (its outbound rows are deleted one by one). */
  | {readonly k: typeof OpKind.DeleteSession; readonly clientId: string}
  | {readonly k: typeof OpKind.PutSubscription; readonly clientId: string; readonly filter: string; readonly options: StoredSubscriptionOptions}
  | {readonly k: typeof OpKind.DeleteSubscription; readonly clientId: string; readonly filter: string}
  | {readonly k: typeof OpKind.PutMessage; cancelled: boolean; readonly id: number; readonly message: StoredMessage}
  | {readonly k: typeof OpKind.DeleteMessage; readonly id: number}
  | {readonly k: typeof OpKind.PutOutbound; cancelled: boolean; readonly row: OutboundRow}
  | {readonly k: typeof OpKind.UpdateOutbound; cancelled: boolean; readonly row: OutboundRow}
  | {readonly k: typeof OpKind.DeleteOutbound; readonly id: number}
  | {readonly k: typeof OpKind.PutInbound; readonly clientId: string; readonly packetId: number}
  | {readonly k: typeof OpKind.DeleteInbound; readonly clientId: string; readonly packetId: number}
  | {readonly k: typeof OpKind.PutRetained; cancelled: boolean; readonly message: StoredMessage}
  | {readonly k: typeof OpKind.DeleteRetained; cancelled: boolean; readonly topic: string}

/** Every session row a backend holds. Outbound rows in id order; each has its message inline or in `messages`. */
export interface SessionRows {
  readonly sessions: StoredSession[]
  readonly subscriptions: Array<{clientId: string; filter: string; options: StoredSubscriptionOptions}>
  readonly messages: Map<number, StoredMessage>
  readonly outbound: OutboundRow[]
  readonly inbound: Array<{clientId: string; packetId: number}>
}

/** Where the rows live: applies batches of operations atomically and reads them back. */
export interface Backend {
  /** Applies the operations as one transaction; returns (or resolves) once it is durable. */
  commit(ops: readonly WriteOp[]): void | Promise<void>
  /**
   * Commits may be started before the previous one has finished: the backend applies them in order,
   * and once one fails it fails every later one (so nothing after a lost batch is acknowledged).
   */
  readonly pipelined?: boolean
  loadSessions(): SessionRows | Promise<SessionRows>
  loadRetained(): StoredMessage[] | Promise<StoredMessage[]>
  close(): void | Promise<void>
}
