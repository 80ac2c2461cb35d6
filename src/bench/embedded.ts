// `bench --embedded`: a midge broker in a child process on a free loopback port, for one run.
import {spawn} from 'node:child_process'
import {once} from 'node:events'

export interface EmbeddedBroker {
  host: string
  port: number
  url: string
  pid: number
  /** Its /metrics endpoint (the drop counts by reason), when it was started with one. */
  metricsUrl?: string
  /** SIGTERM, then SIGKILL after two seconds. */
  stop(): Promise<void>
}

/**
 * Starts `argv` (e.g. [node, bin/run.js, 'broker', 'start']) with `--host 127.0.0.1 --port 0 --json`
 * (and, with `metrics`, an HTTP listener on another free port) and waits for the JSON lines with the
 * ports it listens on.
 */
export async function startEmbeddedBroker(argv: string[], options: {timeoutMs?: number; args?: string[]; metrics?: boolean} = {}): Promise<EmbeddedBroker> {
  const [command, ...rest] = argv
  const child = spawn(command, [...rest, '--host', '127.0.0.1', '--port', '0', '--json', '--log-level', 'warn',
    ...(options.metrics ? ['--http-host', '127.0.0.1', '--http-port', '0'] : []), ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, NO_COLOR: '1'},
  })
  let stdout = ''
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000) })
  const exited = once(child, 'exit')
  const listening = await new Promise<{host: string; port: number; metricsUrl?: string}>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`the embedded broker did not start within ${(options.timeoutMs ?? 15_000) / 1000}s: ${stderr.trim()}`)) }, options.timeoutMs ?? 15_000)
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      let mqtt: {host: string; port: number} | undefined
      let http: {url: string} | undefined
      try {
        for (const line of stdout.split('\n')) {
          if (!line.startsWith('{') || !line.endsWith('}')) continue
          const doc = JSON.parse(line) as {protocol?: string; host: string; port: number; url: string}
          if (doc.protocol === 'http') http = doc
          else mqtt ??= doc
        }
      } catch (error) {
        clearTimeout(timer)
        reject(error as Error)
        return
      }
      if (!mqtt || (options.metrics && !http)) return
      clearTimeout(timer)
      resolve({host: mqtt.host, port: mqtt.port, metricsUrl: http ? `${http.url}/metrics` : undefined})
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
