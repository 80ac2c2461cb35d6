import {spawn, spawnSync, type ChildProcess, type SpawnOptions} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface RunResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs the built `midge` binary (npm test builds it first) and collects its output. */
export function runMidge(args: string[], options: SpawnOptions & {input?: string | Buffer; timeoutMs?: number} = {}): Promise<RunResult> {
  const child = spawnMidge(args, options)
  if (options.input !== undefined) child.stdin!.end(options.input)
  else child.stdin?.end()
  return collect(child, options.timeoutMs ?? 30_000)
}

/** Starts the built `midge` binary with piped stdio; it never outlives the test process (see orphanSafe). */
export function spawnMidge(args: string[], options: SpawnOptions = {}): ChildProcess {
  const [command, commandArgs] = orphanSafe(process.execPath, [BIN, ...args])
  return spawn(command, commandArgs, {stdio: 'pipe', ...options, env: {...process.env, NO_COLOR: '1', ...options.env}})
}

const HAS_SETPRIV = spawnSync('setpriv', ['--help'], {stdio: 'ignore'}).error === undefined

/**
 * A command line whose process gets SIGKILL when the test process dies, however it dies (a runner's
 * timeout, a crash), so no broker started by a test outlives it: util-linux's setpriv sets the
 * parent-death signal and then execs the command (same pid, same signals). Without setpriv, as is.
 */
export function orphanSafe(command: string, args: string[]): [string, string[]] {
  return HAS_SETPRIV ? ['setpriv', ['--pdeathsig', 'KILL', command, ...args]] : [command, args]
}

/** Waits for a child to exit (killing it after timeoutMs) and returns what it printed. */
export function collect(child: ChildProcess, timeoutMs = 30_000): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr})
    })
  })
}
