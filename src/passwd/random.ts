import {randomBytes} from 'node:crypto'
import {promisify} from 'node:util'

/** Cryptographically random bytes, generated on the libuv thread pool. */
export const randomSalt: (bytes: number) => Promise<Buffer> = promisify(randomBytes)
