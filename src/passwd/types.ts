/** A stored password hash, as read from or written to a password file. `text` is its exact stored form. */
export type PasswordHash = Argon2idHash | Pbkdf2Hash | Sha512Hash

/** `$argon2id$v=19$m=..,t=..,p=..$salt$hash`: the PHC string libargon2 and Mosquitto 2.1 write. */
export interface Argon2idHash {
  readonly kind: 'argon2id'
  readonly text: string
  readonly memory: number
  readonly iterations: number
  readonly parallelism: number
  readonly salt: Buffer
  readonly hash: Buffer
}

/** Mosquitto's `$7$iterations$salt$hash`: PBKDF2-HMAC-SHA512, 64-byte output, standard base64. */
export interface Pbkdf2Hash {
  readonly kind: 'pbkdf2-sha512'
  readonly text: string
  readonly iterations: number
  readonly salt: Buffer
  readonly hash: Buffer
}

/** Mosquitto 1.6's `$6$salt$hash`: SHA-512(password || salt). Read only: too fast to be written today. */
export interface Sha512Hash {
  readonly kind: 'sha512'
  readonly text: string
  readonly salt: Buffer
  readonly hash: Buffer
}

/** The algorithms midge writes. */
export type HashAlgorithm = 'argon2id' | 'pbkdf2'

export interface HashOptions {
  /** Default argon2id. */
  readonly algorithm?: HashAlgorithm
  /** argon2id memory in KiB. */
  readonly memory?: number
  /** argon2id passes (t), or pbkdf2 iterations. */
  readonly iterations?: number
  /** argon2id lanes (p). */
  readonly parallelism?: number
}
