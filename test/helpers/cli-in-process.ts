// Runs a `midge` command inside the test process: the bundle of every command (dist/bundle/midge.cjs; bin/run.js
// loads client.cjs, the same sources, for the client tools)
// and the same oclif entry point, with argv, stdin, stdout, stderr, the environment, the working folder
// and process.exit stood in for while it runs. A command costs milliseconds instead of a cold start
// (about half a second, more on a busy machine), so a file can check every flag and error without
// spending its time starting Node. Use it where the process boundary is not what is tested; keep a
// few runMidge (real process) tests per command: the binary is what users run.
//
// Runs are serialised (they swap process-wide state), so tests in one file must not call it
// concurrently for commands that wait on each other (e.g. a `sub` waiting for a `pub`): use
// runMidge for one side then.
import {createRequire} from 'node:module'
import {PassThrough, Writable} from 'node:stream'
import {pathToFileURL} from 'node:url'
import {BIN, ROOT, type RunResult} from './cli.js'

interface Bundle { run(dir: string): Promise<void> }
let bundle: Bundle | undefined
const load = (): Bundle => (bundle ??= createRequire(import.meta.url)(`${ROOT}dist/bundle/midge.cjs`) as Bundle)

/** A stand-in for process.stdout/stderr: collects what is written, never a TTY. */
class Capture extends Writable {
  text = ''
  readonly isTTY = false
  constructor(private readonly onText?: (text: string) => void) {
    super({decodeStrings: false})
  }
  override _write(chunk: string | Buffer, _encoding: BufferEncoding, done: () => void): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8')
    this.text += text
    this.onText?.(text)
    done()
  }
}

let queue: Promise<unknown> = Promise.resolve()

export interface InProcessOptions {
  input?: string | Buffer
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Called with each piece of stderr as it is written (to wait for a line while the command runs). */
  onStderr?: (text: string) => void
}

/** Runs `midge ...args` in this process and returns what runMidge would: exit code, stdout, stderr. */
export function runMidgeInProcess(args: string[], options: InProcessOptions = {}): Promise<RunResult> {
  const next = queue.then(() => runNow(args, options))
  queue = next.catch(() => undefined)
  return next
}

async function runNow(args: string[], options: InProcessOptions): Promise<RunResult> {
  const {run} = load()
  const stdout = new Capture()
  const stderr = new Capture(options.onStderr)
  const stdin = new PassThrough()
  stdin.end(options.input ?? '')
  const saved = {
    argv: process.argv, exit: process.exit, exitCode: process.exitCode, cwd: process.cwd(),
    log: console.log, error: console.error, warn: console.warn,
    stdout: Object.getOwnPropertyDescriptor(process, 'stdout')!,
    stderr: Object.getOwnPropertyDescriptor(process, 'stderr')!,
    stdin: Object.getOwnPropertyDescriptor(process, 'stdin')!,
  }
  const env: NodeJS.ProcessEnv = {NO_COLOR: '1', ...options.env}
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  let code: number | undefined
  try {
    process.argv = [process.execPath, BIN, ...args]
    // oclif ends with process.exit(code) after an error: note the first code, exit nothing
    process.exit = ((c?: number | string | null) => { code ??= Number(c ?? 0) }) as typeof process.exit
    Object.defineProperty(process, 'stdout', {configurable: true, enumerable: true, get: () => stdout})
    Object.defineProperty(process, 'stderr', {configurable: true, enumerable: true, get: () => stderr})
    Object.defineProperty(process, 'stdin', {configurable: true, enumerable: true, get: () => stdin})
    console.log = (...a: unknown[]) => { stdout.write(`${a.join(' ')}\n`) }
    console.error = console.warn = (...a: unknown[]) => { stderr.write(`${a.join(' ')}\n`) }
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    if (options.cwd !== undefined) process.chdir(options.cwd)
    await run(pathToFileURL(BIN).href)
    code ??= typeof process.exitCode === 'number' ? process.exitCode : 0
  } finally {
    process.argv = saved.argv
    process.exit = saved.exit
    process.exitCode = saved.exitCode
    process.chdir(saved.cwd)
    Object.defineProperty(process, 'stdout', saved.stdout)
    Object.defineProperty(process, 'stderr', saved.stderr)
    Object.defineProperty(process, 'stdin', saved.stdin)
    console.log = saved.log
    console.error = saved.error
    console.warn = saved.warn
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  return {code, signal: null, stdout: stdout.text, stderr: stderr.text}
}
