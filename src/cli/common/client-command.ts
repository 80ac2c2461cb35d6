import {MidgeCommand, oclifProblem} from './base-command.js'
import {CliError, ExitCode} from './exit-codes.js'
import {optionsFileArgs, type FlagShape} from './options-file.js'

/**
 * The base of `pub` and `sub`: oclif's multi-line parse errors become one line, and --quiet keeps
 * every error message off stderr (the exit code still tells).
 */
export abstract class ClientCommand extends MidgeCommand {
  private fileArgs: string[] = []

  /** The command line after the options file's arguments (~/.config/midge/COMMAND; see options-file.ts). */
  protected withOptionsFile(command: string, flags: Record<string, unknown>): string[] {
    this.fileArgs = optionsFileArgs(command, flags as Record<string, FlagShape>, this.argv)
    return [...this.fileArgs, ...this.argv]
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    if (!(error instanceof CliError) && error.message.startsWith('Parsing --')) error = new CliError(oneLine(error.message), ExitCode.Usage)
    if (error.oclif?.exit !== undefined && !(error instanceof CliError)) error.message = oneLine(error.message)
    const quiet = this.argv.includes('--quiet') || this.fileArgs.includes('--quiet')
    if (quiet && (error instanceof CliError || error.oclif?.exit !== undefined)) {
      return this.exit(error instanceof CliError ? error.exitCode : error.oclif!.exit!)
    }
    return super.catch(error)
  }
}

/** "Parsing --qos \n\tExpected an integer...\nSee more help with --help" -> "--qos: expected an integer..." */
export function oneLine(message: string): string {
  return oclifProblem(message).join(': ').replace(/^Parsing (--[\w-]+)\s*/, '$1').replace(/\s+/g, ' ')
}
