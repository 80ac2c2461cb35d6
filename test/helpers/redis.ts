// Starts Debian's real `redis-server` on a free loopback port in a temporary folder, and stops it.
// Each test that needs Redis starts its own (no shared state between tests, nothing left running).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {once} from 'node:events'
import {orphanSafe} from './cli.js'
import {freePort} from './mosquitto.js'

export interface RedisServer {
  host: string
  port: number
  /** redis://127.0.0.1:PORT */
  url: string
  dir: string
  log(): string
  /** Kills the server (SIGKILL: as a crash would) without removing its folder, so `restart()` can bring it back on the same port. */
  kill(): Promise<void>
  /** Starts it again on the same port and folder (after `kill()`). */
  restart(): Promise<void>
  stop(): Promise<void>
}

export interface RedisOptions {
  /** appendonly yes with this appendfsync policy (default: no AOF, no RDB snapshots). */
  appendfsync?: 'always' | 'everysec' | 'no'
  /** Extra `--name value` arguments. */
  args?: string[]
}

/** True when Debian's redis-server is installed. */
export function hasRedis(): boolean {
  return spawnSync('redis-server', ['--version'], {stdio: 'ignore'}).error === undefined
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'midge-test-redis-'))
  const port = await freePort()
  let output = ''
  let child: ChildProcess | undefined
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--protected-mode', 'no',
    ...(options.appendfsync ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync] : ['--appendonly', 'no']),
    ...(options.args ?? [])]
  const launch = async (): Promise<void> => {
    const [command, commandArgs] = orphanSafe('redis-server', args)
    const c = spawn(command, commandArgs, {stdio: ['ignore', 'pipe', 'pipe']})
    child = c
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        output += d.toString()
        if (output.includes('Ready to accept connections')) resolve()
      }
      c.stdout?.on('data', onData)
      c.stderr?.on('data', onData)
      c.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)))
    })
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000)
    try { await ready } finally { clearTimeout(timer) }
  }
  const kill = async (): Promise<void> => {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    const exited = once(c, 'exit')
    c.kill('SIGKILL')
    await exited
  }
  await launch()
  return {
    host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`, dir,
    log: () => output,
    kill,
    restart: launch,
    async stop() {
      await kill()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
