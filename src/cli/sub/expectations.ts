// `sub` assertions for tests and CI: each failure is one line saying what was expected and what came.
import type {Message} from '../../client/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

export interface ExpectationFlags {
  'expect-count'?: number
  'expect-payload'?: string[]
  'expect-match'?: string
  'expect-retained'?: boolean
  'expect-none': boolean
}

const show = (b: Buffer | string, max = 60) => {
  const s = JSON.stringify(b.toString())
  return s.length > max ? `${s.slice(0, max - 4)}..."` : s
}

export class Expectations {
  /** How many messages must arrive (undefined: no expectation about arrivals). */
  readonly count: number | undefined
  readonly none: boolean
  private readonly payloads: string[]
  private readonly match: RegExp | undefined
  private readonly retained: boolean | undefined

  constructor(f: ExpectationFlags, countFlag: number | undefined, private readonly timeoutSeconds: number | undefined) {
    this.none = f['expect-none']
    this.payloads = f['expect-payload'] ?? []
    this.retained = f['expect-retained']
    try {
      this.match = f['expect-match'] === undefined ? undefined : new RegExp(f['expect-match'], 'u')
    } catch (error) {
      throw new CliError(`--expect-match: ${(error as Error).message}`, ExitCode.Usage)
    }
    const any = this.payloads.length > 0 || this.match !== undefined || this.retained !== undefined || f['expect-count'] !== undefined
    if (this.none && any) throw new CliError('--expect-none cannot be combined with other expectations', ExitCode.Usage)
    if (this.none && timeoutSeconds === undefined) throw new CliError('--expect-none needs -W (how long nothing must arrive)', ExitCode.Usage)
    this.count = f['expect-count'] ?? (any ? (countFlag ?? (this.payloads.length || 1)) : undefined)
  }

  get active(): boolean { return this.none || this.count !== undefined }

  /** Checks message number n (1-based); returns the failure, if any. */
  check(m: Message, n: number): string | undefined {
    const where = `message ${n} on '${m.topic}'`
    if (this.none) return `expected no message within ${this.timeoutSeconds}s, got ${where}: ${show(m.payload)}`
    const want = this.payloads[n - 1]
    if (want !== undefined && !m.payload.equals(Buffer.from(want))) return `${where}: expected payload ${show(want)}, got ${show(m.payload)}`
    if (this.match && !this.match.test(m.payload.toString())) return `${where}: payload ${show(m.payload)} does not match /${this.match.source}/`
    if (this.retained !== undefined && m.retain !== this.retained) {
      return `${where}: expected a ${this.retained ? 'retained' : 'live (not retained)'} message, got a ${m.retain ? 'retained' : 'live'} one`
    }
    return undefined
  }

  /** The verdict when the run ends before the count was reached (timeout or signal). */
  unmet(received: number, why: string): string | undefined {
    if (this.none || this.count === undefined || received >= this.count) return undefined
    return `expected ${this.count} message${this.count === 1 ? '' : 's'}${why}, got ${received}`
  }
}
