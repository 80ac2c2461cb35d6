import {pbkdf2, timingSafeEqual} from 'node:crypto'
import {decodeBase64} from './base64.js'
import {MOSQUITTO_SALT_BYTES, PBKDF2_DEFAULTS, PBKDF2_SALT_BYTES, SHA512_BYTES} from './defaults.js'
import {PasswordFileError} from './errors.js'
import {randomSalt} from './random.js'
import type {Pbkdf2Hash} from './types.js'

/** crypto.pbkdf2 as a promise (not promisify(pbkdf2) at load, which reads node:crypto before any use: see random.ts). */
function pbkdf2Async(password: string | Buffer, salt: Buffer, iterations: number, bytes: number, digest: string): Promise<Buffer> {
  return new Promise((resolve, reject) => pbkdf2(password, salt, iterations, bytes, digest, (error, key) => (error ? reject(error) : resolve(key))))
}

/** Mosquitto reads the count with atoi() into an int. */
const MAX_ITERATIONS = 2 ** 31 - 1

export function checkPbkdf2Iterations(iterations: number): string | undefined {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) return `iterations must be an integer from 1 to ${MAX_ITERATIONS}`
  return undefined
}

/** Parses Mosquitto's `$7$iterations$salt$hash`; salt 12 bytes (2.0) or 64 bytes (2.1), hash 64 bytes. */
export function parsePbkdf2(text: string): Pbkdf2Hash {
  const parts = text.split('$') as [string, string, string, string, string]
  if (parts.length !== 5 || parts[0] !== '' || parts[1] !== '7') throw new PasswordFileError('malformed $7$ hash (expected $7$iterations$salt$hash)')
  if (!/^\d{1,10}$/.test(parts[2]) || checkPbkdf2Iterations(Number(parts[2]))) throw new PasswordFileError(`bad $7$ iteration count ${JSON.stringify(parts[2])}`)
  const salt = decodeBase64(parts[3])
  if (!salt || !MOSQUITTO_SALT_BYTES.includes(salt.length)) throw new PasswordFileError('bad $7$ salt (expected 12 or 64 bytes of base64)')
  const hash = decodeBase64(parts[4])
  if (!hash || hash.length !== SHA512_BYTES) throw new PasswordFileError('bad $7$ hash (expected 64 bytes of base64)')
  return {kind: 'pbkdf2-sha512', text, iterations: Number(parts[2]), salt, hash}
}

/** Writes the `$7$` layout every Mosquitto 2.x reads: a 12-byte salt. */
export async function hashPbkdf2(password: string, options: {iterations?: number} = {}): Promise<Pbkdf2Hash> {
  const iterations = options.iterations ?? PBKDF2_DEFAULTS.iterations
  const problem = checkPbkdf2Iterations(iterations)
  if (problem) throw new RangeError(problem)
  const salt = await randomSalt(PBKDF2_SALT_BYTES)
  const hash = await pbkdf2Async(password, salt, iterations, SHA512_BYTES, 'sha512')
  const text = `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`
  return {kind: 'pbkdf2-sha512', text, iterations, salt, hash}
}

/** Runs on the libuv thread pool (crypto.pbkdf2) and compares in constant time. */
export async function verifyPbkdf2(stored: Pbkdf2Hash, password: string | Buffer): Promise<boolean> {
  const actual = await pbkdf2Async(password, stored.salt, stored.iterations, stored.hash.length, 'sha512')
  return timingSafeEqual(actual, stored.hash)
}
