// Default options for `pub`, `sub` and `rr` from $XDG_CONFIG_HOME/midge/{pub,sub,rr} (or
// ~/.config/midge/...), in the format of mosquitto's ~/.config/mosquitto_pub: one option per line,
// its value the rest of the line (spaces included), `#` at the start of a line for a comment. The
// command line wins over the file, and so do the MIDGE_* variables (flags > environment > file);
// repeatable options (sub's -t, -T, -U) from the file come first and are added to, as mosquitto's.
// midge's own: -D's three words are split at spaces, and a bad line is an error with its number.
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {CliError, ExitCode} from './exit-codes.js'

/** What this needs of an oclif flag definition. */
export interface FlagShape { char?: string; type: string; multiple?: boolean; env?: string; allowNo?: boolean }

export function optionsFilePath(command: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  return join(base, 'midge', command)
}

/** The options file's arguments for `command`, to go before `argv` (the command line). */
export function optionsFileArgs(command: string, flags: Record<string, FlagShape>, argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const path = optionsFilePath(command, env)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return []
    throw new CliError(`cannot read the options file '${path}': ${code ?? (error as Error).message}`, ExitCode.InputFile)
  }
  const byChar = new Map(Object.entries(flags).filter(([, f]) => f.char).map(([name, f]) => [f.char!, name]))
  const onCommandLine = givenFlags(argv, byChar)
  const out: string[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/[\r\n]+$/, '')
    if (line.trim() === '' || line.startsWith('#')) return
    const bad = (why: string) => new CliError(`${path} line ${index + 1}: ${why}`, ExitCode.Usage)
    const space = line.indexOf(' ')
    const option = space === -1 ? line : line.slice(0, space)
    const value = space === -1 ? undefined : line.slice(space + 1)
    const name = option.startsWith('--') ? option.slice(2) : /^-[^-]$/.test(option) ? byChar.get(option[1]) : undefined
    const flag = name === undefined ? undefined : flags[name]
    if (!name || !flag) throw bad(`'${option}' is not an option of ${command}`)
    if (!flag.multiple && onCommandLine.has(name)) return // the command line wins
    if (flag.env && env[flag.env] !== undefined) return // and so does the environment
    if (flag.type === 'boolean') {
      if (value !== undefined && value.trim() !== '') throw bad(`${option} takes no value`)
      out.push(`--${name}`)
    } else if (value === undefined || value === '') {
      throw bad(`${option} needs a value`)
    } else if (name === 'property') {
      out.push(`--${name}`, ...value.trim().split(/\s+/))
    } else {
      out.push(`--${name}=${value}`)
    }
  })
  return out
}

/** The flags named on the command line (long, --no-, --x=v and bundled short forms), up to `--`. */
function givenFlags(argv: string[], byChar: Map<string, string>): Set<string> {
  const names = new Set<string>()
  for (const arg of argv) {
    if (arg === '--') break
    if (arg.startsWith('--')) {
      const name = arg.slice(2).split('=')[0]
      names.add(name)
      if (name.startsWith('no-')) names.add(name.slice(3))
    } else if (/^-[^-\d]/.test(arg)) {
      const name = byChar.get(arg[1])
      if (name) names.add(name)
    }
  }
  return names
}
