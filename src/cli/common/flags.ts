// Flag factories shared by pub, sub and bench, with mosquitto_pub/mosquitto_sub's letters.
// `-h` is the host (oclif's help is `--help` only). Connection flags also read MIDGE_* variables
// (flags win over the environment).
import {Flags} from '@oclif/core'

const CONNECTION = 'CONNECTION'
const TLS = 'TLS'
const WILL = 'WILL'

/** Host, port, URL, credentials, session, protocol version, properties, will and TLS. */
export function connectionFlags() {
  return {
    host: Flags.string({char: 'h', env: 'MIDGE_HOST', helpGroup: CONNECTION, helpValue: 'HOST', description: 'Broker host [default: localhost]'}),
    port: Flags.integer({char: 'p', env: 'MIDGE_PORT', helpGroup: CONNECTION, helpValue: 'PORT', min: 1, max: 65_535, description: 'Broker port [default: 1883, 8883 with TLS]'}),
    url: Flags.string({char: 'L', env: 'MIDGE_URL', helpGroup: CONNECTION, helpValue: 'URL',
      description: 'mqtt(s)://[user[:password]@]host[:port]/topic or ws(s)://host[:port]/path'}),
    unix: Flags.string({env: 'MIDGE_UNIX', helpGroup: CONNECTION, helpValue: 'PATH', description: 'Connect through a Unix socket'}),
    username: Flags.string({char: 'u', env: 'MIDGE_USERNAME', helpGroup: CONNECTION, helpValue: 'USER', description: 'User name'}),
    pw: Flags.string({char: 'P', helpGroup: CONNECTION, helpValue: 'PASSWORD',
      description: 'Password (visible to `ps`: prefer MIDGE_PASSWORD, --password-file or the prompt)'}),
    'password-file': Flags.string({helpGroup: CONNECTION, helpValue: 'FILE', description: 'Read the password from the first line of FILE'}),
    id: Flags.string({char: 'i', env: 'MIDGE_CLIENT_ID', helpGroup: CONNECTION, helpValue: 'ID', description: 'Client id [default: v5 broker-assigned, v3 random]'}),
    'id-prefix': Flags.string({char: 'I', helpGroup: CONNECTION, helpValue: 'PREFIX', description: 'Client id = prefix + process id', exclusive: ['id']}),
    keepalive: Flags.integer({char: 'k', env: 'MIDGE_KEEPALIVE', helpGroup: CONNECTION, helpValue: 'SECONDS', min: 0, max: 65_535, default: 60, description: 'Keepalive in seconds'}),
    'disable-clean-session': Flags.boolean({char: 'c', helpGroup: CONNECTION, description: 'Keep the session when disconnected (needs -i)'}),
    'session-expiry-interval': Flags.string({char: 'x', helpGroup: CONNECTION, helpValue: 'SECONDS', description: 'v5 session expiry; -1 or ∞: never'}),
    'protocol-version': Flags.string({char: 'V', env: 'MIDGE_PROTOCOL_VERSION', helpGroup: CONNECTION, helpValue: 'VERSION', default: '5',
      options: ['5', 'mqttv5', '311', 'mqttv311', '31', 'mqttv31'], description: 'MQTT version: 5, 311 or 31 (or mqttv5, mqttv311, mqttv31)'}),
    property: Flags.string({char: 'D', multiple: true, helpGroup: CONNECTION, helpValue: 'COMMAND NAME VALUE',
      description: 'v5 property of CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT or the will, e.g. -D publish content-type text/plain, -D connect user-property KEY VALUE'}),
    'connect-timeout': Flags.integer({env: 'MIDGE_CONNECT_TIMEOUT', helpGroup: CONNECTION, helpValue: 'SECONDS', min: 1, default: 30, description: 'Seconds to wait for the broker to answer'}),
    'max-inflight': Flags.integer({char: 'M', helpGroup: CONNECTION, helpValue: 'N', min: 1, max: 65_535, description: 'QoS 1/2 messages in flight at once [default: the broker\'s Receive Maximum]'}),
    proxy: Flags.string({helpGroup: CONNECTION, helpValue: 'URL', description: 'Reach the broker through a SOCKS5 proxy: socks5h://[user[:password]@]host[:port] (default port 1080; the proxy resolves the broker\'s name)'}),
    'bind-address': Flags.string({char: 'A', helpGroup: CONNECTION, helpValue: 'ADDRESS', description: 'Local address to connect from'}),
    nodelay: Flags.boolean({helpGroup: CONNECTION, description: 'Disable Nagle\'s algorithm (always on in midge)', hidden: true}),
    debug: Flags.boolean({char: 'd', description: 'Print every packet sent and received on stderr'}),
    quiet: Flags.boolean({description: 'Print no error messages (the exit code still tells)'}),
    'will-topic': Flags.string({helpGroup: WILL, helpValue: 'TOPIC', description: 'Topic of the will message'}),
    'will-payload': Flags.string({helpGroup: WILL, helpValue: 'PAYLOAD', description: 'Payload of the will', dependsOn: ['will-topic']}),
    'will-qos': Flags.integer({helpGroup: WILL, helpValue: 'QOS', min: 0, max: 2, description: 'QoS of the will', dependsOn: ['will-topic']}),
    'will-retain': Flags.boolean({helpGroup: WILL, description: 'Retain the will', dependsOn: ['will-topic']}),
    cafile: Flags.string({env: 'MIDGE_CAFILE', helpGroup: TLS, helpValue: 'FILE', description: 'Trusted CA certificates (PEM); enables TLS'}),
    capath: Flags.string({helpGroup: TLS, helpValue: 'DIR', description: 'Folder of trusted CA certificates (PEM); enables TLS'}),
    cert: Flags.string({env: 'MIDGE_CERT', helpGroup: TLS, helpValue: 'FILE', description: 'Client certificate (PEM)', dependsOn: ['key']}),
    key: Flags.string({env: 'MIDGE_KEY', helpGroup: TLS, helpValue: 'FILE', description: 'Client private key (PEM)', dependsOn: ['cert']}),
    insecure: Flags.boolean({helpGroup: TLS, description: 'Do not verify the server certificate'}),
    'tls-version': Flags.string({helpGroup: TLS, helpValue: 'VERSION', options: ['tlsv1.3', 'tlsv1.2', 'tlsv1.1'], description: 'Lowest TLS version'}),
    ciphers: Flags.string({helpGroup: TLS, helpValue: 'LIST', description: 'OpenSSL cipher list'}),
    'tls-alpn': Flags.string({helpGroup: TLS, helpValue: 'PROTOCOL', description: 'ALPN protocol to offer in the handshake (e.g. mqtt, for a port shared with other protocols); enables TLS'}),
    psk: Flags.string({helpGroup: TLS, helpValue: 'HEX', dependsOn: ['psk-identity'], exclusive: ['cafile', 'capath'],
      description: 'TLS-PSK: the pre-shared key in hexadecimal (no 0x), instead of certificates (visible to `ps`: prefer an options file)'}),
    'psk-identity': Flags.string({helpGroup: TLS, helpValue: 'IDENTITY', dependsOn: ['psk'], description: 'TLS-PSK: the client identity'}),
    'tls-use-os-certs': Flags.boolean({helpGroup: TLS, description: 'Trust Node\'s default CA certificates (the public CAs) as well as --cafile/--capath; enables TLS'}),
  }
}

export function qosFlag(description = 'QoS') {
  return Flags.integer({char: 'q', min: 0, max: 2, default: 0, helpValue: '0|1|2', description})
}

/** One topic (`-t`). */
export function topicFlag(description: string) {
  return Flags.string({char: 't', helpValue: 'TOPIC', description})
}

/** Repeatable topics (`-t a -t b`). */
export function topicsFlag(description: string) {
  return Flags.string({char: 't', multiple: true, multipleNonGreedy: true, helpValue: 'FILTER', description})
}

export function retainFlag(description: string) {
  return Flags.boolean({char: 'r', description})
}
