import {pino, destination, type Logger} from 'pino'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Diagnostics go to stderr: pretty on a TTY, JSON lines otherwise (stdout belongs to data). */
export async function createLogger(level: LogLevel): Promise<Logger> {
  if (process.stderr.isTTY && !process.env.NO_COLOR) {
    const {default: pretty} = await import('pino-pretty')
    return pino({level}, pretty({destination: 2, sync: true, ignore: 'pid,hostname'}))
  }
  return pino({level, base: undefined}, destination({fd: 2, sync: true}))
}
