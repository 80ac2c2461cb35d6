/**
 * Default hashing parameters, and why.
 *
 * argon2id: m = 19,456 KiB (19 MiB), t = 2, p = 1. This is one of OWASP's recommended argon2id
 * settings (Password Storage Cheat Sheet), rated as strong as Mosquitto 2.1's m = 47,104 KiB, t = 1,
 * p = 1 but needing 19 MiB instead of 46 MiB per verification. The broker verifies on the libuv thread
 * pool (4 threads by default), so a connection storm peaks at about 4 x 19 MiB = 76 MiB rather than
 * 184 MiB. p = 1 because the broker's parallelism comes from verifying several CONNECTs at once, not
 * from lanes inside one hash. One verification costs about 60 ms on a 2-vCPU CI machine.
 * Salt 16 bytes and tag 32 bytes, as RFC 9106 recommends.
 *
 * pbkdf2 (Mosquitto's `$7$`): 50,000 iterations of PBKDF2-HMAC-SHA512, 12-byte salt. The only reason
 * to pick pbkdf2 is a file that Mosquitto will read, and Mosquitto hashes on its single network thread
 * during CONNECT: every iteration count is paid by every other client of that broker as a stall.
 * 50,000 costs about 50 ms on the same CI machine (about 25 ms on a fast core): 500 times Mosquitto
 * 2.0's 101 and 50 times 2.1's 1,000, while a reconnect storm of 1,000 devices still clears in under a
 * minute. OWASP's 210,000 would stall Mosquitto for about 260 ms per CONNECT here; pass
 * `--iterations 210000` when the broker's connect rate allows it. The 12-byte salt is the one every
 * Mosquitto 2.x reads (2.0 rejects the 64-byte salt that 2.1 writes).
 */
export const ARGON2ID_DEFAULTS = {memory: 19_456, iterations: 2, parallelism: 1} as const

export const PBKDF2_DEFAULTS = {iterations: 50_000} as const

/** The argon2id tag and salt lengths we write (bytes). */
export const ARGON2ID_HASH_BYTES = 32
export const ARGON2ID_SALT_BYTES = 16

/** Mosquitto's `$7$` layout: a 12-byte salt written (12 or 64 read) and a 64-byte SHA-512 output. */
export const PBKDF2_SALT_BYTES = 12
export const MOSQUITTO_SALT_BYTES: readonly number[] = [12, 64]
export const SHA512_BYTES = 64
