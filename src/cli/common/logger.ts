import {pino, destination, multistream, type Logger} from 'pino'
import type {LogDest} from '../broker/mosquitto-conf.js'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * Diagnostics go to stderr: pretty on a TTY, JSON lines otherwise (stdout belongs to data). A
 * mosquitto.conf's log_dest lines can send them elsewhere: JSON lines to stdout, stderr and files
 * (appended), or nowhere.
 */
export async function createLogger(level: LogLevel, dests?: readonly LogDest[]): Promise<Logger> {
  if (dests !== undefined && dests.length > 0 && !(dests.length === 1 && dests[0].kind === 'stderr')) {
    const streams = dests.filter((d) => d.kind !== 'none').map((d) => ({
      level,
      stream: d.kind === 'file' ? destination({dest: d.path, append: true, sync: true}) : destination({fd: d.kind === 'stdout' ? 1 : 2, sync: true}),
    }))
    if (streams.length === 0) return pino({level: 'silent'})
    return pino({level, base: undefined}, multistream(streams))
  }
  if (process.stderr.isTTY && !process.env.NO_COLOR) {
    const {default: pretty} = await import('pino-pretty')
    return pino({level}, pretty({destination: 2, sync: true, ignore: 'pid,hostname'}))
  }
  return pino({level, base: undefined}, destination({fd: 2, sync: true}))
}
