import type {ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {collect, spawnMidge, type RunResult} from './cli.js'

export interface MidgeBroker {
  port: number
  url: string
  child: ChildProcess
  /** SIGTERM (or the given signal), then what the process printed and its exit code. */
  stop(signal?: NodeJS.Signals): Promise<RunResult>
}

/** Starts the real `midge broker start` on a free port and waits for its listening line (--json). */
export async function startMidgeBroker(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<MidgeBroker> {
  const child = spawnMidge(['broker', 'start', '--port', '0', '--json', ...args], {env})
  const result = collect(child, 120_000)
  let out = ''
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) {
        child.stdout!.off('data', onData)
        resolve(JSON.parse(line).port)
      }
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`broker exited (${code}) before listening`)))
  })
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal)
        await once(child, 'close').catch(() => undefined)
      }
      return result
    },
  }
}
