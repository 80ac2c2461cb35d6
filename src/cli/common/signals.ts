/**
 * An AbortSignal raised by the first SIGINT or SIGTERM (and SIGHUP handlers can be added by the
 * caller). Long-running commands await it and return from run() only after shutdown, never calling
 * exit() from inside a signal handler (oclif/core#464, sf-plugins-core#736).
 */
export function shutdownSignal(): {signal: AbortSignal; dispose: () => void} {
  const controller = new AbortController()
  const onSignal = (name: NodeJS.Signals) => controller.abort(name)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), {once: true}))
}
