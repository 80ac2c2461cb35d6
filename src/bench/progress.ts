// The status shown while a bench runs (stderr): one plain line per second when stderr is not a
// terminal (logs, CI), a live line with a progress bar rewritten in place on a terminal.
import type {Writable} from 'node:stream'
import {Chalk, type ChalkInstance} from 'chalk'
import type {BenchStatus} from './status.js'
import {formatShort} from './units.js'

export interface ProgressOptions {
  tty: boolean
  color: boolean
  /** Terminal width (live line). */
  columns?: number
}

/** One status line: `[  4s] measuring  sent 98.2k/s  recv 98.2k/s  conns 11/11  lost 0  errors 0`. */
export function statusLine(s: BenchStatus, c: ChalkInstance = new Chalk({level: 0})): string {
  const parts: string[] = []
  if (s.phase === 'connecting') {
    parts.push(`conns ${s.connected}/${s.clients}`, `${formatShort(s.connectRate)}/s`)
    if (s.failed) parts.push(c.red(`failed ${s.failed}`))
  } else {
    if (s.sent || s.sentRate) parts.push(`sent ${formatShort(s.sentRate)}/s`)
    if (s.received || s.receivedRate) parts.push(`recv ${formatShort(s.receivedRate)}/s`)
    if (s.acked || s.ackedRate) parts.push(`acked ${formatShort(s.ackedRate)}/s`)
    parts.push(`total ${formatShort(Math.max(s.sent, s.received))}`, `conns ${s.connected}/${s.clients}`)
    if (s.lost) parts.push(c.red(`lost ${s.lost}`))
  }
  if (s.errors) parts.push(c.red(`errors ${s.errors}`))
  return `${c.dim(`[${s.elapsed.toFixed(0).padStart(3)}s]`)} ${phaseName(s, c)}  ${parts.join('  ')}`
}

function phaseName(s: BenchStatus, c: ChalkInstance): string {
  const name = s.phase.padEnd(10)
  return s.phase === 'measuring' ? c.green(name) : s.phase === 'warmup' || s.phase === 'connecting' ? c.yellow(name) : c.cyan(name)
}

/** `[█████░░░░░]  45%  4.5/10s` */
export function progressBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction))
  const full = Math.round(f * width)
  return `${'█'.repeat(full)}${'░'.repeat(width - full)} ${String(Math.round(f * 100)).padStart(3)}%`
}

export class ProgressDisplay {
  private readonly chalk: ChalkInstance
  private live = false

  constructor(private readonly out: Writable, private readonly options: ProgressOptions) {
    this.chalk = new Chalk({level: options.color ? 1 : 0})
  }

  update(s: BenchStatus): void {
    if (!this.options.tty) {
      this.out.write(`${statusLine(s)}\n`)
      return
    }
    const columns = this.options.columns ?? 100
    let line = statusLine(s, this.chalk)
    if (s.progress !== undefined) {
      const time = s.phase === 'connecting' ? '' : s.runLength > 0 ? ` ${s.runElapsed.toFixed(0)}/${s.runLength}s` : ''
      line = `${progressBar(s.progress, 20)}${time}  ${line}`
    }
    this.out.write(`\r\x1b[2K${truncate(line, columns - 1)}`)
    this.live = true
  }

  /** Clears the live line (before the summary or an error message). */
  done(): void {
    if (this.live) this.out.write('\r\x1b[2K')
    this.live = false
  }
}

/** Cuts a line with ANSI colours to a visible width. */
function truncate(line: string, width: number): string {
  let visible = 0
  let out = ''
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i)
      out += line.slice(i, end + 1)
      i = end
      continue
    }
    if (visible >= width) continue
    out += line[i]
    visible++
  }
  return out
}
