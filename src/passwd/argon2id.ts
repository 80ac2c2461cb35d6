import {timingSafeEqual} from 'node:crypto'
import {decodeBase64} from './base64.js'
import {ARGON2ID_DEFAULTS, ARGON2ID_HASH_BYTES, ARGON2ID_SALT_BYTES} from './defaults.js'
import {PasswordFileError} from './errors.js'
import {randomSalt} from './random.js'
import type {Argon2idHash} from './types.js'

// libargon2 (and so Mosquitto 2.1) writes and accepts only `m=..,t=..,p=..` in that order; the npm
// package's own serializer writes `m,p,t`. We read either and write libargon2's order ourselves.
const PHC = /^\$argon2id\$v=19\$([a-z]=\d{1,10}),([a-z]=\d{1,10}),([a-z]=\d{1,10})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/

export interface Argon2idParameters {
  readonly memory: number
  readonly iterations: number
  readonly parallelism: number
}

/** libargon2's limits: at least 8 KiB of memory per lane, one pass, one lane. */
export function checkArgon2idParameters({memory, iterations, parallelism}: Argon2idParameters): string | undefined {
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 0xff_ffff) return 'parallelism must be an integer from 1 to 16777215'
  if (!Number.isInteger(memory) || memory < 8 * parallelism || memory > 2 ** 32 - 1) return `memory must be a whole number of KiB from ${8 * parallelism} (8 x parallelism) to 4294967295`
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 2 ** 32 - 1) return 'iterations must be a positive integer'
  return undefined
}

/** Parses a `$argon2id$` PHC string; throws PasswordFileError (without a line) when it is malformed. */
export function parseArgon2id(text: string): Argon2idHash {
  const match = PHC.exec(text)
  const params = new Map(match?.slice(1, 4).map((pair) => [pair[0], Number(pair.slice(2))] as const))
  if (!match || params.size !== 3 || !params.has('m') || !params.has('t') || !params.has('p')) {
    throw new PasswordFileError('malformed $argon2id$ hash (expected $argon2id$v=19$m=M,t=T,p=P$salt$hash)')
  }
  const parameters = {memory: params.get('m')!, iterations: params.get('t')!, parallelism: params.get('p')!}
  const problem = checkArgon2idParameters(parameters)
  if (problem) throw new PasswordFileError(`bad $argon2id$ parameters: ${problem}`)
  const salt = decodeBase64(match[4])
  const hash = decodeBase64(match[5])
  if (!salt || salt.length < 8) throw new PasswordFileError('bad $argon2id$ salt (at least 8 bytes of base64)')
  if (!hash || hash.length < 4) throw new PasswordFileError('bad $argon2id$ hash (at least 4 bytes of base64)')
  return {kind: 'argon2id', text, ...parameters, salt, hash}
}

/** Hashes with argon2id and writes the PHC string in libargon2's layout. */
export async function hashArgon2id(password: string, options: Partial<Argon2idParameters> = {}): Promise<Argon2idHash> {
  const parameters = {...ARGON2ID_DEFAULTS, ...defined(options)}
  const problem = checkArgon2idParameters(parameters)
  if (problem) throw new RangeError(problem)
  const salt = await randomSalt(ARGON2ID_SALT_BYTES)
  const hash = await rawArgon2id(password, salt, parameters, ARGON2ID_HASH_BYTES)
  const {memory: m, iterations: t, parallelism: p} = parameters
  const text = `$argon2id$v=19$m=${m},t=${t},p=${p}$${unpadded(salt)}$${unpadded(hash)}`
  return {kind: 'argon2id', text, ...parameters, salt, hash}
}

/**
 * Verifies off the event loop (the argon2 binding is a Napi::AsyncWorker on the libuv thread pool)
 * and compares in constant time.
 */
export async function verifyArgon2id(stored: Argon2idHash, password: string | Buffer): Promise<boolean> {
  const actual = await rawArgon2id(password, stored.salt, stored, stored.hash.length)
  return timingSafeEqual(actual, stored.hash)
}

// the native binding is loaded at the first argon2id hash, not with the module: a pbkdf2 file, or a
// command that never hashes, does not pay for it at start-up
let binding: Promise<typeof import('argon2')> | undefined

async function rawArgon2id(password: string | Buffer, salt: Buffer, {memory, iterations, parallelism}: Argon2idParameters, hashLength: number): Promise<Buffer> {
  const {argon2id, hash} = await (binding ??= import('argon2'))
  return hash(password, {type: argon2id, memoryCost: memory, timeCost: iterations, parallelism, hashLength, salt, raw: true})
}

function unpadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '')
}

function defined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>
}
