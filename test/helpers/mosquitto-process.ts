// A real `mosquitto` run from a config text on a fixed port, that a test can stop (SIGTERM or
// SIGKILL) and start again on the same port and folder (for persistence, a remote outage, a bridge
// configured in mosquitto.conf). See mosquitto.ts for the ready-made broker most tests use.
import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {connect as netConnect} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {orphanSafe} from './cli.js'
import {freePort} from './mosquitto.js'

export interface MosquittoProcess {
  port: number
  url: string
  dir: string
  log(): string
  /** Stops the process (SIGTERM: Mosquitto saves its persistence file; SIGKILL: it does not). */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts it again with the same config, port and folder. */
  restart(): Promise<void>
  /** Stops it and removes its folder. */
  stop(): Promise<void>
}

/** `config(dir)` gives the lines after `listener PORT 127.0.0.1` (anonymous access is allowed). */
export async function runMosquitto(config: (dir: string) => string[] = () => [], port?: number): Promise<MosquittoProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'midge-mosqp-'))
  const p = port ?? await freePort()
  const lines = ['per_listener_settings false', `user ${userInfo().username}`, `listener ${p} 127.0.0.1`, 'allow_anonymous true', ...config(dir)]
  writeFileSync(join(dir, 'mosquitto.conf'), lines.join('\n') + '\n')
  let child: ChildProcess | undefined
  let log = ''
  const reap = () => { child?.kill('SIGKILL'); rmSync(dir, {recursive: true, force: true}) }
  process.once('exit', reap)
  const start = async () => {
    // never outlives the test process, however it dies (setpriv --pdeathsig: see cli.ts)
    const c = spawn(...orphanSafe('mosquitto', ['-c', join(dir, 'mosquitto.conf')]), {stdio: ['ignore', 'pipe', 'pipe'], cwd: dir})
    child = c
    c.stdout!.setEncoding('utf8').on('data', (d: string) => { log += d })
    c.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d })
    const deadline = Date.now() + 30_000 // only decides how soon a broken start fails
    while (Date.now() < deadline) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited: ${log}`)
      const ok = await new Promise<boolean>((resolve) => {
        const s = netConnect({host: '127.0.0.1', port: p}, () => { s.destroy(); resolve(true) })
        s.on('error', () => resolve(false))
      })
      if (ok) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`mosquitto did not start: ${log}`)
  }
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    const exited = once(c, 'exit')
    c.kill(signal)
    await exited
  }
  await start()
  return {
    port: p, url: `mqtt://127.0.0.1:${p}`, dir,
    log: () => log,
    kill,
    restart: start,
    async stop() {
      await kill('SIGTERM')
      process.off('exit', reap)
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
