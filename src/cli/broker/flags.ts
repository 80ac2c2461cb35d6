import {Flags} from '@oclif/core'
import {LOG_LEVELS} from '../common/logger.js'
import {pluginFlags} from './plugin-flags.js'

/**
 * The flags of `broker start`; most can also come from a MIDGE_* environment variable. Those a
 * mosquitto.conf can also set have no default here: the defaults apply after the file
 * (settings.ts).
 */
export function brokerFlags() {
  return {
    config: Flags.string({char: 'c', description: 'Read a Mosquitto configuration file (mosquitto.conf: listeners with their protocol, TLS and max_connections, allow_anonymous, password_file, acl_file, persistence, limits, sys_interval, logging). Flags and MIDGE_* variables override it; options midge does not know are warnings with their line. e.g. -c /etc/mosquitto/mosquitto.conf', env: 'MIDGE_CONFIG', helpValue: '<file>'}),
    'test-config': Flags.boolean({description: 'Check the configuration (the file, flags, certificates, password file and ACL), print "configuration OK" and exit 0; a bad one exits 17 (10: -c file unreadable). e.g. -c mosquitto.conf --test-config'}),
    host: Flags.string({char: 'h', description: 'Address of the MQTT listener (default 127.0.0.1: no other host can connect), and of --ws-port. e.g. -h 0.0.0.0', env: 'MIDGE_HOST', helpValue: '<address>'}),
    port: Flags.integer({char: 'p', description: 'TCP port of the MQTT listener (default 1883; 0 picks a free port). Like --host, --listener and --ws-port, it replaces the listeners of -c. e.g. -p 1884', min: 0, max: 65_535, env: 'MIDGE_PORT'}),
    listener: Flags.string({description: 'A listener as a URL: mqtt://, mqtts:// (TLS: --cert, --key), ws:// or wss://, an address and a port (mqtt and mqtts default to 1883 and 8883; a ws path defaults to /mqtt, /* takes any). Repeatable. e.g. --listener mqtts://0.0.0.0:8883 --listener ws://0.0.0.0:8080/mqtt', multiple: true, helpValue: '<url>'}),
    'ws-port': Flags.integer({description: 'Also listen for MQTT over WebSockets on this port of --host, path /mqtt, subprotocol mqtt. e.g. --ws-port 8080', min: 0, max: 65_535, env: 'MIDGE_WS_PORT'}),
    cert: Flags.string({description: 'PEM certificate (chain) of the mqtts and wss listeners (Mosquitto: certfile). Re-read on SIGHUP. e.g. --cert /etc/midge/server.crt', env: 'MIDGE_CERT', helpValue: '<file>'}),
    key: Flags.string({description: 'PEM private key of --cert (Mosquitto: keyfile). Re-read on SIGHUP. e.g. --key /etc/midge/server.key', env: 'MIDGE_KEY', helpValue: '<file>'}),
    cafile: Flags.string({description: 'PEM CA certificates that client certificates must chain to (Mosquitto: cafile). e.g. --cafile /etc/midge/ca.crt', env: 'MIDGE_CAFILE', helpValue: '<file>'}),
    capath: Flags.string({description: 'A folder of PEM CA certificates (*.pem, *.crt), as --cafile (Mosquitto: capath). e.g. --capath /etc/midge/ca.d', helpValue: '<dir>'}),
    crlfile: Flags.string({description: 'PEM certificate revocation list for client certificates (Mosquitto: crlfile). e.g. --crlfile /etc/midge/revoked.crl', helpValue: '<file>'}),
    'require-certificate': Flags.boolean({description: 'Mutual TLS: a client without a valid certificate signed by --cafile (none, unknown CA, expired) is refused during the TLS handshake (Mosquitto: require_certificate). e.g. --require-certificate --cafile ca.crt', allowNo: true}),
    'use-identity-as-username': Flags.boolean({description: 'The client certificate\'s Common Name is the user name the ACL sees; no password is asked (Mosquitto: use_identity_as_username). e.g. --require-certificate --use-identity-as-username', allowNo: true}),
    'use-subject-as-username': Flags.boolean({description: 'The client certificate\'s subject (RFC 2253: CN=alice,O=Example,C=GB) is the user name; no password is asked (Mosquitto: use_subject_as_username). e.g. --require-certificate --use-subject-as-username', allowNo: true}),
    'tls-version': Flags.option({options: ['tlsv1.2', 'tlsv1.3'] as const, description: 'Lowest TLS version accepted (default tlsv1.2; Mosquitto: tls_version). e.g. --tls-version tlsv1.3'})(),
    'max-connections': Flags.integer({description: 'Connections each listener takes at once; more are refused (v5: CONNACK 0x97, v3: closed). -1: no limit (default; Mosquitto: max_connections). e.g. --max-connections 10000', min: -1, env: 'MIDGE_MAX_CONNECTIONS'}),
    'http-port': Flags.integer({description: 'Serve GET /healthz (200 when every listener accepts, 503 otherwise) and GET /metrics (Prometheus) on this port. e.g. --http-port 9100', min: 0, max: 65_535, env: 'MIDGE_HTTP_PORT'}),
    'http-host': Flags.string({description: 'Address of the --http-port endpoint (default 127.0.0.1). e.g. --http-host 0.0.0.0', env: 'MIDGE_HTTP_HOST', helpValue: '<address>'}),
    'sys-interval': Flags.integer({description: 'Seconds between updates of the $SYS/broker/... topics, retained and readable where the ACL allows (default 10; 0: none; Mosquitto: sys_interval). e.g. --sys-interval 60', min: 0, max: 65_535, env: 'MIDGE_SYS_INTERVAL'}),
    'shutdown-timeout': Flags.integer({description: 'Seconds SIGTERM waits for clients to be told and persistence to be flushed before giving up (exit 1). Default 10. e.g. --shutdown-timeout 30', min: 1}),
    json: Flags.boolean({description: 'Print one JSON object per listener on stdout instead of a sentence. e.g. --json'}),
    'ready-file': Flags.string({description: 'Write the listeners as JSON lines to this file (atomically) once they accept connections. e.g. --ready-file /run/midge/ready.json', helpValue: '<path>'}),
    'password-file': Flags.string({description: 'Clients must log in with a user name and password from FILE (Mosquitto\'s password_file: argon2id, $7$ or $6$ lines, written by `midge passwd` or mosquitto_passwd). Re-read on SIGHUP. e.g. --password-file /etc/midge/passwd', helpValue: '<file>'}),
    'acl-file': Flags.string({description: 'Topic access rules in Mosquitto\'s acl_file format (topic/user/pattern lines). Re-read on SIGHUP. e.g. --acl-file /etc/midge/acl', helpValue: '<file>'}),
    dynsec: Flags.string({description: 'Mosquitto\'s Dynamic Security: clients, groups and roles from FILE (its dynamic-security.json format, written by `midge ctrl dynsec init` or mosquitto_ctrl), managed at run time through $CONTROL/dynamic-security/v1 (`midge ctrl dynsec ...`, mosquitto_ctrl); every change is saved to FILE. Checked before --password-file and --acl-file. Also a mosquitto.conf `plugin .../mosquitto_dynamic_security.so` line with `plugin_opt_config_file FILE`. e.g. --dynsec /etc/midge/dynamic-security.json', env: 'MIDGE_DYNSEC', helpValue: '<file>'}),
    'allow-anonymous': Flags.boolean({description: 'Accept clients without a user name (Mosquitto\'s allow_anonymous true). With --password-file they are refused unless this is given; without one, binding to a non-loopback address needs it. --no-allow-anonymous without a password file refuses every client, as Mosquitto does. e.g. --host 0.0.0.0 --allow-anonymous', env: 'MIDGE_ALLOW_ANONYMOUS', allowNo: true}),
    'log-level': Flags.option({options: LOG_LEVELS, description: 'Log verbosity (logs go to stderr; default info, or what the file\'s log_type asks). e.g. --log-level debug', env: 'MIDGE_LOG_LEVEL'})(),
    'max-packet-size': Flags.integer({description: 'Largest packet accepted, in bytes (announced to v5 clients; a larger one closes the connection, v5 0x95). Default 2000000, as in Mosquitto 2.1; 0: no limit beyond the protocol\'s. e.g. --max-packet-size 1048576', min: 0, env: 'MIDGE_MAX_PACKET_SIZE'}),
    'message-size-limit': Flags.integer({description: 'Largest PUBLISH payload accepted, in bytes; larger ones are dropped (v5 QoS 1/2: 0x83). 0: no limit (default; Mosquitto: message_size_limit). e.g. --message-size-limit 262144', min: 0, env: 'MIDGE_MESSAGE_SIZE_LIMIT'}),
    'max-queued-messages': Flags.integer({description: 'Messages queued per session while it is offline or busy (0 = no limit). Default 1000. e.g. --max-queued-messages 10000', min: 0}),
    'max-queued-bytes': Flags.integer({description: 'Bytes queued per session (0 = no limit). Default 0. e.g. --max-queued-bytes 10485760', min: 0}),
    'max-inflight-messages': Flags.integer({description: 'Outbound QoS 1/2 messages in flight per client. Default 20. e.g. --max-inflight-messages 1', min: 0, max: 65_535}),
    'max-inflight-bytes': Flags.integer({description: 'Payload bytes of outbound QoS 1/2 messages in flight per client: another is sent while fewer are in flight, so a larger message still goes, alone. 0 = no limit (default; Mosquitto: max_inflight_bytes). e.g. --max-inflight-bytes 65536', min: 0}),
    'upgrade-outgoing-qos': Flags.boolean({description: 'Deliver at the subscription\'s QoS even when the message was published at a lower one (Mosquitto: upgrade_outgoing_qos; not MQTT-compliant). e.g. --upgrade-outgoing-qos', allowNo: true}),
    'receive-maximum': Flags.integer({description: 'Inbound QoS 2 messages in flight per v5 client (announced). Default 20. e.g. --receive-maximum 100', min: 1, max: 65_535}),
    'max-qos': Flags.integer({description: 'Highest QoS accepted (announced to v5 clients). Default 2. e.g. --max-qos 1', min: 0, max: 2}),
    'retain-available': Flags.boolean({description: 'Accept retained messages (--no-retain-available refuses them). e.g. --no-retain-available', allowNo: true}),
    'topic-alias-maximum': Flags.integer({description: 'Largest topic alias a v5 client may use (0 = none). Default 10. e.g. --topic-alias-maximum 0', min: 0, max: 65_535}),
    'outbound-topic-aliases': Flags.boolean({description: 'Send topic aliases to v5 clients that accept them. e.g. --outbound-topic-aliases'}),
    'max-keepalive': Flags.integer({description: 'Largest keepalive allowed to v5 clients, in seconds (announced as Server Keep Alive). Default 65535. e.g. --max-keepalive 300', min: 1, max: 65_535}),
    'max-session-expiry': Flags.integer({description: 'Cap on a v5 client\'s session expiry interval, in seconds. e.g. --max-session-expiry 86400', min: 0}),
    'persistent-client-expiration': Flags.integer({description: 'Expire persistent v3 sessions after this many seconds offline (default: never). e.g. --persistent-client-expiration 1209600', min: 1}),
    'response-information': Flags.string({description: 'Response Information (a topic prefix) given to v5 clients that request it. e.g. --response-information replies/'}),
    'no-wildcard-subscriptions': Flags.boolean({description: 'Refuse wildcard subscriptions. e.g. --no-wildcard-subscriptions'}),
    'no-subscription-identifiers': Flags.boolean({description: 'Refuse subscription identifiers. e.g. --no-subscription-identifiers'}),
    'no-shared-subscriptions': Flags.boolean({description: 'Refuse shared subscriptions. e.g. --no-shared-subscriptions'}),
    persistence: Flags.string({description: 'Keep sessions, queued and in-flight QoS 1/2 messages and retained messages in DIR/midge.db (SQLite), so they survive a restart or a crash (Mosquitto\'s persistence true + persistence_location). QoS 1/2 PUBLISHes are acknowledged once stored. DIR is created if missing. e.g. --persistence /var/lib/midge', env: 'MIDGE_PERSISTENCE', helpValue: '<dir>'}),
    ...pluginFlags(),
    cluster: Flags.string({description: 'Join the cluster of every midge started with the same Redis: clients on any node reach subscribers on all of them, retained messages and shared subscriptions are shared (see README "Cluster (Redis)"). Also cluster_redis in -c. Redis unreachable at start: the node serves its own clients and joins when it answers. e.g. --cluster redis://10.0.0.5:6379/0', env: 'MIDGE_CLUSTER', helpValue: '<redis-url>'}),
    workers: Flags.string({description: 'Run N broker processes on this machine (auto: one per core) that share the listening ports and form a cluster through --cluster (required). A worker that dies is replaced. e.g. --workers auto --cluster redis://127.0.0.1:6379', env: 'MIDGE_WORKERS', helpValue: '<n|auto>'}),
    'cluster-ack-window': Flags.integer({min: 0, description: 'QoS 1/2 messages another node may have received and not yet confirmed before the PUBACKs of further ones wait for it (flow control; what is not confirmed is sent again). 0: every PUBACK waits until every node the message went to has it, so not even the death of this node loses an acknowledged message, at the price of throughput. Default 10000. Also cluster_ack_window in -c. e.g. --cluster-ack-window 0', env: 'MIDGE_CLUSTER_ACK_WINDOW', helpValue: '<n>'}),
    'node-id': Flags.string({description: 'This node\'s name in the cluster (default: 12 random hex digits), in the log and $SYS/broker/node/id. e.g. --node-id edge-1', env: 'MIDGE_NODE_ID', helpValue: '<id>'}),
    'persistence-sync': Flags.option({options: ['full', 'normal'] as const, default: 'full' as const, description: 'full: every commit is on disk before the acknowledgement (survives a power loss); normal: survives a crash of the broker, not of the machine, and is faster. e.g. --persistence-sync normal', env: 'MIDGE_PERSISTENCE_SYNC'})(),
  }
}
