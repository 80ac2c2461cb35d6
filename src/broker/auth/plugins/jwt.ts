// The JWT backend (`--auth-jwt-secret`, `--auth-jwt-key`, `--auth-jwt-jwks`, or `plugin midge:jwt`):
// the CONNECT password is a JWT, checked with jose: signature (HMAC secret, PEM public key or JWKS),
// exp/nbf, audience and issuer. A claim (default `acl`) lists the topics the client may use:
//   {"acl": {"pub": ["devices/%c/state"], "sub": ["devices/%c/cmd/#"], "all": ["chat/%u/#"]}}
// with %c the client id and %u the user name; a token without it leaves topics to the ACL file.
import {createPublicKey, type KeyObject} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey} from 'jose'
import {ReasonCode} from '../../../codec/index.js'
import {parseAclFile, type Acl} from '../acl-file.js'
import type {AuthPlugin} from './types.js'

/** A client logged in with a token: its identity and the topics its token grants. */
interface Grant {
  username: string | undefined
  acl: Acl | undefined
  /** Set once the client is connected; a takeover's disconnect then leaves the new grant alone. */
  live: boolean
  at: number
}

type Verifier = {key: KeyObject | Uint8Array; algorithms: string[]} | {jwks: JWTVerifyGetKey}

/** Errors that mean "this token is not good" (a refusal), as opposed to "cannot check now" (a failure). */
const REFUSALS = new Set([errors.JWTExpired.code, errors.JWTClaimValidationFailed.code, errors.JWSSignatureVerificationFailed.code,
  errors.JWSInvalid.code, errors.JWTInvalid.code, errors.JOSEAlgNotAllowed.code, errors.JWKSNoMatchingKey.code,
  errors.JOSENotSupported.code, errors.JWKSMultipleMatchingKeys.code])

/** A grant not yet connected is forgotten after this long (a client that authenticated and then went). */
const UNCONNECTED_GRANT_MS = 60_000

/**
 * Options (plugin_opt_NAME): one of secret, key (a PEM file), jwks (a JSON file or an https URL);
 * audience, issuer, acl_claim (default acl), username_claim (default sub: must equal the user name
 * when one is given; empty: not checked), clock_tolerance (s), jwks_cooldown (s, default 30).
 */
const jwt: AuthPlugin = async (options, context) => {
  const sources = ['secret', 'key', 'jwks'].filter((k) => options[k] !== undefined && options[k] !== '')
  if (sources.length !== 1) throw new Error('needs exactly one of the options secret, key and jwks')
  const aclClaim = options.acl_claim ?? 'acl'
  const usernameClaim = options.username_claim ?? 'sub'
  const verifyOptions = {
    audience: options.audience, issuer: options.issuer,
    clockTolerance: options.clock_tolerance === undefined ? undefined : Number(options.clock_tolerance),
  }
  const load = () => verifier(options, context.timeoutMs)
  let check = await load()
  if (options.secret !== undefined && Buffer.byteLength(options.secret) < 32) {
    context.logger.warn({}, 'the JWT secret is shorter than 32 bytes: HS256 wants at least 32 random bytes')
  }
  const grants = new Map<string, Grant>()
  const refuse = (req: {clientId: string; username?: string}, code: number, reason: string) => {
    context.logger.warn({clientId: req.clientId, username: req.username, reason}, `JWT refused: ${reason}`)
    grants.delete(req.clientId)
    return code
  }

  return {
    async authenticate(req) {
      const token = req.password?.toString('utf8')
      // not a JWT (three base64url parts): another plugin or the password file may know this client
      if (token === undefined || !/^[\w-]+\.[\w-]*\.[\w-]*$/.test(token)) {
        grants.delete(req.clientId)
        return undefined
      }
      let payload: JWTPayload
      try {
        const verified = 'jwks' in check
          ? await jwtVerify(token, check.jwks, verifyOptions)
          : await jwtVerify(token, check.key, {...verifyOptions, algorithms: check.algorithms})
        payload = verified.payload
      } catch (error) {
        const code = (error as {code?: string}).code
        if (code !== undefined && REFUSALS.has(code)) return refuse(req, ReasonCode.BadUserNameOrPassword, (error as Error).message)
        throw error
      }
      let username = req.username
      if (usernameClaim !== '') {
        const claimed = payload[usernameClaim]
        if (typeof claimed !== 'string') return refuse(req, ReasonCode.BadUserNameOrPassword, `the token has no '${usernameClaim}' claim`)
        if (username !== undefined && username !== claimed) return refuse(req, ReasonCode.BadUserNameOrPassword, `the user name is not the token's '${usernameClaim}'`)
        username = claimed
      }
      let acl: Acl | undefined
      try {
        acl = payload[aclClaim] === undefined ? undefined : aclOf(payload[aclClaim])
      } catch (error) {
        return refuse(req, ReasonCode.NotAuthorized, `the '${aclClaim}' claim: ${(error as Error).message}`)
      }
      grants.set(req.clientId, {username, acl, live: false, at: Date.now()})
      return true
    },
    authorizePublish({clientId, topic}) {
      const g = grants.get(clientId)
      return g?.acl?.canWrite(clientId, g.username, topic)
    },
    authorizeSubscribe({clientId, filter}) {
      const g = grants.get(clientId)
      return g?.acl?.canEverRead(clientId, g.username, filter)
    },
    authorizeDeliver({clientId, topic}) {
      const g = grants.get(clientId)
      return g?.acl?.canRead(clientId, g.username, topic)
    },
    onConnect({clientId}) {
      const g = grants.get(clientId)
      if (g === undefined || g.live) return
      if (Date.now() - g.at > UNCONNECTED_GRANT_MS) grants.delete(clientId)
      else g.live = true
    },
    onDisconnect({clientId}) {
      if (grants.get(clientId)?.live) grants.delete(clientId)
    },
    async reload() {
      // a new key (or key set: fetched again); connected clients keep the claims they logged in with
      check = await load()
    },
  }
}

