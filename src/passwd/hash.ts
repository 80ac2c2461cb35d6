import {hashArgon2id, parseArgon2id, verifyArgon2id} from './argon2id.js'
import {PasswordFileError} from './errors.js'
import {hashPbkdf2, parsePbkdf2, verifyPbkdf2} from './pbkdf2.js'
import {parseSha512, verifySha512} from './sha512.js'
import type {HashOptions, PasswordHash} from './types.js'
import {validatePassword} from './validate.js'

const PREFIXES = ['$argon2id$', '$7$', '$6$'] as const

/** True when the text claims to be a hash midge reads (it may still be malformed). */
export function looksHashed(text: string): boolean {
  return PREFIXES.some((prefix) => text.startsWith(prefix))
}

/** Parses a stored hash: `$argon2id$`, `$7$` or `$6$`. Throws PasswordFileError (without a line number). */
export function parseHash(text: string): PasswordHash {
  if (text.startsWith('$argon2id$')) return parseArgon2id(text)
  if (text.startsWith('$7$')) return parsePbkdf2(text)
  if (text.startsWith('$6$')) return parseSha512(text)
  throw new PasswordFileError('unrecognised hash (expected $argon2id$, $7$ or $6$)')
}

/** Hashes a password for storage: argon2id by default, or Mosquitto's `$7$` with `algorithm: 'pbkdf2'`. */
export async function hashPassword(password: string, options: HashOptions = {}): Promise<PasswordHash> {
  validatePassword(password)
  const algorithm = options.algorithm ?? 'argon2id'
  const {memory, iterations, parallelism} = options
  if (algorithm === 'argon2id') return hashArgon2id(password, {memory, iterations, parallelism})
  if (algorithm === 'pbkdf2') {
    if (memory !== undefined || parallelism !== undefined) throw new RangeError('memory and parallelism apply to argon2id only')
    return hashPbkdf2(password, {iterations})
  }
  throw new RangeError(`cannot write ${JSON.stringify(algorithm)} hashes (use argon2id or pbkdf2)`)
}

/**
 * True when `password` matches. argon2id and pbkdf2 run on the libuv thread pool, never blocking the
 * event loop; every comparison is constant-time.
 */
export async function verifyPassword(hash: PasswordHash, password: string | Buffer): Promise<boolean> {
  switch (hash.kind) {
    case 'argon2id': return verifyArgon2id(hash, password)
    case 'pbkdf2-sha512': return verifyPbkdf2(hash, password)
    case 'sha512': return verifySha512(hash, password)
  }
}
