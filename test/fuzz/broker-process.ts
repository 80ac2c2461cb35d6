// The broker under test: the real `midge broker start` in a child process, so that a crash is an
// exit we see, with what it printed last; and its resident memory and open descriptors from /proc.
import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {PasswordFile, savePasswordFile} from '../../src/passwd/index.js'
import {orphanSafe} from '../helpers/cli.js'
import type {Credentials} from './generate.js'

/** The midge binary under test: this tree's, or another build's (MIDGE_FUZZ_BIN=/path/to/bin/run.js). */
const BIN = process.env.MIDGE_FUZZ_BIN ?? fileURLToPath(new URL('../../bin/run.js', import.meta.url))

/** Children that must not outlive the fuzzer (a broker, a mosquitto_sub), killed when it exits. */
const children = new Set<ChildProcess>()
process.once('exit', () => { for (const c of children) c.kill('SIGKILL') })

export function killOnExit(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

export interface BrokerSetup {
  persistence: boolean
  auth: boolean
}

/** Files that outlive broker restarts within a run (persistence folder, password file, ACL). */
export class BrokerFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'midge-fuzz-'))
  readonly credentials: Credentials | undefined

  private constructor(readonly setup: BrokerSetup, credentials: Credentials | undefined) {
    this.credentials = credentials
  }

  static async create(setup: BrokerSetup): Promise<BrokerFiles> {
    const files = new BrokerFiles(setup, setup.auth ? {username: 'fuzz', password: 'fuzz-secret'} : undefined)
    if (setup.auth) {
      const passwords = PasswordFile.empty()
      // a cheap hash: the fuzzer tests the protocol, not argon2's cost
      await passwords.setPassword('fuzz', 'fuzz-secret', {memory: 64, iterations: 1})
      await savePasswordFile(join(files.dir, 'passwd'), passwords)
      // publishing outside x/, fz/ and side/ is refused, which exercises the ACL paths
      writeFileSync(join(files.dir, 'acl'), 'user fuzz\ntopic read #\ntopic readwrite x/#\ntopic readwrite fz/#\ntopic readwrite side/#\ntopic write ünï/#\n')
    }
    return files
  }

  args(): string[] {
    const args: string[] = []
    if (this.setup.persistence) args.push('--persistence', join(this.dir, 'store'))
    if (this.setup.auth) args.push('--password-file', join(this.dir, 'passwd'), '--acl-file', join(this.dir, 'acl'))
    return args
  }

  remove(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }
}

export class BrokerProcess {
  private tail = ''
  /** Lines the broker logged at level error or above (pino JSON, level >= 50). */
  readonly errors: string[] = []
  exited: {code: number | null; signal: NodeJS.Signals | null} | undefined

  private constructor(readonly child: ChildProcess, readonly port: number) {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.onStderr(d))
    child.on('exit', (code, signal) => { this.exited = {code, signal} })
  }

  static async start(files: BrokerFiles): Promise<BrokerProcess> {
    const child = killOnExit(spawn(...orphanSafe(process.execPath, [BIN, 'broker', 'start', '--port', '0', '--json', '--log-level', 'error', ...files.args()]),
      // MIDGE_FUZZ_NODE_OPTIONS: node options for the broker only (e.g. --max-old-space-size=96 to tell a leak from a lazy GC)
      {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1', ...(process.env.MIDGE_FUZZ_NODE_OPTIONS ? {NODE_OPTIONS: process.env.MIDGE_FUZZ_NODE_OPTIONS} : {})}}))
    let out = ''
    let err = ''
    const onErr = (d: Buffer) => { err += d.toString() }
    child.stderr!.on('data', onErr)
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n').find((l) => l.startsWith('{'))
        if (line) resolve(JSON.parse(line).port)
      })
      child.once('exit', (code) => reject(new Error(`broker exited (${code}) before listening: ${err.slice(-2000)}`)))
    })
    child.stderr!.off('data', onErr)
    child.stdout!.resume()
    return new BrokerProcess(child, port)
  }

  private onStderr(d: string): void {
    this.tail = (this.tail + d).slice(-20_000)
    for (const line of d.split('\n')) {
      if (line.startsWith('{')) {
        try {
          if (JSON.parse(line).level >= 50) this.errors.push(line)
        } catch { /* a line split across chunks: the tail keeps it */ }
      } else if (/Error|error/.test(line)) {
        this.errors.push(line)
      }
    }
  }

  get alive(): boolean {
    return this.exited === undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** The last 20 kB the broker wrote to stderr. */
  get stderrTail(): string { return this.tail }

  /** Resident memory in bytes (VmRSS). */
  rss(): number {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))
      return m ? Number(m[1]) * 1024 : 0
    } catch {
      return 0 // the process is gone
    }
  }

  /** Open file descriptors. */
  fds(): number {
    try {
      return readdirSync(`/proc/${this.child.pid}/fd`).length
    } catch {
      return 0 // the process is gone
    }
  }

  async stop(): Promise<void> {
    if (!this.alive) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000)
    await once(this.child, 'exit').catch(() => undefined)
    clearTimeout(timer)
  }
}
