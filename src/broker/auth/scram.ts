import {createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual} from 'node:crypto'
import {ReasonCode} from '../../codec/index.js'
import type {AuthExchange, AuthResult, Authenticator} from './authenticator.js'

/*
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5 enhanced authentication method, checked against a
 * user -> password map. The exchange in MQTT terms:
 *
 *   CONNECT  Authentication Data = client-first   "n,,n=alice,r=<client nonce>"
 *   AUTH 18  Authentication Data = server-first   "r=<client nonce><server nonce>,s=<salt>,i=<iterations>"
 *   AUTH 18  Authentication Data = client-final   "c=biws,r=<nonce>,p=<proof>"
 *   CONNACK 0 Authentication Data = server-final  "v=<server signature>"   (or CONNACK 0x87)
 *
 * Re-authentication (AUTH 0x19) runs the same exchange and ends with AUTH 0x00 instead of CONNACK.
 * Channel binding is not supported ("n" or "y" GS2 flags only). User names are compared after NFKC
 * normalization (a close approximation of SASLprep). Unknown users get a salt derived from the name,
 * so they cannot be told apart from known ones before the proof fails.
 */

export const SCRAM_SHA_256 = 'SCRAM-SHA-256'

export interface ScramOptions {
  /** User name -> password. */
  users: ReadonlyMap<string, string> | Readonly<Record<string, string>>
  /** PBKDF2 iterations (RFC 7677: at least 4096). */
  iterations?: number
}

interface Credentials {
  salt: Buffer
  storedKey: Buffer
  serverKey: Buffer
}

/** A SCRAM-SHA-256 authenticator for the broker option `authenticators`. */
export function scramSha256(options: ScramOptions): Authenticator {
  const iterations = options.iterations ?? 4096
  const users = options.users instanceof Map ? options.users : new Map(Object.entries(options.users))
  const byName = new Map<string, string>()
  for (const [name, password] of users) byName.set(name.normalize('NFKC'), password)
  const cache = new Map<string, Credentials>()
  const secret = randomBytes(32)
  const credentials = (user: string): Credentials | undefined => {
    const password = byName.get(user)
    if (password === undefined) return undefined
    let c = cache.get(user)
    if (c === undefined) {
      c = derive(password.normalize('NFKC'), randomBytes(16), iterations)
      cache.set(user, c)
    }
    return c
  }
  return {
    method: SCRAM_SHA_256,
    begin: () => new ScramExchange(credentials, (user) => hmac(secret, user).subarray(0, 16), iterations),
  }
}

class ScramExchange implements AuthExchange {
  private step = 0
  private user = ''
  private nonce = ''
  private clientFirstBare = ''
  private serverFirst = ''
  private creds: Credentials | undefined

  constructor(
    private readonly lookup: (user: string) => Credentials | undefined,
    private readonly fakeSalt: (user: string) => Buffer,
    private readonly iterations: number,
  ) {}

  next(data: Buffer | undefined): AuthResult {
    const text = data?.toString('utf8') ?? ''
    return this.step++ === 0 ? this.first(text) : this.final(text)
  }

  private first(message: string): AuthResult {
    // gs2-header: "n,," or "y,," (no channel binding), no authzid
    const match = /^[ny],,(n=([^,]*),r=([\x21-\x2b\x2d-\x7e]+)(?:,.*)?)$/.exec(message)
    if (match === null) return fail('malformed SCRAM client-first message')
    // every group of the pattern takes part in a match
    this.clientFirstBare = match[1]!
    this.user = unescapeName(match[2]!).normalize('NFKC')
    this.nonce = match[3]! + randomBytes(18).toString('base64')
    this.creds = this.lookup(this.user)
    const salt = this.creds?.salt ?? this.fakeSalt(this.user)
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${this.iterations}`
    return {status: 'continue', data: Buffer.from(this.serverFirst)}
  }

  private final(message: string): AuthResult {
    if (this.step !== 2) return fail('SCRAM exchange already finished')
    const match = /^(c=([^,]*),r=([^,]*)(?:,.*)?),p=([A-Za-z0-9+/=]+)$/.exec(message)
    if (match === null) return fail('malformed SCRAM client-final message')
    const [, withoutProof, channel, nonce, proofText] = match
    if (channel !== 'biws' && channel !== 'eSws') return fail('SCRAM channel binding is not supported')
    if (nonce !== this.nonce) return fail('SCRAM nonce mismatch')
    if (this.creds === undefined) return badCredentials()
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`
    const proof = Buffer.from(proofText!, 'base64')
    const signature = hmac(this.creds.storedKey, authMessage)
    if (proof.length !== signature.length) return badCredentials()
    const clientKey = xor(proof, signature)
    if (!timingSafeEqual(sha256(clientKey), this.creds.storedKey)) return badCredentials()
    return {status: 'success', data: Buffer.from(`v=${hmac(this.creds.serverKey, authMessage).toString('base64')}`), username: this.user}
  }
}

/** The client's side of the computation (for clients and tests): proof and expected server signature. */
export function scramClientProof(password: string, clientFirstBare: string, serverFirst: string, clientFinalWithoutProof: string): {proof: Buffer; serverSignature: Buffer} {
  const fields = Object.fromEntries(serverFirst.split(',').map((f) => [f[0], f.slice(2)]))
  const c = derive(password.normalize('NFKC'), Buffer.from(fields.s, 'base64'), Number(fields.i))
  const clientKey = hmac(c.saltedPassword, 'Client Key')
  const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`
  return {proof: xor(clientKey, hmac(c.storedKey, authMessage)), serverSignature: hmac(c.serverKey, authMessage)}
}

function derive(password: string, salt: Buffer, iterations: number): Credentials & {saltedPassword: Buffer} {
  const saltedPassword = pbkdf2Sync(password, salt, iterations, 32, 'sha256')
  const storedKey = sha256(hmac(saltedPassword, 'Client Key'))
  return {salt, saltedPassword, storedKey, serverKey: hmac(saltedPassword, 'Server Key')}
}

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest()
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest()

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ (b[i] ?? 0)
  return out
}

/** RFC 5802 saslname: '=2C' is ',' and '=3D' is '='. */
function unescapeName(name: string): string {
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=')
}

function fail(reason: string): AuthResult {
  return {status: 'failure', reason}
}

function badCredentials(): AuthResult {
  return {status: 'failure', reasonCode: ReasonCode.BadUserNameOrPassword, reason: 'unknown user or wrong password'}
}