export default jwt

/** The key (and the algorithms it may sign with) or key set of the options. */
async function verifier(options: Readonly<Record<string, string>>, timeoutMs: number): Promise<Verifier> {
  if (options.secret !== undefined) return {key: new TextEncoder().encode(options.secret), algorithms: ['HS256', 'HS384', 'HS512']}
  if (options.key !== undefined) {
    const pem = await readFile(options.key, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new Error(`cannot read the key ${options.key}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`) })
    let key: KeyObject
    try {
      key = createPublicKey(pem)
    } catch {
      throw new Error(`${options.key} is not a PEM public key or certificate`)
    }
    return {key, algorithms: algorithmsFor(key)}
  }
  const source = options.jwks!
  if (/^https?:\/\//.test(source)) {
    const cooldown = Number(options.jwks_cooldown ?? '30')
    if (!(cooldown >= 0)) throw new Error(`jwks_cooldown must be a number of seconds, not '${options.jwks_cooldown}'`)
    const jwks = createRemoteJWKSet(new URL(source), {timeoutDuration: timeoutMs, cooldownDuration: cooldown * 1000})
    return {jwks}
  }
  const text = await readFile(source, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new Error(`cannot read the JWKS ${source}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`) })
  try {
    return {jwks: createLocalJWKSet(JSON.parse(text))}
  } catch (error) {
    throw new Error(`${source} is not a JWKS (JSON with a "keys" array): ${(error as Error).message}`)
  }
}

/** The signature algorithms a public key can check (never 'none', never HMAC). */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa': return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
    case 'rsa-pss': return ['PS256', 'PS384', 'PS512']
    case 'ec': return [{prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512'}[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'ES256']
    case 'ed25519': return ['EdDSA', 'Ed25519']
    default: throw new Error(`unsupported key type ${key.asymmetricKeyType}`)
  }
}

/** {"pub": [...], "sub": [...], "all": [...]} as ACL rules (patterns, so %c and %u work as in acl_file). */
function aclOf(claim: unknown): Acl {
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) throw new Error('not an object of pub, sub and all lists')
  const lines: string[] = []
  for (const [key, access] of [['pub', 'write'], ['sub', 'read'], ['all', 'readwrite']] as const) {
    const list = (claim as Record<string, unknown>)[key]
    if (list === undefined) continue
    if (!Array.isArray(list) || !list.every((f) => typeof f === 'string' && f !== '' && !/[\r\n]/.test(f))) throw new Error(`${key} is not a list of topic filters`)
    for (const f of list as string[]) lines.push(`pattern ${access} ${f}`)
  }
  try {
    return parseAclFile(lines.join('\n'))
  } catch (error) {
    throw new Error((error as Error).message.replace(/^\d+: /, ''))
  }
}
