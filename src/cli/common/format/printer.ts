// How `sub` prints each message: the payload (default), `topic payload` (-v), a -F template, or
// NDJSON (--json); -N drops the end of line. Mosquitto's rules for empty payloads are kept.
import {toJsonLine} from './ndjson.js'
import {now, type FormatMessage} from './message.js'
import {Template} from './template.js'

export interface PrinterOptions {
  format?: string
  verbose?: boolean
  /** Print an end of line after each message (false with -N). */
  eol?: boolean
  json?: boolean
  pretty?: boolean
  /** --random-filter: the percentage of messages to print. */
  randomFilter?: number
  out?: {write(chunk: Buffer | string): unknown}
  /** Where -F's per-message errors go (the invalid JSON of %J); undefined to drop them (--quiet). */
  err?: {write(chunk: string): unknown}
}

const NL = Buffer.from('\n')
const SPACE = Buffer.from(' ')

export class Printer {
  private readonly template: Template | undefined
  private readonly out: NonNullable<PrinterOptions['out']>
  private readonly eol: boolean
  private readonly threshold: number

  /** Throws a TypeError with mosquitto's message for an invalid -F format. */
  constructor(private readonly o: PrinterOptions = {}) {
    this.template = o.format === undefined ? undefined : new Template(o.format, o.pretty)
    this.out = o.out ?? process.stdout
    this.eol = o.eol ?? true
    this.threshold = o.randomFilter === undefined ? 10_000 : Math.floor(o.randomFilter * 100)
  }

  print(m: FormatMessage): void {
    if (this.threshold < 10_000 && Math.floor(Math.random() * 10_000) >= this.threshold) return
    if (this.o.json) {
      this.out.write(toJsonLine(m, new Date()))
    } else if (this.template) {
      const {bytes, errors} = this.template.render(m, now())
      for (const e of errors) this.o.err?.write(`${e}\n`)
      this.out.write(this.eol ? Buffer.concat([bytes, NL]) : bytes)
    } else if (this.o.verbose) {
      if (m.payload.length > 0) this.out.write(Buffer.concat(this.eol ? [Buffer.from(m.topic), SPACE, m.payload, NL] : [Buffer.from(m.topic), SPACE, m.payload]))
      else if (this.eol) this.out.write(`${m.topic} (null)\n`)
    } else if (m.payload.length > 0) {
      this.out.write(this.eol ? Buffer.concat([m.payload, NL]) : m.payload)
    }
  }
}
