import {Command, Errors} from '@oclif/core'
import {CliError, ExitCode} from './exit-codes.js'

/**
 * The base of every midge command: turns any error into one line on stderr and a documented exit
 * code (see exit-codes.ts). Never a stack trace for a user's mistake.
 */
export abstract class MidgeCommand extends Command {
  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    if (error instanceof Errors.ExitError) throw error
    if (error instanceof CliError) return this.fail(error.message, error.exitCode)
    const oclifExit = error.oclif?.exit
    if (oclifExit !== undefined) {
      // flag/argument parse errors from oclif: keep its exit code (2) and message
      return this.fail(oneLine(error.message), oclifExit)
    }
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return this.fail(error.message, ExitCode.InputFile)
    if (process.env.MIDGE_DEBUG) process.stderr.write(`${error.stack}\n`)
    return this.fail(error.message, ExitCode.Failure)
  }

  private fail(message: string, exitCode: number): never {
    process.stderr.write(`${this.id ? `midge ${this.id.replaceAll(':', ' ')}` : 'midge'}: ${message}\n`)
    return this.exit(exitCode)
  }
}

/** oclif's multi-line parse errors ("The following error occurred:\n  ...\nSee more help with --help") as one line. */
function oneLine(message: string): string {
  return oclifProblem(message).join(' ')
}

/**
 * The lines of an oclif parse error that say what is wrong: without the "See more help" line and
 * without the heading of a `dependsOn`/`exclusive` error ("The following error(s) occurred:"), of
 * whose problems only the first is kept (oclif reports an exclusive pair once from each side).
 */
export function oclifProblem(message: string): string[] {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^See more help/.test(l))
  return /^The following errors? occurred:$/.test(lines[0] ?? '') ? lines.slice(1, 2) : lines
}
