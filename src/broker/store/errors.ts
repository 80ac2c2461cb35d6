/** Why a store refused to open or stopped working. */
export type StoreErrorCode =
  | 'corrupt' // not a database, or failing its integrity check
  | 'newer-schema' // written by a newer midge
  | 'foreign' // a database of some other application
  | 'not-writable' // the path cannot be created or written
  | 'locked' // another process has the database open
  | 'failed' // a commit failed: nothing more is written
  | 'unavailable' // a commit did not reach the store's server (Redis away): nothing more is written
  | 'closed'

/** A store error with a message meant for the person running the broker. */
export class StoreError extends Error {
  override readonly name = 'StoreError'
  constructor(readonly code: StoreErrorCode, message: string, options?: {cause?: unknown}) {
    super(message, options)
  }
}
