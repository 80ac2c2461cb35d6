// Connection flags (and MIDGE_* variables) -> client options. Secrets never need argv: the password
// comes from -P, --password-file, the URL, MIDGE_PASSWORD, or a prompt when stdin is a terminal.
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {ConnectionOptions as TlsOptions} from 'node:tls'
import {parseBrokerUrl, shown, validateIdentity, validateTopicName, type ClientOptions, type ParsedUrl} from '../../client/index.js'
import type {ConnectProperties, ProtocolVersion, QoS} from '../../codec/index.js'
import {CliError, ExitCode} from './exit-codes.js'
import type {Properties} from './properties.js'

export interface ConnectionFlagValues {
  host?: string; port?: number; url?: string; unix?: string; username?: string; pw?: string
  'password-file'?: string; id?: string; 'id-prefix'?: string; keepalive: number
  'disable-clean-session': boolean; 'session-expiry-interval'?: string; 'protocol-version': string
  'connect-timeout': number; 'max-inflight'?: number; 'bind-address'?: string
  'will-topic'?: string; 'will-payload'?: string; 'will-qos'?: number; 'will-retain': boolean
  cafile?: string; capath?: string; cert?: string; key?: string; insecure: boolean; 'tls-version'?: string; ciphers?: string
  'tls-alpn'?: string; 'tls-use-os-certs'?: boolean; psk?: string; 'psk-identity'?: string; proxy?: string
}

const usage = (message: string) => new CliError(message, ExitCode.Usage)
const VERSIONS: Record<string, ProtocolVersion> = {5: 5, mqttv5: 5, 311: 4, mqttv311: 4, 31: 3, mqttv31: 3}
const UINT32_MAX = 4_294_967_295

export interface Connection {
  options: ClientOptions
  /** The topic named by an mqtt(s):// URL's path, if any. */
  urlTopic?: string
}

export async function connectionOptions(f: ConnectionFlagValues, props: Properties): Promise<Connection> {
  const protocolVersion = VERSIONS[f['protocol-version']]
  if (protocolVersion !== 5 && Object.values(props).some(Boolean)) throw usage('-D properties need MQTT v5 (-V 5)')
  let url: ParsedUrl | undefined
  if (f.url) {
    try {
      url = parseBrokerUrl(f.url)
    } catch (error) {
      throw usage((error as Error).message)
    }
  }
  const tls = await tlsOptions(f)
  const scheme = url ? (tls && url.scheme === 'mqtt' ? 'mqtts' : url.scheme) : (tls ? 'mqtts' : 'mqtt')
  const ws = scheme === 'ws' || scheme === 'wss'
  const clientId = f.id ?? (f['id-prefix'] === undefined ? undefined : `${f['id-prefix']}${process.pid}`)
  const clean = !f['disable-clean-session']
  const connect: ConnectProperties = {...props.connect}
  const expiry = sessionExpiry(f['session-expiry-interval'], protocolVersion, clean)
  if (expiry !== undefined) connect.sessionExpiryInterval = expiry
  if (!clean && !clientId && protocolVersion !== 5) throw usage('-c needs a client id (-i)')
  if (expiry === UINT32_MAX && !f.id) throw usage('a session that never expires needs a client id (-i)')
  const username = f.username ?? url?.username
  // brokers close the connection for these (README, strict protocol handling): say so before connecting
  for (const [what, text] of [['client id', clientId], ['user name', username]] as const) {
    const invalid = text === undefined ? undefined : validateIdentity(text)
    if (invalid) throw usage(`invalid ${what} ${shown(text!)}: it ${invalid}`)
  }
  const proxy = proxyUrl(f.proxy, ws)
  const options: ClientOptions = {
    scheme, host: f.host ?? url?.host ?? 'localhost', port: f.port ?? url?.port, socketPath: f.unix,
    wsPath: ws && url && url.path !== '/' ? url.path : undefined, tls, localAddress: f['bind-address'], proxy,
    protocolVersion, clientId, clean, keepalive: f.keepalive, username,
    password: await password(f, url, username),
    properties: protocolVersion === 5 && Object.keys(connect).length > 0 ? connect : undefined,
    connectTimeout: f['connect-timeout'] * 1000, maxInflight: f['max-inflight'],
  }
  if (f['will-topic'] !== undefined) {
    const invalid = validateTopicName(f['will-topic'])
    if (invalid) throw usage(`invalid will topic ${shown(f['will-topic'])}: ${invalid}`)
    options.will = {topic: f['will-topic'], payload: f['will-payload'] ?? '', qos: (f['will-qos'] ?? 0) as QoS,
      retain: f['will-retain'], properties: props.will}
  }
  const urlTopic = url && !ws && url.path.length > 1 ? url.path.slice(1) : undefined
  return {options, urlTopic}
}

