import {PasswordFileError} from './errors.js'
import {hashPassword, looksHashed, parseHash, verifyPassword} from './hash.js'
import type {HashOptions, PasswordHash} from './types.js'
import {validatePassword, validateUsername} from './validate.js'

/** One line of a password file. `raw` is kept so that untouched lines are written back byte for byte. */
type Line =
  | {readonly kind: 'entry'; readonly user: string; readonly hash: PasswordHash; readonly raw: string}
  | {readonly kind: 'plaintext'; readonly user: string; readonly password: string; readonly raw: string}
  | {readonly kind: 'other'; readonly raw: string}

export interface ParseOptions {
  /** Named in error messages (`FILE:LINE: ...`); usually the path. */
  readonly source?: string
  /** Accept `user:password` lines whose password is not a hash (for `passwd -U`). */
  readonly allowPlaintext?: boolean
}

/**
 * A Mosquitto-format password file: one `user:hash` per line, plus blank lines and `#` comments,
 * which are kept. Users are unique; order is kept, new users are appended.
 */
export class PasswordFile {
  private constructor(private lines: Line[]) {}

  static empty(): PasswordFile {
    return new PasswordFile([])
  }

  /** Parses file text; throws PasswordFileError naming the line of the first problem. */
  static parse(text: string, options: ParseOptions = {}): PasswordFile {
    const lines: Line[] = []
    const firstLine = new Map<string, number>()
    const rows = text.replace(/^\uFEFF/, '').split('\n')
    if (rows.at(-1) === '') rows.pop()
    rows.forEach((row, index) => {
      const number = index + 1
      const fail = (reason: string): never => {
        throw new PasswordFileError(`${options.source ?? 'line'}${options.source ? ':' : ' '}${number}: ${reason}`, number)
      }
      const raw = row.endsWith('\r') ? row.slice(0, -1) : row
      if (raw.trim() === '' || raw.trimStart().startsWith('#')) {
        lines.push({kind: 'other', raw})
        return
      }
      const colon = raw.indexOf(':')
      if (colon < 0) fail('malformed line (expected user:hash)')
      const user = raw.slice(0, colon).trim()
      try { validateUsername(user) } catch (error) { fail((error as Error).message) }
      const first = firstLine.get(user)
      if (first !== undefined) fail(`duplicate user ${JSON.stringify(user)} (first on line ${first})`)
      firstLine.set(user, number)
      const value = raw.slice(colon + 1)
      if (looksHashed(value.trim())) {
        try { lines.push({kind: 'entry', user, hash: parseHash(value.trim()), raw}) } catch (error) { fail(`user ${JSON.stringify(user)}: ${(error as Error).message}`) }
      } else if (options.allowPlaintext) {
        try { validatePassword(value) } catch (error) { fail(`user ${JSON.stringify(user)}: ${(error as Error).message}`) }
        lines.push({kind: 'plaintext', user, password: value, raw})
      } else {
        fail(`user ${JSON.stringify(user)}: ${value.trim() === '' ? 'no password hash' : 'unrecognised hash (expected $argon2id$, $7$ or $6$; convert plaintext with -U)'}`)
      }
    })
    return new PasswordFile(lines)
  }

  /** User names in file order. */
  users(): string[] {
    return this.lines.flatMap((line) => (line.kind === 'other' ? [] : [line.user]))
  }

  get size(): number {
    return this.users().length
  }

  has(user: string): boolean {
    return this.find(user) !== undefined
  }

  /** The stored hash, or undefined for an unknown user or a plaintext line. */
  get(user: string): PasswordHash | undefined {
    const line = this.find(user)
    return line?.kind === 'entry' ? line.hash : undefined
  }

  /** Adds or replaces a user's hash (replacing in place keeps the file's order). */
  set(user: string, hash: PasswordHash): 'added' | 'updated' {
    validateUsername(user)
    const line: Line = {kind: 'entry', user, hash, raw: `${user}:${hash.text}`}
    const index = this.lines.findIndex((l) => l.kind !== 'other' && l.user === user)
    if (index < 0) {
      this.lines.push(line)
      return 'added'
    }
    this.lines[index] = line
    return 'updated'
  }

  /** Hashes `password` and stores it for `user`. */
  async setPassword(user: string, password: string, options: HashOptions = {}): Promise<'added' | 'updated'> {
    validateUsername(user)
    return this.set(user, await hashPassword(password, options))
  }

  /** Removes a user; false when there was none. */
  delete(user: string): boolean {
    const before = this.lines.length
    this.lines = this.lines.filter((l) => l.kind === 'other' || l.user !== user)
    return this.lines.length !== before
  }

  /**
   * True when the user exists and the password matches. An unknown user costs about as much as a
   * known one (the password is checked against another entry's hash and the result discarded), so
   * response time does not reveal which user names exist.
   */
  async verify(user: string, password: string | Buffer): Promise<boolean> {
    const hash = this.get(user)
    if (hash) return verifyPassword(hash, password)
    const decoy = this.lines.find((l) => l.kind === 'entry')
    if (decoy?.kind === 'entry') await verifyPassword(decoy.hash, password)
    return false
  }

  /** Users whose line holds a plaintext password (only after parsing with allowPlaintext). */
  plaintextUsers(): string[] {
    return this.lines.flatMap((line) => (line.kind === 'plaintext' ? [line.user] : []))
  }

  /** Replaces every plaintext password by its hash; lines already hashed are left alone. Returns the count. */
  async hashPlaintext(options: HashOptions = {}): Promise<number> {
    let count = 0
    for (const [index, line] of this.lines.entries()) {
      if (line.kind !== 'plaintext') continue
      const hash = await hashPassword(line.password, options)
      this.lines[index] = {kind: 'entry', user: line.user, hash, raw: `${line.user}:${hash.text}`}
      count++
    }
    return count
  }

  /** The file text: one line per user (and kept comments), each ending in a newline. */
  serialize(): string {
    return this.lines.map((line) => `${line.raw}\n`).join('')
  }

  private find(user: string): Extract<Line, {user: string}> | undefined {
    for (const line of this.lines) if (line.kind !== 'other' && line.user === user) return line
    return undefined
  }
}
