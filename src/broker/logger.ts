/** The engine logs only through this (pino-compatible) interface; the default is silent. */
export interface Logger {
  trace(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

const noop = () => {}
export const silentLogger: Logger = {trace: noop, debug: noop, info: noop, warn: noop, error: noop}
