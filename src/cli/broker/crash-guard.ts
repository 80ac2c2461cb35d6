import type {Logger} from 'pino'
import {StoreError} from '../../index.js'
import {ExitCode} from '../common/exit-codes.js'

/**
 * `broker start`'s process-wide last line of defence, behind the engine's own (Broker.internalError):
 * an exception or rejection that nothing caught is logged, with its stack, and the broker goes on
 * serving everyone else. The process stops only when going on is unsafe: the store failed, so
 * acknowledgements could promise what is not on disk; it then says so and exits 1.
 * Returns a function that removes the handlers.
 */
export function guardProcess(log: Logger): () => void {
  const handle = (error: unknown, origin: string) => {
    if (error instanceof StoreError) {
      const message = `the store failed (${error.message}); stopping so that nothing is acknowledged that is not stored`
      log.fatal({origin}, message)
      log.flush()
      process.exit(ExitCode.Failure)
    }
    const err = error instanceof Error ? (error.stack ?? error.message) : String(error)
    log.error({origin, err}, 'internal error outside any connection; the broker goes on')
  }
  const onException = (error: Error) => handle(error, 'uncaughtException')
  const onRejection = (reason: unknown) => handle(reason, 'unhandledRejection')
  process.on('uncaughtException', onException)
  process.on('unhandledRejection', onRejection)
  return () => {
    process.off('uncaughtException', onException)
    process.off('unhandledRejection', onRejection)
  }
}
