// `bench --embedded`: a midge broker in a child process on a free loopback port, for one run.
import {spawn} from 'node:child_process'
import {once} from 'node:events'

export interface EmbeddedBroker {
  host: string
  port: number
  url: string
  pid: number
  /** SIGTERM, then SIGKILL after two seconds. */
  stop(): Promise<void>
}

/**
 * Starts `argv` (e.g. [node, bin/run.js, 'broker', 'start']) with `--host 127.0.0.1 --port 0 --json`
 * and waits for the JSON line with the port it listens on.
 */
export async function startEmbeddedBroker(argv: string[], options: {timeoutMs?: number; args?: string[]} = {}): Promise<EmbeddedBroker> {
  const [command, ...rest] = argv
  const child = spawn(command, [...rest, '--host', '127.0.0.1', '--port', '0', '--json', '--log-level', 'warn', ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, NO_COLOR: '1'},
  })
  let stdout = ''
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000) })
  const exited = once(child, 'exit')
  const listening = await new Promise<{host: string; port: number}>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the embedded broker did not start within ${(options.timeoutMs ?? 15_000) / 1000}s: ${stderr.trim()}`)) }, options.timeoutMs ?? 15_000)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      const line = stdout.split('\n').find((l) => l.startsWith('{'))
      if (!line) return
      clearTimeout(timer)
      try {
        const doc = JSON.parse(line) as {host: string; port: number}
        resolve({host: doc.host, port: doc.port})
      } catch (error) {
        reject(error as Error)
      }
    })
    child.once('error', (e) => { clearTimeout(timer); reject(e) })
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`the embedded broker exited (${signal ?? code}) before listening: ${stderr.trim()}`)) })
  })
  // keep reading so that a chatty broker never blocks on a full pipe
  child.stdout!.resume()
  return {
    ...listening,
    url: `mqtt://${listening.host}:${listening.port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
      await exited
      clearTimeout(timer)
    },
  }
}
