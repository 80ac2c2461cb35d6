import {createHash, timingSafeEqual} from 'node:crypto'
import {decodeBase64} from './base64.js'
import {MOSQUITTO_SALT_BYTES, SHA512_BYTES} from './defaults.js'
import {PasswordFileError} from './errors.js'
import type {Sha512Hash} from './types.js'

/** Parses Mosquitto 1.6's `$6$salt$hash`. There is deliberately no way to write one. */
export function parseSha512(text: string): Sha512Hash {
  const parts = text.split('$')
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '6') throw new PasswordFileError('malformed $6$ hash (expected $6$salt$hash)')
  const salt = decodeBase64(parts[2])
  if (!salt || !MOSQUITTO_SALT_BYTES.includes(salt.length)) throw new PasswordFileError('bad $6$ salt (expected 12 or 64 bytes of base64)')
  const hash = decodeBase64(parts[3])
  if (!hash || hash.length !== SHA512_BYTES) throw new PasswordFileError('bad $6$ hash (expected 64 bytes of base64)')
  return {kind: 'sha512', text, salt, hash}
}

/** One SHA-512 takes microseconds, so it runs inline; the comparison is constant-time. */
export function verifySha512(stored: Sha512Hash, password: string | Buffer): boolean {
  const actual = createHash('sha512').update(password).update(stored.salt).digest()
  return timingSafeEqual(actual, stored.hash)
}
