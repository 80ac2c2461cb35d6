// `midge ctrl dynsec ...` once the command line is split: init works on a file; every other command is
// one request to $CONTROL/dynamic-security/v1, answered as mosquitto_ctrl prints it (or --json).
import {connect} from '../../client/index.js'
import {toCliError} from '../common/client-errors.js'
import {connectionOptions, type ConnectionFlagValues} from '../common/connection.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {parseProperties} from '../common/properties.js'
import {tracePacket} from '../common/trace.js'
import {buildCommand, USAGE} from './dynsec-args.js'
import {formatAnswer} from './dynsec-print.js'
import {controlRequest} from './request.js'

export interface CtrlFlags extends ConnectionFlagValues {
  json: boolean
  timeout: number
  'client-password-file'?: string
  property?: string[]
  debug?: boolean
}

/** What to print: stdout text, and the exit code's error (thrown). */
export async function runDynsec(flags: CtrlFlags, args: string[], out: (text: string) => void): Promise<void> {
  const [sub, ...rest] = args
  if (sub === undefined || sub.toLowerCase() === 'help') return out(helpText())
  if (sub.toLowerCase() === 'init') return out(await init(flags, rest) + '\n')
  const command = await buildCommand(sub, rest, (username, optional) => newPassword(flags, username, optional))
  const {options} = await connectionOptions(flags, parseProperties(flags.property))
  if (flags.debug) options.trace = tracePacket
  const client = await connect(options).catch((error: unknown) => { throw toCliError(error) })
  let response: Record<string, unknown>
  try {
    response = await controlRequest(client, {
      requestTopic: '$CONTROL/dynamic-security/v1', responseTopic: '$CONTROL/dynamic-security/v1/response', command, timeoutMs: flags.timeout * 1000,
    })
  } catch (error) {
    client.destroy()
    throw toCliError(error)
  }
  if (client.connected) await client.disconnect()
  const {correlationData: _c, ...answer} = response
  if (flags.json) out(JSON.stringify(answer) + '\n')
  if (typeof answer.error === 'string') throw new CliError(`${answer.command}: ${answer.error}`, ExitCode.CommandRefused)
  if (!flags.json) out(formatAnswer(answer))
}

async function init(flags: CtrlFlags, args: string[]): Promise<string> {
  if (args.length < 2 || args.length > 3) throw new CliError('usage: dynsec init <new-config-file> <admin-username> [admin-password]', ExitCode.Usage)
  const [file, admin, argvPassword] = args
  // loaded only here: the prompt library and the broker's dynsec module cost every other command start-up time
  const {readPassword} = await import('../passwd/read-password.js')
  const {initFile} = await import('./dynsec-init.js')
  const password = await readPassword({argv: argvPassword, file: flags['password-file'], env: process.env.MIDGE_PASSWORD, confirm: true})
    .catch(passwordError)
  return initFile(file, admin, password)
}

/**
 * A new client's password when the command line has none: --client-password-file, MIDGE_CLIENT_PASSWORD,
 * a prompt on a TTY (asked twice), else one line of stdin; createClient without any of them: no password.
 */
async function newPassword(flags: CtrlFlags, username: string, optional: boolean): Promise<string | undefined> {
  const file = flags['client-password-file']
  const env = process.env.MIDGE_CLIENT_PASSWORD
  if (optional && file === undefined && env === undefined && !process.stdin.isTTY) return undefined
  if (process.stdin.isTTY && file === undefined && env === undefined) process.stderr.write(`New password for ${username}${optional ? ' (empty: none, the client cannot log in)' : ''}:\n`)
  const {readPassword} = await import('../passwd/read-password.js')
  const password = await readPassword({file, env, confirm: true}).catch(passwordError)
  return optional && password === '' ? undefined : password
}

function passwordError(error: NodeJS.ErrnoException): never {
  if (error instanceof CliError) throw error
  if (error.code === 'ENOENT' || error.code === 'EACCES') throw new CliError(`cannot read the password file: ${error.code}`, ExitCode.InputFile)
  throw new CliError(error.message, ExitCode.Usage)
}

function helpText(): string {
  const width = Math.max(...Object.keys(USAGE).map((k) => k.length))
  return [
    'Dynamic Security (mosquitto_ctrl dynsec\'s commands, against midge or Mosquitto):',
    '  midge ctrl dynsec init <new-config-file> <admin-username> [admin-password]',
    ...Object.entries(USAGE).map(([name, usage]) => `  midge ctrl [CONNECTION FLAGS] dynsec ${name.padEnd(width)} ${usage}`.trimEnd()),
    'acltype: publishClientSend|publishClientReceive|subscribeLiteral|subscribePattern|unsubscribeLiteral|unsubscribePattern',
    'See https://mosquitto.org/documentation/dynamic-security/',
  ].join('\n') + '\n'
}
