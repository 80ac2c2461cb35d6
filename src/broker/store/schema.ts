import type {Database} from 'better-sqlite3'

/*
 * The SQLite schema, versioned through PRAGMA user_version; PRAGMA application_id marks the file as
 * midge's. Migration i brings a database from version i to i + 1 and runs in the transaction that
 * also sets the new version. Never edit a released migration: append one.
 *
 * messages holds each message going to several sessions once; outbound has a row per (session,
 * message) with the delivery's own QoS, flags and flow state, ordered by id, and carries the message
 * itself (topic ... origin) when it went to that session only. Deadlines are absolute ms since the
 * epoch.
 */

/** "MIDG" */
export const APPLICATION_ID = 0x4d_49_44_47

export const MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  // 0 -> 1
  (db) => db.exec(`
    CREATE TABLE sessions (
      client_id TEXT PRIMARY KEY NOT NULL,
      protocol_version INTEGER NOT NULL,
      username TEXT,
      expiry_interval INTEGER NOT NULL,
      expires_at INTEGER,
      will_topic TEXT,
      will_payload BLOB,
      will_qos INTEGER,
      will_retain INTEGER,
      will_properties TEXT,
      will_publish_at INTEGER
    );
    CREATE INDEX sessions_expiry ON sessions (expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE subscriptions (
      client_id TEXT NOT NULL,
      filter TEXT NOT NULL,
      qos INTEGER NOT NULL,
      no_local INTEGER NOT NULL,
      retain_as_published INTEGER NOT NULL,
      retain_handling INTEGER NOT NULL,
      subscription_id INTEGER,
      PRIMARY KEY (client_id, filter)
    ) WITHOUT ROWID;
    CREATE TABLE messages (
      id INTEGER PRIMARY KEY,
      topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      qos INTEGER NOT NULL,
      retain INTEGER NOT NULL,
      properties TEXT,
      expires_at INTEGER,
      origin TEXT
    );
    CREATE TABLE outbound (
      id INTEGER PRIMARY KEY,
      client_id TEXT NOT NULL,
      message_id INTEGER NOT NULL,
      state INTEGER NOT NULL,
      packet_id INTEGER NOT NULL,
      qos INTEGER NOT NULL,
      retain INTEGER NOT NULL,
      dup INTEGER NOT NULL,
      subscription_ids TEXT,
      shared_group TEXT,
      -- the message itself when it is not in messages (it went to this session only)
      topic TEXT,
      payload BLOB,
      message_qos INTEGER,
      message_retain INTEGER,
      properties TEXT,
      expires_at INTEGER,
      origin TEXT
    );
    CREATE TABLE inbound_qos2 (
      client_id TEXT NOT NULL,
      packet_id INTEGER NOT NULL,
      PRIMARY KEY (client_id, packet_id)
    ) WITHOUT ROWID;
    CREATE TABLE retained (
      topic TEXT PRIMARY KEY NOT NULL,
      payload BLOB NOT NULL,
      qos INTEGER NOT NULL,
      properties TEXT,
      expires_at INTEGER,
      origin TEXT
    );
  `),
]

/** The version this midge writes. */
export const SCHEMA_VERSION = MIGRATIONS.length
