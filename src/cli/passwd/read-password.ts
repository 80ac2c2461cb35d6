import {readFile} from 'node:fs/promises'
import {PasswordInputError} from '../../passwd/errors.js'
import {CliError, ExitCode} from '../common/exit-codes.js'

export interface PasswordSources {
  /** A password given on the command line (`passwd -b`): the most explicit source, so it wins. */
  readonly argv?: string
  /** `--password-file`: the file's first line. */
  readonly file?: string
  /** `MIDGE_PASSWORD`. */
  readonly env?: string
  /** On a TTY, ask a second time and require the same answer (when setting a password). */
  readonly confirm?: boolean
}

/**
 * Where a secret comes from, first match wins: argv, --password-file, MIDGE_PASSWORD, then a prompt on
 * stderr when stdin is a TTY, else one line of stdin. Secrets never need to be on argv.
 */
export async function readPassword(sources: PasswordSources, input?: NodeJS.ReadStream): Promise<string> {
  if (sources.argv !== undefined) return sources.argv
  if (sources.file !== undefined) return firstLine(await readFile(sources.file, 'utf8'))
  if (sources.env !== undefined) return sources.env
  // process.stdin only now: opening it loads node:net or node:tty, which `passwd -b` does not need
  const stdin = input ?? process.stdin
  if (stdin.isTTY) return ask(Boolean(sources.confirm), stdin)
  return readLine(stdin)
}

async function ask(confirm: boolean, input: NodeJS.ReadStream): Promise<string> {
  const context = {input, output: process.stderr}
  const validate = (value: string) => value.length > 0 || 'The password must not be empty.'
  try {
    const {password: promptPassword} = await import('@inquirer/prompts') // only on a terminal: loaded then
    const first = await promptPassword({message: 'Password:', mask: '*', validate}, context)
    if (!confirm) return first
    const second = await promptPassword({message: 'Reenter password:', mask: '*'}, context)
    if (first !== second) throw new PasswordInputError('passwords do not match')
    return first
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError') throw new CliError('cancelled', ExitCode.Failure)
    throw error
  }
}

/** The first line of stdin, without its line ending; empty when stdin is empty. */
async function readLine(input: NodeJS.ReadableStream): Promise<string> {
  const {createInterface} = await import('node:readline') // only for a password on stdin
  const lines = createInterface({input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false})
  try {
    for await (const line of lines) return line
    return ''
  } finally {
    lines.close()
  }
}

function firstLine(text: string): string {
  const end = text.indexOf('\n')
  const line = end < 0 ? text : text.slice(0, end)
  return line.endsWith('\r') ? line.slice(0, -1) : line
}
