import {MqttError} from '../../codec/index.js'
import {ClientClosedError, ConnectError, ConnectionLostError, ConnectionRefusedError} from '../../client/index.js'
import {CliError, ExitCode} from './exit-codes.js'

/** Maps a client error to its one-line message and documented exit code (other errors pass through). */
export function toCliError(error: unknown): unknown {
  if (error instanceof ConnectionRefusedError) return new CliError(error.message, error.reasonCode)
  if (error instanceof ConnectError) return new CliError(error.message, ExitCode.ConnectFailed)
  if (error instanceof ConnectionLostError) return new CliError(error.message, ExitCode.ConnectionLost)
  if (error instanceof ClientClosedError) return new CliError('connection lost', ExitCode.ConnectionLost)
  if (error instanceof MqttError) return new CliError(error.message, ExitCode.PublishRefused)
  return error
}
