// `bench --embedded`: a broker of this very binary for the run (plain runs, scenario files, ramps).
import {join} from 'node:path'
import {startEmbeddedBroker, type BenchConfig, type EmbeddedBroker} from '../../bench/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

/** Starts it (its /metrics too when `metrics`: the broker's own drop counts); exit 17 if it cannot start. */
export function startEmbedded(root: string, stop: {dispose(): void}, metrics: boolean): Promise<EmbeddedBroker> {
  return startEmbeddedBroker([process.execPath, join(root, 'bin', 'run.js'), 'broker', 'start'], {metrics})
    .catch((error: Error) => { stop.dispose(); throw new CliError(error.message, ExitCode.BrokerStartFailed) })
}

/** Points a run's clients at it. */
export function useEmbedded(config: BenchConfig, embedded: EmbeddedBroker): void {
  config.client = {...config.client, scheme: 'mqtt', host: embedded.host, port: embedded.port, socketPath: undefined, url: undefined}
  config.brokerUrl = embedded.url
  config.brokerPid ??= embedded.pid
  config.embedded = true
}
