import {randomBytes} from 'node:crypto'

/** Cryptographically random bytes, generated on the libuv thread pool. */
export function randomSalt(bytes: number): Promise<Buffer> {
  // (not promisify(randomBytes) at load: that reads node:crypto when the module loads, which the bundle
  // defers to a first use, scripts/bundle.mjs)
  return new Promise((resolve, reject) => randomBytes(bytes, (error, buf) => (error ? reject(error) : resolve(buf))))
}
