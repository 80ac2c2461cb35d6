// Durable broker state: the store interfaces and their implementations.
export type {
  BrokerStore, OutboundChange, OutboundRecord, RetainedStore, SessionStore, StoredMessage, StoredOutbound,
  StoredSession, StoredSessionState, StoredSubscriptionOptions, StoredWill, Transactional, WillProperties,
} from './types.js'
export {OutboundState} from './types.js'
export {StoreError, type StoreErrorCode} from './errors.js'
export {MemoryBacking, MemoryStore} from './memory.js'
export {SqliteStore, type SqliteStoreOptions} from './sqlite.js'
export {SCHEMA_VERSION} from './schema.js'
