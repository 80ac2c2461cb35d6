// The bridges of `broker start`: the `connection` sections of -c (their TLS files read here) and
// the short form of the command line (--bridge URL --bridge-topic '...'), turned into the engine's
// BridgeInput. A file that cannot be read, or a bad flag, stops the start (exit 17, or 2 for usage).
import {readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import type {ConnectionOptions as TlsOptions} from 'node:tls'
import {BridgeTopicError, parseTopicLine, type BridgeInput} from '../../index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import type {ConfBridge} from './mosquitto-bridge.js'

/** The flags of the short form (bridge-flags.ts). */
export interface BridgeFlagValues {
  bridge?: string
  'bridge-topic'?: string[]
  'bridge-name'?: string
  'bridge-password-file'?: string
  'bridge-cafile'?: string
  'bridge-protocol-version'?: 'mqttv31' | 'mqttv311' | 'mqttv50'
}

/** A bridge ready for broker.addBridge, with where it came from (for error messages). */
export interface BridgeSetting {
  input: BridgeInput
  origin: string
}

export async function bridgeSettings(conf: readonly ConfBridge[] | undefined, flags: BridgeFlagValues, env: NodeJS.ProcessEnv): Promise<BridgeSetting[]> {
  const out: BridgeSetting[] = []
  for (const b of conf ?? []) {
    out.push({origin: b.origin, input: {name: b.name, addresses: b.addresses, topics: b.topics, ...b.options, tls: await loadBridgeTls(b)}})
  }
  const fromFlags = await bridgeFromFlags(flags, env)
  if (fromFlags !== undefined) out.push(fromFlags)
  const names = new Set<string>()
  for (const s of out) {
    if (names.has(s.input.name)) throw new CliError(`${s.origin}: a bridge named '${s.input.name}' exists already (--bridge-name gives another name)`, ExitCode.BrokerStartFailed)
    names.add(s.input.name)
  }
  return out
}

/**
 * TLS to the remote as Mosquitto sets it up: on when bridge_cafile or bridge_capath is given (the
 * server certificate is then verified against them); bridge_insecure skips the host name check only.
 */
async function loadBridgeTls(b: ConfBridge): Promise<TlsOptions | undefined> {
  const t = b.tls
  if (t.cafile === undefined && t.capath === undefined) {
    if (t.certfile !== undefined || t.insecure !== undefined || t.alpn !== undefined || t.version !== undefined) {
      throw new CliError(`${b.origin}: bridge ${b.name}: the bridge_* TLS options need bridge_cafile or bridge_capath (as in Mosquitto)`, ExitCode.BrokerStartFailed)
    }
    return undefined
  }
  const read = (path: string, what: string) => readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`${b.origin}: bridge ${b.name}: cannot read the ${what} ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, ExitCode.BrokerStartFailed)
  })
  const ca: string[] = []
  if (t.cafile !== undefined) ca.push(await read(t.cafile, 'bridge_cafile'))
  if (t.capath !== undefined) {
    const names = await readdir(t.capath).catch((error: Error) => {
      throw new CliError(`${b.origin}: bridge ${b.name}: cannot read the bridge_capath folder ${t.capath}: ${error.message}`, ExitCode.BrokerStartFailed)
    })
    for (const n of names.filter((x) => /\.(pem|crt)$/.test(x)).sort()) ca.push(await read(join(t.capath, n), 'CA file'))
  }
  const tls: TlsOptions = {ca, rejectUnauthorized: true}
  if (t.certfile !== undefined) tls.cert = await read(t.certfile, 'bridge_certfile')
  if (t.keyfile !== undefined) tls.key = await read(t.keyfile, 'bridge_keyfile')
  if (t.insecure) tls.checkServerIdentity = () => undefined
  if (t.alpn !== undefined) tls.ALPNProtocols = [t.alpn]
  if (t.version === 'tlsv1.3') tls.minVersion = 'TLSv1.3'
  if (t.version === 'tlsv1.2') tls.minVersion = 'TLSv1.2'
  if (t.version === 'tlsv1.1') tls.minVersion = 'TLSv1.1'
  // Node takes the TLS 1.2 and 1.3 suites in one list
  const ciphers = [t.ciphers, t.ciphersTls13].filter((c) => c !== undefined).join(':')
  if (ciphers !== '') tls.ciphers = ciphers
  return tls
}

const VERSIONS = {mqttv31: 3, mqttv311: 4, mqttv50: 5} as const

/**
 * `--bridge mqtt[s]://[user@]host[:port] --bridge-topic 'PATTERN [in|out|both] [QOS] [LOCAL] [REMOTE]'`.
 * The password comes from MIDGE_BRIDGE_PASSWORD or --bridge-password-file, never from the URL.
 */
async function bridgeFromFlags(f: BridgeFlagValues, env: NodeJS.ProcessEnv): Promise<BridgeSetting | undefined> {
  const topics = f['bridge-topic'] ?? []
  if (f.bridge === undefined) {
    if (topics.length > 0 || f['bridge-name'] !== undefined || f['bridge-password-file'] !== undefined || f['bridge-cafile'] !== undefined) {
      throw new CliError('--bridge-topic, --bridge-name, --bridge-password-file and --bridge-cafile need --bridge URL', ExitCode.Usage)
    }
    return undefined
  }
  const origin = `--bridge ${f.bridge}`
  let url: URL
  try {
    url = new URL(f.bridge)
  } catch {
    throw new CliError(`${origin}: not a URL such as mqtt://user@broker.example:1883`, ExitCode.Usage)
  }
  const scheme = url.protocol.slice(0, -1)
  if (scheme !== 'mqtt' && scheme !== 'mqtts') throw new CliError(`${origin}: the scheme must be mqtt or mqtts`, ExitCode.Usage)
  if (url.password !== '') throw new CliError(`${origin}: no password in the URL (it would show in ps): use MIDGE_BRIDGE_PASSWORD or --bridge-password-file`, ExitCode.Usage)
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') throw new CliError(`${origin}: only a scheme, a user, a host and a port`, ExitCode.Usage)
  if (topics.length === 0) throw new CliError(`${origin}: at least one --bridge-topic is needed, e.g. --bridge-topic 'sensors/# out 1'`, ExitCode.Usage)
  const parsed = topics.map((t) => {
    try {
      return parseTopicLine(t)
    } catch (error) {
      if (error instanceof BridgeTopicError) throw new CliError(`--bridge-topic '${t}': ${error.message}`, ExitCode.Usage)
      throw error
    }
  })
  let password = env.MIDGE_BRIDGE_PASSWORD
  if (f['bridge-password-file'] !== undefined) {
    password = (await readFile(f['bridge-password-file'], 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --bridge-password-file ${f['bridge-password-file']}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, ExitCode.InputFile)
    })).replace(/\r?\n$/, '')
  }
  const username = url.username === '' ? undefined : decodeURIComponent(url.username)
  if (password !== undefined && username === undefined) throw new CliError(`${origin}: a bridge password needs a user name in the URL (mqtt://user@host)`, ExitCode.Usage)
  let tls: TlsOptions | undefined
  if (scheme === 'mqtts') {
    tls = {rejectUnauthorized: true}
    if (f['bridge-cafile'] !== undefined) {
      tls.ca = await readFile(f['bridge-cafile'], 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read --bridge-cafile ${f['bridge-cafile']}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, ExitCode.InputFile)
      })
    }
  } else if (f['bridge-cafile'] !== undefined) {
    throw new CliError(`${origin}: --bridge-cafile needs an mqtts:// URL`, ExitCode.Usage)
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return {
    origin,
    input: {
      name: f['bridge-name'] ?? 'bridge',
      addresses: [{host, port: url.port === '' ? (scheme === 'mqtts' ? 8883 : 1883) : Number(url.port)}],
      topics: parsed, remoteUsername: username, remotePassword: password, tls,
      protocolVersion: f['bridge-protocol-version'] === undefined ? undefined : VERSIONS[f['bridge-protocol-version']],
    },
  }
}
