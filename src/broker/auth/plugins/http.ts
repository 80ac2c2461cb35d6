// The HTTP backend (`--auth-http URL`, or `plugin midge:http` + `plugin_opt_url URL`): the broker asks
// a web service whether a client may connect, publish and subscribe, the way EMQX's HTTP auth and
// mosquitto-go-auth's HTTP backend do.
//
//   POST url   {"action":"connect","clientid":"c1","username":"u","password":"p","peer":"10.0.0.7","protocol":5,"cert_subject":null}
//   POST url   {"action":"publish","clientid":"c1","username":"u","peer":"10.0.0.7","protocol":5,"topic":"a/b","qos":1,"retain":false}
//   POST url   {"action":"subscribe",...,"topic":"a/#","qos":1}
//
// Answer: 2xx allows, unless its JSON body says {"result":"deny"} (or {"ok":false}); {"result":"ignore"}
// passes the question on (next plugin, then the password file and ACL); 4xx denies; anything else
// (5xx, no answer in time, connection refused) is a failure, which denies and is logged (fail closed).
import {createHash} from 'node:crypto'
import {Agent, request} from 'undici'
import {remoteHost} from '../../remote-host.js'
import type {TtlCache} from './cache.js'
import type {AuthPlugin, PluginHooks} from './types.js'

type Answer = 'allow' | 'deny' | 'ignore'

/** Options (plugin_opt_NAME): url (required), acl_url, cache_ttl (s, default 30; 0: off), cache_size, max_connections, timeout_ms, header_NAME. */
const http: AuthPlugin = (options, context) => {
  const url = parseUrl(options.url, 'url')
  const aclUrl = options.acl_url === undefined ? url : parseUrl(options.acl_url, 'acl_url')
  const ttlMs = number(options.cache_ttl ?? '30', 'cache_ttl', 0) * 1000
  const timeoutMs = number(options.timeout_ms ?? String(context.timeoutMs), 'timeout_ms', 1)
  const connections = number(options.max_connections ?? '32', 'max_connections', 1)
  const cache: TtlCache<Answer> = context.cache({ttlMs, maxEntries: number(options.cache_size ?? '10000', 'cache_size', 1)})
  const headers: Record<string, string> = {'content-type': 'application/json', accept: 'application/json'}
  for (const [name, value] of Object.entries(options)) if (name.startsWith('header_')) headers[name.slice(7).replaceAll('_', '-')] = value
  // keep-alive connections to the service, at most `connections` requests at once (others queue)
  const agent = new Agent({connections, keepAliveTimeout: 30_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs})

  async function ask(target: URL, body: Record<string, unknown>, key: string): Promise<Answer> {
    const cached = cache.get(key)
    if (cached !== undefined) return cached
    let res
    try {
      res = await request(target, {method: 'POST', headers, body: JSON.stringify(body), dispatcher: agent, signal: AbortSignal.timeout(timeoutMs)})
    } catch (error) {
      throw new Error(`${target.origin}: ${describeError(error)}`)
    }
    const text = await res.body.text()
    const answer = interpret(res.statusCode, text)
    if (answer === undefined) throw new Error(`${target.origin} answered ${res.statusCode}`)
    cache.set(key, answer)
    return answer
  }

  /** The client's address without the port (which changes on every connection and would defeat the cache). */
  const peer = (address: string | undefined) => (address === undefined ? null : remoteHost(address))
  const decide = (a: Answer) => (a === 'ignore' ? undefined : a === 'allow')
  const hooks: PluginHooks = {
    async authenticate(req) {
      const password = req.password?.toString('utf8')
      const body = {action: 'connect', clientid: req.clientId, username: req.username ?? null, password: password ?? null, peer: peer(req.remoteAddress), protocol: req.protocolVersion, cert_subject: req.certificateSubject ?? null}
      // the password is in the key only as a hash: the cache holds no secrets
      const key = ['connect', req.clientId, req.username ?? '', password === undefined ? '' : sha256(password), peer(req.remoteAddress) ?? '', req.certificateSubject ?? ''].join('\0')
      return decide(await ask(url, body, key))
    },
    async authorizePublish(req) {
      const body = {action: 'publish', clientid: req.clientId, username: req.username ?? null, peer: peer(req.remoteAddress), protocol: req.protocolVersion, topic: req.topic, qos: req.qos, retain: req.retain}
      return decide(await ask(aclUrl, body, ['publish', req.clientId, req.username ?? '', req.topic, req.qos, req.retain].join('\0')))
    },
    async authorizeSubscribe(req) {
      const body = {action: 'subscribe', clientid: req.clientId, username: req.username ?? null, peer: peer(req.remoteAddress), protocol: req.protocolVersion, topic: req.filter, qos: req.qos}
      return decide(await ask(aclUrl, body, ['subscribe', req.clientId, req.username ?? '', req.filter, req.qos].join('\0')))
    },
    reload() {
      cache.clear()
    },
    async stop() {
      await agent.close()
    },
  }
  context.logger.info({url: url.href, aclUrl: aclUrl.href, cacheTtlS: ttlMs / 1000, maxConnections: connections}, `HTTP authentication through ${url.href}`)
  return hooks
}

export default http

/** 2xx allows (or what its JSON says), 4xx denies, anything else is no answer. */
export function interpret(status: number, text: string): Answer | undefined {
  if (status >= 400 && status < 500) return 'deny'
  if (status < 200 || status >= 300) return undefined
  let json: unknown
  try {
    json = text.trim() === '' ? undefined : JSON.parse(text)
  } catch {
    return 'allow'
  }
  if (typeof json !== 'object' || json === null) return 'allow'
  const {result, ok} = json as {result?: unknown; ok?: unknown}
  if (result === 'allow' || result === 'deny' || result === 'ignore') return result
  if (typeof ok === 'boolean') return ok ? 'allow' : 'deny'
  return 'allow'
}

function parseUrl(value: string | undefined, name: string): URL {
  if (value === undefined) throw new Error(`needs the option ${name} (an http:// or https:// URL)`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`${name} '${value}' is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name} '${value}' is not an http:// or https:// URL`)
  return url
}

function number(value: string, name: string, min: number): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number of at least ${min}, not '${value}'`)
  return n
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64')
}

function describeError(error: unknown): string {
  const e = error as {name?: string; code?: string; message?: string; cause?: {code?: string}}
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'no answer in time'
  const code = e.code ?? e.cause?.code
  if (code === 'ECONNREFUSED') return 'connection refused (is the service running?)'
  if (code === 'ENOTFOUND') return 'no such host'
  return e.message ?? String(error)
}
