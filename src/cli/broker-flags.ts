import {Flags} from '@oclif/core'
import {LOG_LEVELS} from './logger.js'

/** The flags of `broker start`; each can also come from a MIDGE_* environment variable. */
export function brokerFlags() {
  return {
    host: Flags.string({char: 'h', description: 'Address to bind (loopback by default: no other host can connect).', default: '127.0.0.1', env: 'MIDGE_HOST', helpValue: '<address>'}),
    port: Flags.integer({char: 'p', description: 'TCP port of the MQTT listener (0 picks a free port).', default: 1883, min: 0, max: 65_535, env: 'MIDGE_PORT'}),
    json: Flags.boolean({description: 'Print one JSON object per listener on stdout instead of a sentence.'}),
    'ready-file': Flags.string({description: 'Write the listeners as JSON to this file (atomically) once they accept connections.', helpValue: '<path>'}),
    'password-file': Flags.string({description: 'Clients must log in with a user name and password from FILE (Mosquitto\'s password_file: argon2id, $7$ or $6$ lines, written by `midge passwd` or mosquitto_passwd). Re-read on SIGHUP.', helpValue: '<file>'}),
    'acl-file': Flags.string({description: 'Topic access rules in Mosquitto\'s acl_file format (topic/user/pattern lines). Re-read on SIGHUP.', helpValue: '<file>'}),
    'allow-anonymous': Flags.boolean({description: 'Accept clients without a user name (Mosquitto\'s allow_anonymous true). With --password-file they are refused unless this is given; without one, binding to a non-loopback address needs it.', env: 'MIDGE_ALLOW_ANONYMOUS'}),
    'log-level': Flags.option({options: LOG_LEVELS, default: 'info' as const, description: 'Log verbosity (logs go to stderr).', env: 'MIDGE_LOG_LEVEL'})(),
    'max-packet-size': Flags.integer({description: 'Largest packet accepted, in bytes (announced to v5 clients).', min: 20, env: 'MIDGE_MAX_PACKET_SIZE'}),
    'max-queued-messages': Flags.integer({description: 'Messages queued per session while it is offline or busy (0 = no limit). Default 1000.', min: 0}),
    'max-queued-bytes': Flags.integer({description: 'Bytes queued per session (0 = no limit). Default 0.', min: 0}),
    'max-inflight-messages': Flags.integer({description: 'Outbound QoS 1/2 messages in flight per client. Default 20.', min: 0, max: 65_535}),
    'receive-maximum': Flags.integer({description: 'Inbound QoS 2 messages in flight per v5 client (announced). Default 20.', min: 1, max: 65_535}),
    'max-qos': Flags.integer({description: 'Highest QoS accepted (announced to v5 clients). Default 2.', min: 0, max: 2}),
    'retain-available': Flags.boolean({description: 'Accept retained messages (--no-retain-available refuses them).', allowNo: true}),
    'topic-alias-maximum': Flags.integer({description: 'Largest topic alias a v5 client may use (0 = none). Default 10.', min: 0, max: 65_535}),
    'outbound-topic-aliases': Flags.boolean({description: 'Send topic aliases to v5 clients that accept them.'}),
    'max-keepalive': Flags.integer({description: 'Largest keepalive allowed to v5 clients, in seconds (announced as Server Keep Alive). Default 65535.', min: 1, max: 65_535}),
    'max-session-expiry': Flags.integer({description: 'Cap on a v5 client\'s session expiry interval, in seconds.', min: 0}),
    'persistent-client-expiration': Flags.integer({description: 'Expire persistent v3 sessions after this many seconds offline (default: never).', min: 1}),
    'response-information': Flags.string({description: 'Response Information (a topic prefix) given to v5 clients that request it.'}),
    'no-wildcard-subscriptions': Flags.boolean({description: 'Refuse wildcard subscriptions.'}),
    'no-subscription-identifiers': Flags.boolean({description: 'Refuse subscription identifiers.'}),
    'no-shared-subscriptions': Flags.boolean({description: 'Refuse shared subscriptions.'}),
    persistence: Flags.string({description: 'Keep sessions, queued and in-flight QoS 1/2 messages and retained messages in DIR/midge.db (SQLite), so they survive a restart or a crash (Mosquitto\'s persistence true + persistence_location). QoS 1/2 PUBLISHes are acknowledged once stored. DIR is created if missing.', env: 'MIDGE_PERSISTENCE', helpValue: '<dir>'}),
    'persistence-sync': Flags.option({options: ['full', 'normal'] as const, default: 'full' as const, description: 'full: every commit is on disk before the acknowledgement (survives a power loss); normal: survives a crash of the broker, not of the machine, and is faster.', env: 'MIDGE_PERSISTENCE_SYNC'})(),
  }
}