/** --proxy: socks5h://[user[:password]@]host[:port], as mosquitto's clients take it. */
function proxyUrl(value: string | undefined, ws: boolean): string | undefined {
  if (value === undefined) return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw usage(`--proxy: '${value}' is not a URL (socks5h://[user[:password]@]host[:port])`)
  }
  if (url.protocol !== 'socks5h:' || !url.hostname) throw usage(`--proxy: '${value}' is not a socks5h:// URL (only SOCKS5 with the proxy resolving names)`)
  if (ws) throw usage('--proxy works with mqtt:// and mqtts://, not WebSockets')
  return value
}

function sessionExpiry(value: string | undefined, version: ProtocolVersion, clean: boolean): number | undefined {
  if (value === undefined) return version === 5 && !clean ? UINT32_MAX : undefined
  if (version !== 5) throw usage('-x needs MQTT v5 (-V 5)')
  if (value === '-1' || value === '∞') return UINT32_MAX
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= 0 && n <= UINT32_MAX)) throw usage(`-x: '${value}' is not a number of seconds (0-4294967295, -1 or ∞ for never)`)
  return n
}

function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new CliError(`cannot read ${what} '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, ExitCode.InputFile)
  }
}

async function tlsOptions(f: ConnectionFlagValues): Promise<TlsOptions | undefined> {
  if (!f.cafile && !f.capath && !f.cert && !f.insecure && !f['tls-version'] && !f['tls-alpn'] && !f['tls-use-os-certs'] && !f.psk) return undefined
  if (f.psk !== undefined) return pskOptions(f)
  const ca: Buffer[] = []
  if (f.cafile) ca.push(readInput(f.cafile, '--cafile'))
  if (f.capath) {
    let names: string[]
    try {
      names = readdirSync(f.capath)
    } catch {
      throw new CliError(`cannot read --capath '${f.capath}'`, ExitCode.InputFile)
    }
    for (const name of names) if (/\.(pem|crt)$/.test(name)) ca.push(readInput(join(f.capath, name), '--capath file'))
  }
  // --tls-use-os-certs with a CA of our own: both (a given `ca` replaces Node's default list)
  if (f['tls-use-os-certs'] && ca.length > 0) ca.unshift(...(await import('node:tls')).rootCertificates.map((pem) => Buffer.from(pem)))
  const minVersion = f['tls-version'] ? (f['tls-version'].replace('tlsv', 'TLSv') as TlsOptions['minVersion']) : undefined
  return {
    ca: ca.length > 0 ? ca : undefined,
    cert: f.cert ? readInput(f.cert, '--cert') : undefined,
    key: f.key ? readInput(f.key, '--key') : undefined,
    rejectUnauthorized: !f.insecure,
    minVersion, ciphers: f.ciphers,
    ALPNProtocols: f['tls-alpn'] === undefined ? undefined : [f['tls-alpn']],
  }
}

/** TLS-PSK (mosquitto's --psk/--psk-identity): the key stands in for certificates, so there is none to check. */
function pskOptions(f: ConnectionFlagValues): TlsOptions {
  if (!/^(?:[0-9a-f]{2})+$/i.test(f.psk!)) throw usage(`--psk: '${f.psk}' is not a key in hexadecimal (an even number of 0-9, a-f)`)
  const psk = Buffer.from(f.psk!, 'hex')
  const identity = f['psk-identity']!
  return {
    pskCallback: () => ({psk, identity}), checkServerIdentity: () => undefined,
    ciphers: f.ciphers ?? 'PSK', minVersion: f['tls-version'] ? (f['tls-version'].replace('tlsv', 'TLSv') as TlsOptions['minVersion']) : undefined,
    ALPNProtocols: f['tls-alpn'] === undefined ? undefined : [f['tls-alpn']],
    cert: f.cert ? readInput(f.cert, '--cert') : undefined, key: f.key ? readInput(f.key, '--key') : undefined,
  }
}

async function password(f: ConnectionFlagValues, url: ParsedUrl | undefined, username: string | undefined): Promise<string | undefined> {
  if (f.pw !== undefined) return f.pw
  if (f['password-file'] !== undefined) {
    const text = readInput(f['password-file'], '--password-file').toString('utf8')
    return text.split('\n')[0].replace(/\r$/, '')
  }
  if (url?.password !== undefined) return url.password
  if (process.env.MIDGE_PASSWORD !== undefined) return process.env.MIDGE_PASSWORD
  if (username === undefined || !process.stdin.isTTY) return undefined
  const {password: prompt} = await import('@inquirer/prompts')
  try {
    return await prompt({message: `Password for ${username}:`, mask: '*'}, {output: process.stderr})
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError') throw new CliError('cancelled', ExitCode.Failure)
    throw error
  }
}
